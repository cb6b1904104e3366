"""The simulated engine's state: which emulated resources a stack has, with their outputs sealed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from provisioner.errors import OperationFailedError
from provisioner.secrets import LocalFernetBackend


class CorruptStateError(OperationFailedError):
    """A simulated state file is unreadable or invalid; the message names the file and the way out."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(
            f"the simulated state {path} cannot be read ({reason}); move it aside "
            f"(mv {path} {path}.broken) and run destroy-stack with --adopt DEPLOYMENT_ID to clean up what it held"
        )


class SimulatedResource(BaseModel):
    key: str
    type: str
    name: str
    id: str
    custom: bool = True
    protect: bool = False
    depends_on: list[str] = Field(default_factory=list)
    # Strings other resources use to refer to this one (id, ARN, name): dependencies are inferred from them.
    identities: list[str] = Field(default_factory=list)
    sealed_state: str = ""
    # The inputs it was last created or updated with: a deploy with the same inputs leaves it alone.
    # Empty in states written before 0.3 (their next deploy updates every resource once).
    sealed_inputs: str = ""


class PendingOperation(BaseModel):
    """A cloud call sent whose result is not recorded yet (Pulumi's pending_operations).

    After a kill, the resource may exist without being in ``resources``: a rerun adopts or
    replaces it (found by this deployment's id and its URN tag), a destroy deletes it.
    """

    key: str
    type: str
    name: str
    op: str
    # The resource's physical name, when the emulator names it from the inputs (bucket, role, cluster).
    physical_name: str | None = None
    # The inputs sent, sealed: what a delete of the half-made resource needs.
    sealed_inputs: str = ""


class SimulatedStackState(BaseModel):
    """Resources in creation order; outputs and resource state are encrypted with the home's key."""

    project: str
    stack: str
    status: str = "new"
    region: str | None = None
    env: str | None = None
    # Set on the first deploy (or the first deploy after an upgrade), before any resource is created.
    deployment_id: str | None = None
    resources: list[SimulatedResource] = Field(default_factory=list)
    pending: list[PendingOperation] = Field(default_factory=list)
    sealed_outputs: str = ""


class SimulatedStateStore:
    """One JSON file per (project, stack) under ``<home>/simulated``; values sealed with Fernet."""

    def __init__(self, root: Path, cipher: LocalFernetBackend) -> None:
        self._root = root
        self._cipher = cipher

    def path(self, project: str, stack: str) -> Path:
        return self._root / project / f"{stack}.json"

    def load(self, project: str, stack: str) -> SimulatedStackState | None:
        """The stack's state, None when there is none.

        Raises:
            CorruptStateError: the file cannot be read or is not a valid state.
        """
        path = self.path(project, stack)
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CorruptStateError(path, exc.strerror or str(exc)) from None
        try:
            return SimulatedStackState.model_validate_json(text)
        except ValueError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CorruptStateError(path, first) from None

    def save(self, state: SimulatedStackState) -> None:
        from provisioner.paths import write_private_file

        write_private_file(self.path(state.project, state.stack), state.model_dump_json(indent=2).encode())

    def remove(self, project: str, stack: str) -> None:
        self.path(project, stack).unlink(missing_ok=True)

    def seal(self, values: dict[str, Any]) -> str:
        return self._cipher.seal("simulated-state", {"json": json.dumps(values, default=str)})

    def unseal(self, sealed: str) -> dict[str, Any]:
        if not sealed:
            return {}
        loaded: dict[str, Any] = json.loads(self._cipher.unseal("simulated-state", sealed)["json"])
        return loaded
