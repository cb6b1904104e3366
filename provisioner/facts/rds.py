"""RDS for PostgreSQL: the majors offered and the minors retired."""

from __future__ import annotations

from datetime import date

from provisioner.facts import Source

SOURCE = Source(
    title="Amazon RDS for PostgreSQL release calendar and supported versions",
    url="https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html",
    recorded=date(2026, 12, 1),
)
MAJORS = ("14", "15", "16", "17")
DEFAULT_MAJOR = "16"
# Minors RDS no longer creates instances on (partial: the ones this project has met). A create on
# one fails with "Cannot find version 16.4 for postgres".
RETIRED_MINORS = frozenset({"16.1", "16.2", "16.3", "16.4"})


def version_problem(version: str) -> str | None:
    """Why RDS would refuse ``engine_version`` for postgres; None when it is offered (by these facts)."""
    major, _, minor = version.partition(".")
    if major not in MAJORS:
        return f"Cannot find version {version} for postgres (majors offered: {', '.join(MAJORS)})"
    if minor and version in RETIRED_MINORS:
        return f"Cannot find version {version} for postgres (retired; pin the major only, e.g. {major!r})"
    return None
