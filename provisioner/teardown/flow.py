"""destroy-stack's teardown: clean the cluster, destroy with bounded retries, sweep leftovers, report.

The registry is only changed by the caller, and only when this report says the cloud side is clean
(or what is left was kept on purpose).
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, computed_field

from provisioner.config import DeployRequest
from provisioner.engine.base import Engine, EngineResult, Ownership, ProgressSink, ResourceRecord, ResourcesFailedError
from provisioner.recipe_api import Recipe, cloud_of
from provisioner.teardown.aws_sweep import AwsSweeper
from provisioner.teardown.sweep_report import Leftover, RoundSweeper, SweepResult, SweepScope

SIMULATED_KUBE_API_ENV = "PROVISIONER_SIMULATE_KUBE_API"
# The project the gcp recipe deploys to under --simulate (recipes/gcp/recipe.py SIMULATED_PROJECT).
SIMULATED_GCP_PROJECT = "provisioner-simulated"
DEPENDENCY_ERRORS = re.compile(
    r"DependencyViolation|has dependencies|is in use|ResourceInUse|InvalidParameterValue.*in use|resourceInUseByAnotherResource|already being used by",
    re.IGNORECASE,
)


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
    # The deployment this teardown acted on (None: no state, or a stack deployed before deployment ids).
    deployment_id: str | None = None
    adopted: bool = False
    # Without state: what carries the stack's tags elsewhere (other homes, other backends); never deleted.
    found_elsewhere: list[Leftover] = Field(default_factory=list)
    registry_deployment_id: str | None = None
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
    # Where the leftover sweep looked (None: no sweep, e.g. a recipe with no cloud resources of its own).
    sweep_target: str | None = None
    # How many API calls the sweep made, when its sweeper counts them (GCP).
    sweep_calls: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def data_retained(self) -> bool:
        """Whether data really was kept: a kept bucket, database or snapshot, never a mere intention."""
        return any(_is_data_type(r.type) for r in self.kept_resources) or any(item.data for item in self.kept_leftovers)

    @property
    def clean(self) -> bool:
        """Nothing is left except what was kept on purpose, and the cloud side was checked."""
        return not self.remaining and self.sweep_failure is None

    @property
    def billable_remaining(self) -> list[Leftover]:
        return [item for item in self.remaining if item.billable]


def _retains_claims(recipe: Recipe, delete_data: bool) -> bool:
    """Whether this destroy keeps volume claims as data (the kubernetes recipe in prod)."""
    return not delete_data and recipe.retention is not None and "kubernetes:core/v1:PersistentVolumeClaim" in recipe.retention.data_types


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


def _is_data_type(resource_type: str) -> bool:
    return resource_type in DATA_TYPES


# Pulumi types that hold data, across recipes (what the report counts as data kept).
DATA_TYPES = frozenset({
    "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "aws:rds/instance:Instance",
    "gcp:sql/databaseInstance:DatabaseInstance", "gcp:storage/bucket:Bucket",
    "kubernetes:core/v1:PersistentVolumeClaim",
})


def _region(recipe: Recipe, request: DeployRequest) -> str:
    return request.region or recipe.default_region or "us-east-1"


def _scope(request: DeployRequest, ownership: Ownership, outputs: dict[str, Any]) -> SweepScope | None:
    """The sweep's scope from our own state: its deployment id, its clusters and their VPCs."""
    if not ownership.deployment_id:
        return None  # deployed before deployment ids: destroy by state only, never by tags
    clusters = tuple(ownership.ids_of("aws:eks/cluster:Cluster"))
    vpcs = set(ownership.ids_of("aws:ec2/vpc:Vpc"))
    if clusters and outputs.get("vpc_id"):
        vpcs.add(str(outputs["vpc_id"]))  # a brought-your-own VPC: our cluster's load balancers live there
    return SweepScope(request.stack_name, ownership.deployment_id, clusters, tuple(sorted(vpcs)))


def survey(recipe: Recipe, request: DeployRequest, engine: Engine) -> list[Leftover]:
    """What carries the stack's tag (or label) in the cloud, read resource by resource; deletes nothing."""
    cloud = cloud_of(recipe)
    if cloud not in ("aws", "gcp"):
        return []
    with _cloud_session(engine, recipe, request) as session:
        if cloud == "gcp":
            sweeper: RoundSweeper = _gcp_sweeper(recipe, request, engine, session, None, {})
        else:
            sweeper = AwsSweeper(None, _region(recipe, request), survey_stack=request.stack_name)
        try:
            return sweeper.find()
        finally:
            sweeper.close()


