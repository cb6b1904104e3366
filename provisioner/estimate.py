"""How long a deploy will take: the critical path through the plan's dependency graph, timed by a dated table.

Resources that stay the same cost nothing; everything else takes its type's typical create, update or
replace time: the median of the user's own real runs when the registry has some for that type and
operation, else the dated table (``provisioner/data/resource_durations.yaml``). What runs in parallel
overlaps, as in Pulumi: the deploy takes as long as its longest chain of dependencies.
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
    measured: list[str] = []  # the path's resources timed by the user's own runs, not the table

    def describe(self) -> str:
        minutes = max(1, round(self.seconds / 60))
        source = f"typical durations as of {self.as_of}"
        if self.measured:
            source = f"{len(self.measured)} of {len(self.path)} step(s) timed by your own runs, the rest from {source}"
        return f"Expected wall time: about {minutes} min, along {' -> '.join(self.path)} ({source})."


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(TABLE.read_text()))


def duration(record: ResourceRecord, op: Op | None = None, observed: Mapping[str, float] | None = None) -> int:
    """Seconds for this resource's operation (0 when it stays the same): the user's median, else the table."""
    op = op or record.op
    if op in (Op.SAME, Op.READ):
        return 0
    mine = measured(record, op, observed or {})
    if mine is not None:
        return mine
    table = _table()
    row = table["types"].get(_variant(record)) or table["types"].get(record.type) or table["default"]
    if op is Op.REPLACE:
        return int(row["create"]) + int(row["delete"])
    return int(row["delete" if op is Op.DELETE else "create" if op is Op.CREATE else "update"])


def measured(record: ResourceRecord, op: Op, observed: Mapping[str, float]) -> int | None:
    """The user's median for this type and operation (a replace is its create and delete), or None."""
    if op is Op.REPLACE:
        create, delete = observed.get(f"{record.type}#create"), observed.get(f"{record.type}#delete")
        return round(create + delete) if create is not None and delete is not None else None
    value = observed.get(f"{record.type}#{op.value}")
    return round(value) if value is not None else None


def _variant(record: ResourceRecord) -> str:
    inputs: Mapping[str, Any] = record.inputs or {}
    if record.type == "aws:rds/instance:Instance" and inputs.get("multiAz") is True:
        return f"{record.type}#multi_az"
    if record.type == "gcp:sql/databaseInstance:DatabaseInstance" and (inputs.get("settings") or {}).get("availabilityType") == "REGIONAL":
        return f"{record.type}#regional"
    if record.type == "kubernetes:core/v1:Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer":
        return f"{record.type}#load_balancer"
    return record.type


def critical_path(records: Sequence[ResourceRecord], observed: Mapping[str, float] | None = None) -> DeployEstimate:
    """The longest chain of dependencies, each resource timed by its planned operation.

    ``observed`` holds the user's median seconds per ``type#op`` (the registry's real runs); they win over the table.
    """
    observed = observed or {}
    by_urn = {r.urn: r for r in records}
    finish: dict[str, tuple[int, list[str]]] = {}

    def visit(urn: str, trail: frozenset[str]) -> tuple[int, list[str]]:
        if urn in finish:
            return finish[urn]
        record = by_urn[urn]
        before = [visit(d, trail | {urn}) for d in record.dependencies if d in by_urn and d not in trail]
        start, path = max(before, default=(0, []), key=lambda item: item[0])
        own = duration(record, observed=observed)
        finish[urn] = (start + own, [*path, record.name] if own else path)
        return finish[urn]

    best = max((visit(urn, frozenset()) for urn in by_urn), default=(0, []), key=lambda item: item[0])
    names = {r.name: r for r in records}
    mine = [name for name in best[1] if measured(names[name], names[name].op, observed) is not None]
    return DeployEstimate(seconds=best[0], path=best[1], as_of=str(_table()["as_of"]), measured=mine)
