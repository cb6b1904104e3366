"""deploy and destroy: resolve, run the engine, then register or unregister, in that order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from provisioner.config import DeployRequest
from provisioner.costs import CostEstimate, estimate
from provisioner.estimate import DeployEstimate, critical_path
from provisioner.engine.base import (
    DriftItem,
    Engine,
    EngineResult,
    NullSink,
    Op,
    OutputValue,
    Ownership,
    ProgressSink,
    ResourceRecord,
)
from provisioner.errors import (
    ConflictError,
    InputError,
    OperationFailedError,
    ProvisionerError,
)
from provisioner.recipe_api import LABEL_ENV, Recipe, RecipeArgs, cloud_of
from provisioner.registry.service import DeploymentRecord, Registry
from provisioner.run_history import keep_run, now, teardown_summary
from provisioner.secrets import MASK
from provisioner.teardown.flow import TeardownLimits, TeardownReport, teardown


class DeployOutcome(BaseModel):
    """What deploy-stack did; secret outputs are masked unless asked for."""

    stack: str
    recipe: str
    env: str
    region: str | None
    engine: str
    simulated: bool
    preview: bool
    emulator: str | None = None
    resource_counts: dict[str, int]
    resources: list[ResourceRecord]
    outputs: dict[str, OutputValue]
    registered: DeploymentRecord | None = None
    summary: list[str] = Field(default_factory=list)
    data_loss: list[str] = Field(default_factory=list)  # a prod plan's data resources that would be replaced or deleted
    drift: list[DriftItem] | None = None  # with --refresh: what changed outside the tool (None: not asked)
    deploy_estimate: DeployEstimate | None = None  # a plan's expected wall time and critical path
    zenml_push: dict[str, Any] | None = None  # what --push-zenml did
    cost_estimate: CostEstimate | None = None
    # A plan's own update plan from the engine (Pulumi's), for a saved plan file; never printed.
    update_plan: dict[str, Any] | None = Field(None, exclude=True, repr=False)
    deployment_id: str | None = None  # the deployment's id (a plan of a new stack: the id it would get)


class DestroyOutcome(BaseModel):
    """What destroy-stack did: the teardown report, and what was unregistered."""

    report: TeardownReport
    unregistered: DeploymentRecord | None = None
    stack_removed: bool = False
    zenml_removed: list[str] = Field(default_factory=list)  # what `stack push` had created in ZenML, now deleted
    zenml_kept: str | None = None  # why the push record was kept (ZenML unreachable), with the retry command

    @property
    def nothing_to_destroy(self) -> bool:
        return self.report.nothing_to_destroy


def _remove_from_zenml(registry: Registry, stack_name: str, outcome: DestroyOutcome) -> None:
    """Delete what `stack push` created in ZenML; if that fails, keep the record and say how to retry."""
    if registry.zenml_push(stack_name) is None:
        return
    from provisioner.errors import ProvisionerError
    from provisioner.zenml.push import unpush_stack

    try:
        outcome.zenml_removed = unpush_stack(registry, stack_name)
    except ProvisionerError as exc:
        outcome.zenml_kept = f"{exc} - kept the ZenML push record; retry with: provisioner stack unpush {stack_name}"


class RegistrationFailedError(OperationFailedError):
    """The cloud side was deployed but registering it failed; a rerun or destroy recovers."""


def masked_outputs(outputs: dict[str, OutputValue], show_secrets: bool) -> dict[str, OutputValue]:
    if show_secrets:
        return outputs
    return {k: OutputValue(value=MASK, secret=True) if v.secret else v for k, v in outputs.items()}


def deploy(
    recipe: Recipe,
    request: DeployRequest,
    args: RecipeArgs,
    engine: Engine,
    registry: Registry,
    sink: ProgressSink,
    *,
    preview: bool = False,
    show_secrets: bool = False,
    preflight: bool = True,
    allow_data_replacement: str | None = None,
    expect_plan: Callable[[list[ResourceRecord]], None] | None = None,
    update_plan: dict[str, Any] | None = None,
    want_update_plan: bool = False,
) -> DeployOutcome:
    """Run the recipe through the engine, then register its outputs in one transaction.

    A real (not simulated) deploy runs the read-only preflight first, unless ``preflight`` is False.
    In prod, a deploy that would replace or delete a data resource is refused before anything changes,
    unless ``allow_data_replacement`` is the stack's name. ``expect_plan`` sees a fresh preview under the
    stack's lock before anything changes, and raises to refuse (a saved plan that no longer holds);
    ``update_plan`` is that saved plan's engine update plan, which the update must then follow.
    ``want_update_plan`` asks a preview for the engine's update plan (``DeployOutcome.update_plan``).
    """
    if allow_data_replacement is not None and allow_data_replacement != request.stack_name:
        raise InputError(
            f"--allow-data-replacement takes the stack's name, typed out: {request.stack_name!r}, not {allow_data_replacement!r}"
        )
    recipe.check(args, simulated=engine.simulated, region=request.region)
    engine.check_available()
    if preflight and not preview and not engine.simulated:
        from provisioner.preflight.run import require_preflight

        require_preflight(recipe, request, args)
    if preview:
        outcome = _deploy(recipe, request, args, engine, registry, sink, preview=True, show_secrets=show_secrets,
                          want_update_plan=want_update_plan)
        outcome.data_loss = [f"{r.name}: {_loss(r)}" for r in data_losses(recipe, request, outcome.resources)]
        return outcome
    with registry.audited("deploy", request.stack_name):
        registry.require_stack_access(request.stack_name, "deploying")
        with registry.locks.hold(request.stack_name, "deploy"):
            guard_data = allow_data_replacement is None and request.env == "prod" and engine.has_stack(request)
            if guard_data or expect_plan is not None:
                # Under the lock, so what is checked is what gets applied.
                planned = engine.up(request, recipe, args, preview=True, sink=NullSink())
                if expect_plan is not None:
                    expect_plan(planned.resources)
                if guard_data:
                    refuse_data_loss(recipe, request, planned.resources)
            return _deploy(recipe, request, args, engine, registry, sink, preview=False, show_secrets=show_secrets,
                           update_plan=update_plan)


def data_losses(recipe: Recipe, request: DeployRequest, resources: list[ResourceRecord]) -> list[ResourceRecord]:
    """The data resources (buckets, databases) a plan would replace or delete, in prod; none elsewhere."""
    if request.env != "prod" or recipe.retention is None:
        return []
    return [r for r in resources if r.type in recipe.retention.data_types and r.op in (Op.REPLACE, Op.DELETE)]


def _loss(record: ResourceRecord) -> str:
    if record.op is Op.DELETE:
        return "deleted (no longer in the program)"
    return f"replaced, because {record.forced_by} changed" if record.forced_by else "replaced"


def refuse_data_loss(recipe: Recipe, request: DeployRequest, resources: list[ResourceRecord]) -> None:
    """Refuse a prod deploy that would replace or delete a bucket or database (nothing has changed yet)."""
    losses = data_losses(recipe, request, resources)
    if losses:
        what = "; ".join(f"{r.type.split(':')[-1]} {r.name} would be {_loss(r)}" for r in losses)
        raise InputError(
            f"refused: in prod, {what}, and its data with it; nothing was changed. To accept that: "
            f"--allow-data-replacement {request.stack_name}"
        )


def _deploy(
    recipe: Recipe,
    request: DeployRequest,
    args: RecipeArgs,
    engine: Engine,
    registry: Registry,
    sink: ProgressSink,
    *,
    preview: bool,
    show_secrets: bool,
    update_plan: dict[str, Any] | None = None,
    want_update_plan: bool = False,
) -> DeployOutcome:
    refuse_env_crossing(recipe, request, engine, registry, "deploy")
    require_registration_rights(recipe, request, registry)
    if preview:
        with _update_plan_file(None) as path:
            outcome = _preview(recipe, request, args, engine, registry, sink, show_secrets=show_secrets,
                               update_plan=path if want_update_plan else None)
            if want_update_plan and path.exists() and path.stat().st_size:
                import json

                outcome.update_plan = json.loads(path.read_text())
        return outcome
    started = now()
    try:
        with _update_plan_file(update_plan) as path:
            outcome = _apply(recipe, request, args, engine, registry, sink, show_secrets=show_secrets,
                             update_plan=path if update_plan is not None else None)
    except (ProvisionerError, KeyboardInterrupt) as exc:
        error = str(exc) if isinstance(exc, ProvisionerError) else "interrupted"
        keep_run(registry, request, kind="deploy", engine=engine.name, simulated=engine.simulated, started_at=started,
                 error=error, sink=sink)
        raise
    cost = outcome.cost_estimate.total_monthly_usd if outcome.cost_estimate else None
    keep_run(registry, request, kind="deploy", engine=engine.name, simulated=engine.simulated, started_at=started,
             counts=outcome.resource_counts, monthly_cost_usd=cost, records=outcome.resources, sink=sink)
    return outcome


def _outcome(request: DeployRequest, engine: Engine, result: EngineResult, *, preview: bool, show_secrets: bool) -> DeployOutcome:
    return DeployOutcome(
        stack=request.stack_name,
        recipe=request.recipe,
        env=request.env,
        region=request.region,
        engine=engine.name,
        simulated=engine.simulated,
        preview=preview,
        emulator=getattr(engine, "emulator_location", None) or None,
        resource_counts=result.counts(),
        resources=result.resources,
        outputs=masked_outputs(result.outputs, show_secrets),
        deployment_id=result.deployment_id,
    )


@contextmanager
def _update_plan_file(content: dict[str, Any] | None) -> Iterator[Path]:
    """A private temporary file for an engine update plan (holding ``content``), removed afterwards."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory(prefix="provisioner-plan-") as folder:
        path = Path(folder) / "update-plan.json"
        if content is not None:
            path.write_text(json.dumps(content))
        yield path


