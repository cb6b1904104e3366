"""deploy and destroy: resolve, run the engine, then register or unregister, in that order."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from provisioner.config import DeployRequest
from provisioner.engine.base import Engine, EngineResult, OutputValue, ProgressSink, ResourceRecord
from provisioner.errors import ConflictError, OperationFailedError, ProvisionerError
from provisioner.recipe_api import LABEL_ENV, Recipe, RecipeArgs
from provisioner.registry.service import DeploymentRecord, Registry
from provisioner.secrets import MASK


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


class DestroyOutcome(BaseModel):
    """What destroy-stack did."""

    stack: str
    engine: str
    simulated: bool
    nothing_to_destroy: bool = False
    deleted_resources: list[ResourceRecord] = Field(default_factory=list)
    unregistered: DeploymentRecord | None = None


class RegistrationFailedError(OperationFailedError):
    """The cloud side was deployed but registering it failed; a rerun or destroy recovers."""


def masked_outputs(outputs: dict[str, OutputValue], show_secrets: bool) -> dict[str, OutputValue]:
    if show_secrets:
        return outputs
    return {k: OutputValue(value=MASK, secret=True) if v.secret else v for k, v in outputs.items()}


def _refuse_env_crossing(registry: Registry, request: DeployRequest) -> None:
    """A registered stack of another env is never overwritten (e.g. --env staging --name aws-prod)."""
    for stack in registry.list_stacks():
        if stack.name == request.stack_name:
            env = stack.labels.get(LABEL_ENV)
            if env is not None and env != request.env:
                raise ConflictError(
                    f"stack {request.stack_name!r} belongs to env {env!r}, not {request.env!r}: refusing to deploy into it"
                )


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
) -> DeployOutcome:
    """Run the recipe through the engine, then register its outputs in one transaction."""
    recipe.check(args)
    engine.check_available()
    _refuse_env_crossing(registry, request)
    result: EngineResult = engine.up(request, recipe, args, preview=preview, sink=sink)
    context = request.context(simulated=engine.simulated)
    outcome = DeployOutcome(
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
    )
    if preview:
        return outcome
    outputs: dict[str, Any] = result.plain_outputs()
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


def destroy(recipe: Recipe, request: DeployRequest, engine: Engine, registry: Registry, sink: ProgressSink) -> DestroyOutcome:
    """Destroy the stack's resources, then unregister it, then forget the engine's stack.

    If the engine fails, the registry is left as it is, so it still tells what exists.
    """
    engine.check_available()
    registered = registry.deployment(request.stack_name)
    outcome = DestroyOutcome(stack=request.stack_name, engine=engine.name, simulated=engine.simulated)
    nothing_registered = not (registered.stack or registered.components or registered.connectors)
    if not engine.has_stack(request) and nothing_registered:
        outcome.nothing_to_destroy = True
        return outcome
    result = engine.destroy(request, recipe, sink=sink)
    outcome.deleted_resources = result.resources
    outcome.unregistered = registry.unregister_deployment(request.stack_name)
    engine.remove_stack(request)
    return outcome
