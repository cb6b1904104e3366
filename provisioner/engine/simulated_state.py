"""The simulated engine's state: which emulated resources a stack has, with their outputs sealed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from provisioner.secrets import LocalFernetBackend


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


class SimulatedStackState(BaseModel):
    """Resources in creation order; outputs and resource state are encrypted with the home's key."""

    project: str
    stack: str
    status: str = "new"
    region: str | None = None
    resources: list[SimulatedResource] = Field(default_factory=list)
    sealed_outputs: str = ""


class SimulatedStateStore:
    """One JSON file per (project, stack) under ``<home>/simulated``; values sealed with Fernet."""

    def __init__(self, root: Path, cipher: LocalFernetBackend) -> None:
        self._root = root
        self._cipher = cipher

    def path(self, project: str, stack: str) -> Path:
        return self._root / project / f"{stack}.json"

    def load(self, project: str, stack: str) -> SimulatedStackState | None:
        path = self.path(project, stack)
        if not path.exists():
            return None
        return SimulatedStackState.model_validate_json(path.read_text())

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