def adoption_candidates(recipe: Recipe, request: DeployRequest, engine: Engine, deployment_id: str) -> list[Leftover]:
    """What ``--adopt DEPLOYMENT_ID`` would delete: resources with that id, and what its clusters made."""
    cloud = cloud_of(recipe)
    if cloud not in ("aws", "gcp"):
        return []
    with _cloud_session(engine, recipe, request) as session:
        if cloud == "gcp":
            scope = SweepScope(request.stack_name, deployment_id)
            sweeper: RoundSweeper = _gcp_sweeper(recipe, request, engine, session, scope, {}, adopting=True)
        else:
            sweeper = _adoption_sweeper(recipe, request, deployment_id)
        try:
            return sweeper.find()
        finally:
            sweeper.close()


@dataclass(frozen=True)
class CloudSession:
    """Where the cloud calls of a teardown go: a description, and the GCP endpoints (None: the real ones)."""

    where: str
    gcp_endpoints: Any = None


def _gcp_project(request: DeployRequest, outputs: dict[str, Any], simulated: bool) -> str:
    configured = request.args.get("project")
    project = outputs.get("project") or (configured if isinstance(configured, str) else "") or os.environ.get("GOOGLE_CLOUD_PROJECT")
    return str(project or (SIMULATED_GCP_PROJECT if simulated else ""))


def _gcp_sweeper(
    recipe: Recipe, request: DeployRequest, engine: Engine, session: CloudSession, scope: SweepScope | None, outputs: dict[str, Any],
    *, adopting: bool = False,
) -> RoundSweeper:
    """A GCP sweeper for the stack's project and region, on the session's endpoints (real ones: google-auth credentials)."""
    from provisioner.teardown.gcp_sweep import GcpSweeper, google_auth

    project = _gcp_project(request, outputs, engine.simulated)
    if not project:
        raise RuntimeError("no GCP project to sweep: set GOOGLE_CLOUD_PROJECT or --set project=ID")
    auth = None if session.gcp_endpoints is not None else google_auth()
    survey_stack = request.stack_name if scope is None else None
    # Adopting (no state behind the scope): what takes no labels cannot be proven ours, only reported.
    unproven = f"{request.stack_name}-" if adopting else None
    return GcpSweeper(
        scope, project, _region(recipe, request), survey_stack=survey_stack, unproven_prefix=unproven, endpoints=session.gcp_endpoints, auth=auth
    )


def _sweep_target(recipe: Recipe, request: DeployRequest, engine: Engine, session: CloudSession, outputs: dict[str, Any]) -> str:
    region = _region(recipe, request)
    if cloud_of(recipe) == "gcp":
        return f"GCP project {_gcp_project(request, outputs, engine.simulated)} (region {region}) through {session.where}"
    return f"AWS region {region}" + (" in moto" if engine.simulated else "")


def _adoption_sweeper(recipe: Recipe, request: DeployRequest, deployment_id: str) -> AwsSweeper:
    region = _region(recipe, request)
    probe = AwsSweeper(SweepScope(request.stack_name, deployment_id), region)
    owned = probe.find()
    clusters = tuple(item.id for item in owned if item.kind == "eks-cluster")
    vpcs = tuple(item.id for item in owned if item.kind == "vpc")
    scope = SweepScope(request.stack_name, deployment_id, clusters, vpcs)
    zones = AwsSweeper(scope, region).cluster_zones([item.id for item in owned if item.kind == "subnet"])
    return AwsSweeper(dataclasses.replace(scope, zones=zones), region)


def teardown(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    sink: ProgressSink,
    *,
    delete_data: bool,
    limits: TeardownLimits | None = None,
    say: Callable[[str], None] | None = None,
    adopt: str | None = None,
    registry_deployment_id: str | None = None,
    ownership: Ownership | None = None,
) -> TeardownReport:
    """Run the whole teardown; never raises for leftovers (the report lists them).

    Only what our own state lists is destroyed, and the sweep takes only what carries our
    deployment id. Without state, nothing is deleted unless ``adopt`` names a deployment id.
    """
    limits = limits or TeardownLimits()
    say = say or (lambda _message: None)
    report = TeardownReport(
        stack=request.stack_name, engine=engine.name, simulated=engine.simulated, registry_deployment_id=registry_deployment_id
    )
    ownership = ownership if ownership is not None else engine.ownership(request)
    if ownership is None and adopt is None:
        try:
            report.found_elsewhere = survey(recipe, request, engine)
        except Exception as exc:
            report.sweep_failure = f"could not survey the stack's tags on {cloud_of(recipe)}: {' '.join(str(exc).split())}"
        report.nothing_to_destroy = report.sweep_failure is None
        return report
    outputs = {k: v.value for k, v in engine.outputs(request, recipe).items()} if ownership is not None else {}
    with _cloud_session(engine, recipe, request) as session:
        sweeper: RoundSweeper | None = None
        if ownership is not None:
            report.deployment_id = ownership.deployment_id
        if cloud_of(recipe) == "aws":
            if ownership is not None:
                scope = _scope(request, ownership, outputs)
                if scope is not None:
                    zones = AwsSweeper(scope, _region(recipe, request)).cluster_zones(ownership.ids_of("aws:ec2/subnet:Subnet"))
                    sweeper = AwsSweeper(dataclasses.replace(scope, zones=zones), _region(recipe, request))
            else:
                sweeper = _adoption_sweeper(recipe, request, str(adopt))
                report.deployment_id, report.adopted = adopt, True
        elif cloud_of(recipe) == "gcp":
            gcp_scope: SweepScope | None = None
            if ownership is None:
                gcp_scope = SweepScope(request.stack_name, str(adopt))
                report.deployment_id, report.adopted = adopt, True
            elif ownership.deployment_id:
                # The ids our state holds now: the only proof for what takes no labels (networks, service accounts).
                owned = tuple(resource.id for resource in ownership.resources)
                gcp_scope = SweepScope(request.stack_name, ownership.deployment_id, owned_ids=owned)
            if gcp_scope is not None:
                try:
                    sweeper = _gcp_sweeper(recipe, request, engine, session, gcp_scope, outputs, adopting=ownership is None)
                except Exception as exc:  # no credentials or no google-auth: destroy still runs, the report says it is unchecked
                    report.sweep_failure = f"could not sweep leftovers on gcp: {' '.join(str(exc).split())}"
        if sweeper is not None:
            report.sweep_target = _sweep_target(recipe, request, engine, session, outputs)
        try:
            _teardown_in_session(recipe, request, engine, sink, report, sweeper, outputs, ownership, delete_data, limits, say)
        finally:
            if sweeper is not None:
                report.sweep_calls = sweeper.calls
                sweeper.close()
    return report


