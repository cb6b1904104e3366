"""destroy-stack's teardown: clean the cluster, destroy with bounded retries, sweep leftovers, report.

The registry is only changed by the caller, and only when this report says the cloud side is clean
(or what is left was kept on purpose).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from provisioner.config import DeployRequest
from provisioner.engine.base import Engine, EngineResult, ProgressSink, ResourceRecord, ResourcesFailedError
from provisioner.recipe_api import Recipe
from provisioner.teardown.aws_sweep import AwsSweeper, Leftover, SweepResult

SIMULATED_KUBE_API_ENV = "PROVISIONER_SIMULATE_KUBE_API"
DEPENDENCY_ERRORS = re.compile(r"DependencyViolation|has dependencies|is in use|ResourceInUse|InvalidParameterValue.*in use", re.IGNORECASE)


class DestroyAttempt(BaseModel):
    number: int
    ok: bool
    error: str | None = None
    swept: int = 0


class TeardownLimits(BaseModel):
    """Bounds of every wait and retry."""

    attempts: int = 3
    deadline_s: float = 1800
    cluster_timeout_s: float = 300
    sweep_rounds: int = 5


class TeardownReport(BaseModel):
    """What destroy-stack did, what it kept on purpose, and what is still there."""

    stack: str
    engine: str
    simulated: bool
    nothing_to_destroy: bool = False
    cluster: dict[str, Any] | None = None
    attempts: list[DestroyAttempt] = Field(default_factory=list)
    deleted_resources: list[ResourceRecord] = Field(default_factory=list)
    kept_resources: list[ResourceRecord] = Field(default_factory=list)
    swept: list[Leftover] = Field(default_factory=list)
    kept_leftovers: list[Leftover] = Field(default_factory=list)
    remaining: list[Leftover] = Field(default_factory=list)
    sweep_errors: dict[str, str] = Field(default_factory=dict)
    # The cloud could not be checked for leftovers (credentials, network): then nothing is confirmed.
    sweep_failure: str | None = None
    data_retained: bool = False

    @property
    def clean(self) -> bool:
        """Nothing is left except what was kept on purpose, and the cloud side was checked."""
        return not self.remaining and self.sweep_failure is None

    @property
    def billable_remaining(self) -> list[Leftover]:
        return [item for item in self.remaining if item.billable]


def _cluster_target(recipe: Recipe, outputs: dict[str, Any], simulated: bool) -> Any:
    from provisioner.teardown.cluster import ClusterTarget

    if simulated:
        url = os.environ.get(SIMULATED_KUBE_API_ENV)
        return ClusterTarget(server=url) if url else None
    kubeconfig = outputs.get("kubeconfig")
    if kubeconfig:
        return ClusterTarget(kubeconfig=str(kubeconfig))
    context = outputs.get("kube_context")
    if context:
        path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
        if os.path.exists(path):
            with open(path) as handle:
                return ClusterTarget(kubeconfig=handle.read(), context=str(context))
    return None


def _sweeper(recipe: Recipe, request: DeployRequest, outputs: dict[str, Any]) -> AwsSweeper | None:
    if recipe.cloud != "aws":
        return None
    cluster = outputs.get("cluster_name") or request.stack_name
    return AwsSweeper(request.stack_name, request.region or recipe.default_region or "us-east-1", str(cluster))


def teardown(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    sink: ProgressSink,
    *,
    delete_data: bool,
    limits: TeardownLimits | None = None,
    say: Callable[[str], None] | None = None,
    registered: bool = False,
) -> TeardownReport:
    """Run the whole teardown; never raises for leftovers (the report lists them)."""
    limits = limits or TeardownLimits()
    say = say or (lambda _message: None)
    report = TeardownReport(stack=request.stack_name, engine=engine.name, simulated=engine.simulated, data_retained=not delete_data)
    has_state = engine.has_stack(request)
    outputs = {k: v.value for k, v in engine.outputs(request, recipe).items()} if has_state else {}
    with _cloud_session(engine, recipe, request):
        sweeper = _sweeper(recipe, request, outputs)
        try:
            leftovers_before = sweeper.find() if sweeper is not None and not has_state else []
        except Exception as exc:
            report.sweep_failure = f"could not list the stack's resources on {recipe.cloud}: {' '.join(str(exc).split())}"
            sweeper, leftovers_before = None, []
        if not has_state and not registered and not leftovers_before and report.sweep_failure is None:
            report.nothing_to_destroy = True
            return report
        _clean_cluster(recipe, report, outputs, engine, sweeper, limits, say)
        deadline = time.monotonic() + limits.deadline_s
        keep_ids: set[str] = set()
        if delete_data and sweeper is not None:
            for database in sweeper.unlock_databases():
                say(f"Turned deletion protection off on database {database} (--delete-data).")
        if has_state:
            result = _destroy_with_retries(recipe, request, engine, sink, sweeper, report, limits, deadline, delete_data, say)
            keep_ids = {record.message or "" for record in result.kept}
        if sweeper is not None:
            try:
                swept = sweeper.sweep(
                    delete_data=delete_data, keep_ids=keep_ids, deadline_s=max(5.0, deadline - time.monotonic()),
                    max_rounds=limits.sweep_rounds, on_event=say,
                )
            except Exception as exc:
                report.sweep_failure = f"could not sweep leftovers on {recipe.cloud}: {' '.join(str(exc).split())}"
            else:
                _merge_sweep(report, swept)
    return report


def _cloud_session(engine: Engine, recipe: Recipe, request: DeployRequest) -> Any:
    """In simulation, route cloud calls to the emulator with fake credentials."""
    from contextlib import nullcontext

    if engine.simulated and recipe.cloud == "aws":
        from provisioner.engine.simulated import aws_emulation

        return aws_emulation(request.region or recipe.default_region or "us-east-1")
    return nullcontext()


def _clean_cluster(
    recipe: Recipe,
    report: TeardownReport,
    outputs: dict[str, Any],
    engine: Engine,
    sweeper: AwsSweeper | None,
    limits: TeardownLimits,
    say: Callable[[str], None],
) -> None:
    if not recipe.managed_namespaces:
        return
    target = _cluster_target(recipe, outputs, engine.simulated)
    if target is None:
        report.cluster = {"skipped": "no cluster to reach (nothing deployed, or a simulation without a Kubernetes emulator)"}
        return
    from provisioner.teardown.cluster import clean_cluster

    cloud_gone: Callable[[], bool] | None = None
    if sweeper is not None and not engine.simulated:
        # There is no load balancer controller in a simulation: the sweep removes what it left.
        cloud_gone = lambda: not sweeper.cluster_leftovers()  # noqa: E731

    say("Deleting LoadBalancer services and volume claims in the cluster...")
    cleanup = clean_cluster(
        target, list(recipe.managed_namespaces), timeout_s=limits.cluster_timeout_s, on_event=say, cloud_gone=cloud_gone
    )
    report.cluster = cleanup.model_dump(mode="json")


def _destroy_with_retries(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    sink: ProgressSink,
    sweeper: AwsSweeper | None,
    report: TeardownReport,
    limits: TeardownLimits,
    deadline: float,
    delete_data: bool,
    say: Callable[[str], None],
) -> EngineResult:
    for number in range(1, limits.attempts + 1):
        try:
            result = engine.destroy(request, recipe, sink=sink, retain_data=not delete_data)
        except ResourcesFailedError as exc:
            message = " ".join(str(exc).split())
            attempt = DestroyAttempt(number=number, ok=False, error=message)
            report.attempts.append(attempt)
            report.deleted_resources.extend(r for r in (exc.partial.resources if exc.partial else []) if not r.failed)
            retryable = bool(DEPENDENCY_ERRORS.search(message)) and sweeper is not None
            if not retryable or number == limits.attempts or time.monotonic() > deadline:
                raise
            say(f"Destroy attempt {number} failed on dependencies; sweeping what Kubernetes left, then retrying.")
            swept = sweeper.sweep(  # type: ignore[union-attr]
                delete_data=delete_data, deadline_s=max(5.0, deadline - time.monotonic()), max_rounds=limits.sweep_rounds, on_event=say
            )
            attempt.swept = len(swept.deleted)
            report.swept.extend(swept.deleted)
            continue
        report.attempts.append(DestroyAttempt(number=number, ok=True))
        report.deleted_resources.extend(result.resources)
        report.kept_resources = result.kept
        return result
    raise AssertionError("unreachable: the loop returns or raises")


def _merge_sweep(report: TeardownReport, swept: SweepResult) -> None:
    report.swept.extend(swept.deleted)
    report.kept_leftovers = swept.kept
    report.remaining = swept.remaining
    report.sweep_errors = swept.errors
