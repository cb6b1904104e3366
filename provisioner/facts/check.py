"""How old the dated facts are, and whether a default chosen from them is about to lapse.

Staleness is reported, never enforced: ``provisioner facts check`` exits 1 on a problem, a simulated
or offline plan warns in one line, and nothing refuses to run because of a date.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date

from pydantic import BaseModel

from provisioner.errors import InputError
from provisioner.facts import Source

MAX_AGE_DAYS = 120
DEFAULT_LAPSE_DAYS = 60
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(text: str, what: str) -> date:
    """A YYYY-MM-DD date; anything else is a one-line InputError naming ``what``."""
    if _DAY.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InputError(f"{what} must be a date like 2026-12-01 (got {text!r})")


class FactAge(BaseModel):
    """One fact source and its age on the as-of date."""

    module: str
    title: str
    url: str
    recorded: date
    age_days: int
    stale: bool


class FactsReport(BaseModel):
    """Every fact source with its age, and one line per problem found."""

    as_of: date
    max_age_days: int = MAX_AGE_DAYS
    facts: list[FactAge]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def sources() -> list[tuple[str, Source]]:
    """(module, source) for each distinct SOURCE / SOURCES of every module of provisioner.facts."""
    import provisioner.facts as package

    found: dict[Source, str] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        single = getattr(module, "SOURCE", None)
        for source in (*((single,) if single else ()), *getattr(module, "SOURCES", ())):
            found.setdefault(source, info.name)
    return [(module, source) for source, module in found.items()]


def _default_problems(on: date) -> list[str]:
    """Defaults chosen from the facts that reach their end of support within DEFAULT_LAPSE_DAYS of ``on``."""
    from provisioner.facts import eks

    try:
        version = eks.find(eks.default_version(on))
    except LookupError as exc:
        return [f"EKS default version: {exc}"]
    assert version is not None
    left = (version.end_of_standard - on).days
    if left > DEFAULT_LAPSE_DAYS:
        return []
    return [
        (
            f"EKS default version {version.version} reaches the end of standard support on {version.end_of_standard} "
            f"({left} days after {on}): record the newer EKS calendar in provisioner/facts/eks.py"
        )
    ]


def check(on: date) -> FactsReport:
    """Age every fact source on ``on`` and look for defaults about to lapse."""
    facts = [
        FactAge(
            module=module, title=source.title, url=source.url, recorded=source.recorded,
            age_days=source.age_days(on), stale=source.age_days(on) > MAX_AGE_DAYS,
        )
        for module, source in sources()
    ]
    problems = [
        f"{fact.module}: {fact.title!r} was recorded {fact.recorded}, {fact.age_days} days before {on} "
        f"(older than {MAX_AGE_DAYS}): re-read {fact.url}"
        for fact in facts if fact.stale
    ]
    return FactsReport(as_of=on, facts=facts, problems=[*problems, *_default_problems(on)])


def stale_warning(on: date) -> str | None:
    """One line for a simulated or offline plan when the facts have a problem on ``on``; None when fine."""
    report = check(on)
    if report.ok:
        return None
    return (
        f"warning: the dated facts behind this plan have {len(report.problems)} problem(s) on {on}; "
        "run `provisioner facts check` for the list"
    )
