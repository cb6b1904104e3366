"""How long a deploy will take: the critical path through the plan's dependency graph, timed by a dated table.

Resources that stay the same cost nothing; everything else takes its type's typical create, update or
replace time (``provisioner/data/resource_durations.yaml``). What runs in parallel overlaps, as in Pulumi:
the deploy takes as long as its longest chain of dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from provisioner.engine.base import Op, ResourceRecord

TABLE = Path(__file__).resolve().parent / "data" / "resource_durations.yaml"


class DeployEstimate(BaseModel):
    """The expected wall time and the resources on the critical path, first to last."""

    seconds: int
    path: list[str]
    as_of: str

    def describe(self) -> str:
        minutes = max(1, round(self.seconds / 60))
        return f"Expected wall time: about {minutes} min, along {' -> '.join(self.path)} (typical durations as of {self.as_of})."


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(TABLE.read_text()))


def duration(record: ResourceRecord, op: Op | None = None) -> int:
    """Seconds for this resource's operation (0 when it stays the same)."""
    op = op or record.op
    if op in (Op.SAME, Op.READ):
        return 0
    table = _table()
    row = table["types"].get(_variant(record)) or table["types"].get(record.type) or table["default"]
    if op is Op.REPLACE:
        return int(row["create"]) + int(row["delete"])
    return int(row["delete" if op is Op.DELETE else "create" if op is Op.CREATE else "update"])


def _variant(record: ResourceRecord) -> str:
    inputs: Mapping[str, Any] = record.inputs or {}
    if record.type == "aws:rds/instance:Instance" and inputs.get("multiAz") is True:
        return f"{record.type}#multi_az"
    if record.type == "gcp:sql/databaseInstance:DatabaseInstance" and (inputs.get("settings") or {}).get("availabilityType") == "REGIONAL":
        return f"{record.type}#regional"
    if record.type == "kubernetes:core/v1:Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer":
        return f"{record.type}#load_balancer"
    return record.type


def critical_path(records: Sequence[ResourceRecord]) -> DeployEstimate:
    """The longest chain of dependencies, each resource timed by its planned operation."""
    by_urn = {r.urn: r for r in records}
    finish: dict[str, tuple[int, list[str]]] = {}

    def visit(urn: str, trail: frozenset[str]) -> tuple[int, list[str]]:
        if urn in finish:
            return finish[urn]
        record = by_urn[urn]
        before = [visit(d, trail | {urn}) for d in record.dependencies if d in by_urn and d not in trail]
        start, path = max(before, default=(0, []), key=lambda item: item[0])
        own = duration(record)
        finish[urn] = (start + own, [*path, record.name] if own else path)
        return finish[urn]

    best = max((visit(urn, frozenset()) for urn in by_urn), default=(0, []), key=lambda item: item[0])
    return DeployEstimate(seconds=best[0], path=best[1], as_of=str(_table()["as_of"]))
