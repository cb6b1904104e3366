"""EKS Kubernetes versions and their support calendar."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from provisioner.facts import Source

SOURCE = Source(
    title="Amazon EKS user guide: Kubernetes version lifecycle (standard and extended support calendar)",
    url="https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
    recorded=date(2026, 12, 1),
)
# Cluster-hour prices: standard support, and extended support (which EKS applies automatically).
PRICING_SOURCE = Source(
    title="Amazon EKS pricing", url="https://aws.amazon.com/eks/pricing/", recorded=date(2026, 12, 1)
)
STANDARD_HOURLY_USD = 0.10
EXTENDED_HOURLY_USD = 0.60

Support = Literal["standard", "extended", "unsupported", "unreleased"]


class EksVersion(BaseModel):
    """One Kubernetes minor on EKS: 14 months of standard support, then 12 of extended."""

    model_config = ConfigDict(frozen=True)

    version: str
    released: date
    end_of_standard: date
    end_of_extended: date

    def support(self, on: date) -> Support:
        if on < self.released:
            return "unreleased"
        if on <= self.end_of_standard:
            return "standard"
        if on <= self.end_of_extended:
            return "extended"
        return "unsupported"


VERSIONS: tuple[EksVersion, ...] = (
    EksVersion(version="1.31", released=date(2024, 9, 26), end_of_standard=date(2025, 11, 26), end_of_extended=date(2026, 11, 26)),
    EksVersion(version="1.32", released=date(2025, 1, 23), end_of_standard=date(2026, 3, 23), end_of_extended=date(2027, 3, 23)),
    EksVersion(version="1.33", released=date(2025, 5, 29), end_of_standard=date(2026, 7, 29), end_of_extended=date(2027, 7, 29)),
    EksVersion(version="1.34", released=date(2025, 10, 2), end_of_standard=date(2026, 12, 2), end_of_extended=date(2027, 12, 2)),
    EksVersion(version="1.35", released=date(2026, 1, 27), end_of_standard=date(2027, 3, 27), end_of_extended=date(2028, 3, 27)),
)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def find(version: str) -> EksVersion | None:
    return next((v for v in VERSIONS if v.version == version), None)


def in_support(on: date, *, extended: bool = False) -> list[EksVersion]:
    """The versions EKS creates clusters on at ``on``: standard support only, or extended too. Newest first."""
    wanted = {"standard", "extended"} if extended else {"standard"}
    return sorted((v for v in VERSIONS if v.support(on) in wanted), key=lambda v: _key(v.version), reverse=True)


def default_version(on: date) -> str:
    """The newest version in standard support at ``on``."""
    supported = in_support(on)
    if not supported:
        raise LookupError(f"no EKS version in standard support on {on} in the recorded calendar ({SOURCE.recorded})")
    return supported[0].version


def version_problem(version: str, on: date, *, allow_extended_support: bool) -> str | None:
    """Why EKS would not take ``version`` at ``on`` (or would bill it at the extended rate unasked); None if fine."""
    known = find(version)
    standard = ", ".join(v.version for v in in_support(on))
    if known is None:
        oldest = min(VERSIONS, key=lambda v: _key(v.version))
        if _key(version) < _key(oldest.version):
            return (
                f"Kubernetes {version} is older than {oldest.version}, whose EKS extended support ended "
                f"{oldest.end_of_extended}: EKS creates no clusters on it (in standard support: {standard})"
            )
        return f"EKS has no Kubernetes {version} in the calendar recorded {SOURCE.recorded} (in standard support: {standard})"
    support = known.support(on)
    if support == "unreleased":
        return f"Kubernetes {version} is not released on EKS until {known.released} (in standard support: {standard})"
    if support == "unsupported":
        return (
            f"Kubernetes {version} reached the end of EKS extended support on {known.end_of_extended}: "
            f"EKS creates no clusters on it (in standard support: {standard})"
        )
    if support == "extended" and not allow_extended_support:
        return (
            f"Kubernetes {version} left EKS standard support on {known.end_of_standard} and costs "
            f"${EXTENDED_HOURLY_USD:.2f} instead of ${STANDARD_HOURLY_USD:.2f} per cluster-hour in extended support "
            f"(until {known.end_of_extended}): pick one of {standard}, or set cluster.allow_extended_support=true"
        )
    return None