def _teardown_in_session(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    sink: ProgressSink,
    report: TeardownReport,
    sweeper: RoundSweeper | None,
    outputs: dict[str, Any],
    ownership: Ownership | None,
    delete_data: bool,
    limits: TeardownLimits,
    say: Callable[[str], None],
) -> None:
    """Clean the cluster, unlock data if asked, destroy what the state lists, then sweep."""
    _clean_cluster(recipe, report, outputs, engine, sweeper, limits, say, keep_claims=_retains_claims(recipe, delete_data))
    deadline = time.monotonic() + limits.deadline_s
    keep_ids: set[str] = set()
    if delete_data and sweeper is not None:
        for database in sweeper.unlock_databases():
            say(f"Turned deletion protection off on database {database} (--delete-data).")
    if ownership is not None:
        result = _destroy_with_retries(recipe, request, engine, sink, sweeper, report, limits, deadline, delete_data, say)
        keep_ids = {record.message or "" for record in result.kept}
    if sweeper is not None:
        try:
            swept = sweeper.sweep(
                delete_data=delete_data, keep_ids=keep_ids, deadline_s=max(5.0, deadline - time.monotonic()),
                max_rounds=limits.sweep_rounds, on_event=say,
            )
        except Exception as exc:
            report.sweep_failure = f"could not sweep leftovers on {cloud_of(recipe)}: {' '.join(str(exc).split())}"
        else:
            _merge_sweep(report, swept)


@contextmanager
def _cloud_session(engine: Engine, recipe: Recipe, request: DeployRequest) -> Iterator[CloudSession]:
    """In simulation, route cloud calls to the emulators: moto for AWS, the fake GCP API (served for this command) for GCP."""
    cloud = cloud_of(recipe)
    if engine.simulated and cloud == "aws":
        from provisioner.engine.simulated import aws_emulation

        with aws_emulation(request.region or recipe.default_region or "us-east-1") as where:
            yield CloudSession(where)
    elif engine.simulated and cloud == "gcp":
        from provisioner.engine.emulators.gcp_api.server import FakeGcpServer
        from provisioner.teardown.gcp_sweep import GcpEndpoints

        with FakeGcpServer() as server:
            yield CloudSession("the simulated GCP API on 127.0.0.1", GcpEndpoints.all_at(server.url))
    else:
        yield CloudSession("the GCP APIs" if cloud == "gcp" else "the cloud's APIs")


def _clean_cluster(
    recipe: Recipe,
    report: TeardownReport,
    outputs: dict[str, Any],
    engine: Engine,
    sweeper: RoundSweeper | None,
    limits: TeardownLimits,
    say: Callable[[str], None],
    *,
    keep_claims: bool = False,
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

    say("Deleting LoadBalancer services" + (" (volume claims are kept: they hold the data)" if keep_claims else " and volume claims") + " in the cluster...")
    cleanup = clean_cluster(
        target, list(recipe.managed_namespaces), timeout_s=limits.cluster_timeout_s, on_event=say, cloud_gone=cloud_gone,
        keep_claims=keep_claims,
    )
    report.cluster = cleanup.model_dump(mode="json")


def _destroy_with_retries(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    sink: ProgressSink,
    sweeper: RoundSweeper | None,
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
