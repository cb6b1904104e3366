"""Cloud SQL editions and the machine tiers each accepts."""

from __future__ import annotations

import re
from datetime import date

from provisioner.facts import Source

SOURCE = Source(
    title="Cloud SQL for PostgreSQL: editions overview and machine series",
    url="https://cloud.google.com/sql/docs/postgres/editions-intro",
    recorded=date(2026, 12, 1),
)
# From PostgreSQL 16 on, an instance without an edition is ENTERPRISE_PLUS.
ENTERPRISE_PLUS_DEFAULT_FROM = 16
CUSTOM_TIER = re.compile(r"^db-custom-\d+-\d+$")
ENTERPRISE_PLUS_TIER = re.compile(r"^db-perf-optimized-N-\d+$")


def edition_of(database_version: str, edition: str | None) -> str:
    """The edition an instance gets: the one asked for, else the version's default."""
    if edition:
        return edition
    match = re.match(r"^POSTGRES_(\d+)$", database_version)
    return "ENTERPRISE_PLUS" if match and int(match.group(1)) >= ENTERPRISE_PLUS_DEFAULT_FROM else "ENTERPRISE"


def tier_problem(database_version: str, edition: str | None, tier: str) -> str | None:
    """Why Cloud SQL would refuse ``tier`` for the instance's edition; None when it takes it."""
    effective = edition_of(database_version, edition)
    if effective == "ENTERPRISE_PLUS" and not ENTERPRISE_PLUS_TIER.match(tier):
        return f"Invalid Tier ({tier}) for (ENTERPRISE_PLUS) Edition; custom tiers need edition ENTERPRISE"
    if effective == "ENTERPRISE" and ENTERPRISE_PLUS_TIER.match(tier):
        return f"Invalid Tier ({tier}) for (ENTERPRISE) Edition"
    return None
