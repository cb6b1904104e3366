"""What every engine provides, and the results it returns."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, field_serializer

from provisioner.config import DeployRequest
from provisioner.errors import InputError, OperationFailedError
from provisioner.recipe_api import Recipe, RecipeArgs


class Op(str, Enum):
    """What happened (or would happen) to a resource."""

    CREATE = "create"
    UPDATE = "update"
    SAME = "same"
    DELETE = "delete"
    REPLACE = "replace"
    READ = "read"


class ResourceRecord(BaseModel):
    """One resource the engine touched."""

    urn: str
    type: str
    name: str
    op: Op
    failed: bool = False
    message: str | None = None
    forced_by: str | None = None  # for a replace: the property whose change forces it
    already_gone: bool = False  # a delete that found nothing to delete (removed outside the tool): state only
    seconds: float | None = None  # how long the operation really took (the real engine's events); None: not timed
    # The graph as the program declared it (parent, dependencies and property dependencies), by URN.
    parent: str | None = None
    dependencies: list[str] = Field(default_factory=list)
    # The planned inputs, plain (for cost estimates and summaries): they can hold secrets, so they are
    # serialised as ``shown_inputs``, which the engine that made the record masks. None: not shown.
    inputs: dict[str, Any] | None = Field(None, repr=False)
    shown_inputs: dict[str, Any] | None = Field(None, exclude=True, repr=False)

    @field_serializer("inputs")
    def _masked(self, inputs: dict[str, Any] | None) -> dict[str, Any] | None:
        return self.shown_inputs


class OutputValue(BaseModel):
    """One stack output; ``secret`` values are masked whenever they are shown."""

    value: Any
    secret: bool = False


class EngineResult(BaseModel):
    """What an engine run did."""

    engine: str
    simulated: bool
    preview: bool
    resources: list[ResourceRecord] = Field(default_factory=list)
    outputs: dict[str, OutputValue] = Field(default_factory=dict)
    # Resources a destroy left in place on purpose (data retention); ``message`` holds the id.
    kept: list[ResourceRecord] = Field(default_factory=list)
    # The deployment's id (set by up; kept in the engine's state).
    deployment_id: str | None = None

    def counts(self) -> dict[str, int]:
        """Resources per operation, e.g. {"create": 12, "same": 3}."""
        counts: dict[str, int] = {}
        for record in self.resources:
            counts[record.op.value] = counts.get(record.op.value, 0) + 1
        return counts

    def plain_outputs(self) -> dict[str, Any]:
        """Output values, secrets included: for the registration mapping only, never for display."""
        return {key: output.value for key, output in self.outputs.items()}


class OwnedResource(BaseModel):
    """A resource the engine's own state says this deployment created."""

    type: str
    id: str
    urn: str


class Ownership(BaseModel):
    """What a stack's state proves it owns: its deployment id, its env, and its resources."""

    deployment_id: str | None = None
    env: str | None = None
    resources: list[OwnedResource] = Field(default_factory=list)
    # Cloud calls sent whose result was never recorded (a run was killed or interrupted).
    pending: int = 0

    def ids_of(self, resource_type: str) -> list[str]:
        """The ids of the owned resources of one Pulumi type."""
        return [r.id for r in self.resources if r.type == resource_type]


class ProgressSink(Protocol):
    """Receives engine progress as it happens."""

    def started(self, urn: str, resource_type: str, op: Op) -> None: ...

    def finished(self, urn: str, resource_type: str, op: Op) -> None: ...

    def failed(self, urn: str, resource_type: str, message: str) -> None: ...

    def note(self, message: str) -> None: ...


class DriftItem(BaseModel):
    """A difference between the cloud (or emulator) and the recorded state, found by a refresh."""

    urn: str
    type: str
    name: str
    kind: str  # "deleted" (gone outside the tool) or "changed"
    property: str | None = None
    recorded: Any = None
    actual: Any = None

    def describe(self) -> str:
        if self.kind == "deleted":
            return f"{self.type} {self.name}: deleted outside provisioner"
        return f"{self.type} {self.name}: {self.property or 'a property'} changed outside provisioner"


class NullSink:
    """A sink that shows nothing (JSON output, tests)."""

    def __enter__(self) -> "NullSink":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def started(self, urn: str, resource_type: str, op: Op) -> None:
        return None

    def finished(self, urn: str, resource_type: str, op: Op) -> None:
        return None

    def failed(self, urn: str, resource_type: str, message: str) -> None:
        return None

    def note(self, message: str) -> None:
        return None


class EngineUnavailableError(InputError):
    """The engine cannot run here (for example: no Pulumi CLI)."""


class CredentialsError(InputError):
    """Cloud credentials are missing or invalid."""


class ResourcesFailedError(OperationFailedError):
    """One or more resources failed; the message names each one."""

    def __init__(self, failures: list[ResourceRecord], partial: EngineResult | None = None) -> None:
        self.failures = failures
        self.partial = partial
        named = "; ".join(f"{f.type} {f.name!r}: {f.message}" for f in failures) or "unknown failure"
        super().__init__(f"{len(failures)} resource(s) failed: {named}")


class Engine(Protocol):
    """Runs recipe programs and keeps their state."""

    name: str
    simulated: bool

    def check_available(self) -> None:
        """Raise EngineUnavailableError if this engine cannot run here."""
        ...

    def up(
        self, request: DeployRequest, recipe: Recipe, args: RecipeArgs, *, preview: bool, sink: ProgressSink,
        update_plan: Path | None = None,
    ) -> EngineResult:
        """Create or update the stack (or, with ``preview``, only say what would change).

        ``update_plan``: with ``preview``, where to write the engine's own update plan, if it makes one;
        without, the update plan the update must follow (the engine refuses anything else).
        """
        ...

    def destroy(self, request: DeployRequest, recipe: Recipe, *, sink: ProgressSink, retain_data: bool = False) -> EngineResult:
        """Delete the resources in the stack's state; with ``retain_data``, keep the data resources."""
        ...

    def remove_stack(self, request: DeployRequest) -> None:
        """Forget the stack (its state) after a destroy."""
        ...

    def drift(self, request: DeployRequest, recipe: Recipe) -> list[DriftItem]:
        """What changed outside the tool since the last deploy (a refresh that changes nothing)."""
        ...

    def has_stack(self, request: DeployRequest) -> bool:
        """Whether the stack has state (resources, or a record of a deploy)."""
        ...

    def outputs(self, request: DeployRequest, recipe: Recipe) -> dict[str, OutputValue]:
        """The stack's current outputs."""
        ...

    def ownership(self, request: DeployRequest) -> Ownership | None:
        """What the stack's state proves it owns; None when this backend has no state for it."""
        ...