def _preview(recipe: Recipe, request: DeployRequest, args: RecipeArgs, engine: Engine, registry: Registry,
             sink: ProgressSink, *, show_secrets: bool, update_plan: Path | None = None) -> DeployOutcome:
    """A plan: what would change, what it would cost, how long it would take (the user's own timings first)."""
    result = engine.up(request, recipe, args, preview=True, sink=sink, update_plan=update_plan)
    outcome = _outcome(request, engine, result, preview=True, show_secrets=show_secrets)
    outcome.cost_estimate = estimate(result.resources, cloud=cloud_of(recipe), region=request.region)
    try:
        observed = registry.duration_medians()
    except ProvisionerError:
        observed = {}  # the registry is unreachable: the dated table alone
    outcome.deploy_estimate = critical_path(result.resources, observed)
    outcome.summary = recipe.plan_notes(result.resources)
    return outcome


def _apply(recipe: Recipe, request: DeployRequest, args: RecipeArgs, engine: Engine, registry: Registry,
           sink: ProgressSink, *, show_secrets: bool, update_plan: Path | None = None) -> DeployOutcome:
    result: EngineResult = engine.up(request, recipe, args, preview=False, sink=sink, update_plan=update_plan)
    outcome = _outcome(request, engine, result, preview=False, show_secrets=show_secrets)
    outcome.cost_estimate = estimate(result.resources, cloud=cloud_of(recipe), region=request.region)
    context = request.context(simulated=engine.simulated, deployment_id=result.deployment_id)
    try:
        outputs = recipe.read_outputs(result.plain_outputs())
    except ValueError as exc:
        raise RegistrationFailedError(
            f"the stack was deployed but its outputs {exc}, which the {recipe.name} recipe's Outputs model requires; "
            f"destroy-stack {request.recipe} --env {request.env} removes it"
        ) from None
    try:
        plan = recipe.registration(outputs, context)
        outcome.registered = registry.apply_deployment(plan, context)
    except ProvisionerError as exc:
        raise RegistrationFailedError(
            f"the stack was deployed but registering it failed: {exc}; "
            f"rerun deploy-stack to retry, or destroy-stack {request.recipe} --env {request.env} to remove it"
        ) from exc
    outcome.summary = [*plan.notes, *recipe.summary(outputs, context)]
    return outcome


