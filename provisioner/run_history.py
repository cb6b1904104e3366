"""Turn what a deploy or destroy did into the registry's history entry, and keep it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from provisioner.config import DeployRequest
from provisioner.engine.base import ProgressSink, ResourceRecord
from provisioner.errors import ProvisionerError
from provisioner.registry.history import DeploymentRun, ResourceTiming

if TYPE_CHECKING:
    from provisioner.registry.service import Registry
    from provisioner.teardown.flow import TeardownReport


def now() -> datetime:
    return datetime.now(timezone.utc)


def timings(records: Sequence[ResourceRecord]) -> list[ResourceTiming]:
    """The real durations the engine measured (none for a simulated run)."""
    return [ResourceTiming(type=r.type, op=r.op.value, seconds=round(r.seconds, 1))
            for r in records if r.seconds is not None and not r.failed]


def teardown_summary(report: TeardownReport) -> dict[str, Any]:
    """A destroy's report as the history keeps it: what went, what was kept on purpose, what is left over."""

    def resource(record: ResourceRecord) -> dict[str, str]:
        return {"name": record.name, "type": record.type}

    def leftover(item: Any) -> dict[str, Any]:
        return {"kind": item.kind, "id": item.id, "region": item.region, "monthly_cost": item.monthly_cost}

    return {
        "clean": report.clean,
        "nothing_to_destroy": report.nothing_to_destroy,
        "deleted": [resource(r) for r in report.deleted_resources if not r.failed],
        "kept": [resource(r) for r in report.kept_resources] + [leftover(i) for i in report.kept_leftovers],
        "swept": [leftover(i) for i in report.swept],
        "left_over": [leftover(i) for i in report.remaining],
        "left_over_monthly_cost": round(sum(i.monthly_cost or 0.0 for i in report.remaining), 2),
        "sweep_failure": report.sweep_failure,
        "data_retained": report.data_retained,
    }


def keep_run(registry: Registry, request: DeployRequest, *, kind: Literal["deploy", "destroy", "drift"], engine: str,
             simulated: bool, started_at: datetime, error: str | None = None, counts: dict[str, int] | None = None,
             monthly_cost_usd: float | None = None, records: Sequence[ResourceRecord] = (),
             report: dict[str, Any] | None = None, sink: ProgressSink | None = None) -> None:
    """Record the run in the stack's history; a failure to record is a note, never the run's failure."""
    run = DeploymentRun(
        stack=request.stack_name, kind=kind, recipe=request.recipe, env=request.env, region=request.region, engine=engine, simulated=simulated,
        started_at=started_at, finished_at=now(), result="failed" if error else "succeeded", error=error,
        counts=counts or {}, monthly_cost_usd=monthly_cost_usd, timings=timings(records), report=report,
    )
    try:
        registry.record_run(run)
    except ProvisionerError as exc:
        if sink is not None:
            sink.note(f"the deployment history was not updated: {exc}")


def keep_drift_check(registry: Registry, request: DeployRequest, *, engine: str, simulated: bool, started_at: datetime,
                     drifted: int) -> None:
    """Record a drift check (``stack drift``, ``deploy-stack --plan --refresh``), so pages can show when and what it found."""
    keep_run(registry, request, kind="drift", engine=engine, simulated=simulated, started_at=started_at,
             counts={"drifted": drifted})