def require_registration_rights(recipe: Recipe, request: DeployRequest, registry: Registry) -> None:
    """Before anything is deployed: may the user register what this recipe registers (its connectors, its stack)?

    The recipe's mapping runs on placeholder outputs to learn the shape of its plan; registration
    checks the same rights again on the real plan, in its own unit of work.
    """
    if recipe.outputs_model is None:
        return  # the plan's shape is known only from real outputs; registration checks it then
    placeholders = recipe.outputs_model.model_construct(**dict.fromkeys(recipe.outputs_model.model_fields, ""))
    plan = recipe.registration(placeholders, request.context())
    registry.check_deployment_rights(plan, request.context())


def refuse_env_crossing(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    registry: Registry,
    action: str,
    adopt: str | None = None,
    ownership: Ownership | None = None,
) -> None:
    """Refuse to deploy or destroy a stack as another env than the one its state, registry entry or tags say.

    Raises:
        ConflictError: ``--env dev --name aws-prod`` and the like; nothing has been touched.
    """
    from provisioner.config import default_stack_name
    from provisioner.recipe_api import STANDARD_ENVS

    claims: list[tuple[str, str]] = []
    ownership = ownership if ownership is not None else engine.ownership(request)
    if ownership is not None and ownership.env:
        claims.append(("its state says", ownership.env))
    for env in STANDARD_ENVS:
        # `--env dev --name aws-prod`: the name is prod's default, so prod's state speaks for it.
        if env != request.env and request.stack_name == default_stack_name(request.recipe, env):
            twin = request.model_copy(update={"env": env})
            if engine.ownership(twin) is not None:
                claims.append(("its state says", env))
    for stack in registry.list_stacks():
        if stack.name == request.stack_name and stack.labels.get(LABEL_ENV):
            claims.append(("the registry says", stack.labels[LABEL_ENV]))
    if adopt is not None:
        from provisioner.teardown.flow import adoption_candidates

        if ownership is not None:
            raise InputError(
                f"this home has state for {request.stack_name!r}: destroy it without --adopt "
                "(--adopt takes over a deployment whose state is lost)"
            )
        candidates = adoption_candidates(recipe, request, engine, adopt)
        others = sorted({item.stack for item in candidates if item.stack and item.stack != request.stack_name})
        if others:
            raise ConflictError(
                f"deployment {adopt} belongs to stack {', '.join(others)}, not {request.stack_name!r}: nothing was destroyed"
            )
        claims.extend(("its tags say", item.env) for item in candidates if item.env)
    for source, env in claims:
        if env != request.env:
            raise ConflictError(
                f"{source} stack {request.stack_name!r} is env {env!r}, not {request.env!r}: refusing to {action} it "
                f"(use --env {env}{' and type the stack name, or --yes' if env == 'prod' else ''})"
            )


def destroy(
    recipe: Recipe,
    request: DeployRequest,
    engine: Engine,
    registry: Registry,
    sink: ProgressSink,
    *,
    delete_data: bool | None = None,
    keep_data: bool = False,
    limits: TeardownLimits | None = None,
    say: Callable[[str], None] | None = None,
    adopt: str | None = None,
) -> DestroyOutcome:
    """Tear the stack down, then unregister it if the cloud side is clean (or kept on purpose).

    Data (buckets, databases) is kept by default in prod; ``delete_data`` removes it, ``keep_data``
    keeps it in any env. If the engine fails, the registry is left as it is, so it still tells what exists.
    """
    engine.check_available()
    if delete_data and keep_data:
        raise InputError("--delete-data and --keep-data contradict each other: choose one")
    remove_data = bool(delete_data) if delete_data is not None else (not keep_data and request.env != "prod")
    if keep_data:
        remove_data = False
    with registry.audited("destroy", request.stack_name):
        registry.require_stack_access(request.stack_name, "destroying")
        with registry.locks.hold(request.stack_name, "destroy"):
            ownership = engine.ownership(request)
            refuse_env_crossing(recipe, request, engine, registry, "destroy", adopt, ownership)
            started = now()
            try:
                report = teardown(
                    recipe, request, engine, sink, delete_data=remove_data, limits=limits, say=say, adopt=adopt,
                    registry_deployment_id=registry.deployment_id(request.stack_name), ownership=ownership,
                )
            except (ProvisionerError, KeyboardInterrupt) as exc:
                keep_run(registry, request, kind="destroy", engine=engine.name, simulated=engine.simulated, started_at=started,
                         error=str(exc) if isinstance(exc, ProvisionerError) else "interrupted", sink=sink)
                raise
            outcome = DestroyOutcome(report=report)
            if not report.nothing_to_destroy:
                keep_run(registry, request, kind="destroy", engine=engine.name, simulated=engine.simulated,
                         started_at=started, error=None if report.clean else "left resources behind",
                         counts={"delete": len([r for r in report.deleted_resources if not r.failed])},
                         records=report.deleted_resources, report=teardown_summary(report), sink=sink)
            if report.nothing_to_destroy or not report.clean:
                return outcome
            if not report.adopted or registry.deployment_id(request.stack_name) == adopt:
                _remove_from_zenml(registry, request.stack_name, outcome)
                outcome.unregistered = registry.unregister_deployment(request.stack_name)
            if not report.kept_resources and not report.adopted:
                engine.remove_stack(request)
                outcome.stack_removed = True
    return outcome
