"""The emulator interface and the fallback that synthesizes deterministic outputs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

FAKE_ACCOUNT_ID = "123456789012"


@dataclass
class EmulationContext:
    """Where emulated resources live, and a cache of cloud clients."""

    stack: str
    project: str
    region: str
    # The GCP project id for resources with no ``project`` input (``project`` above is the Pulumi project).
    project_id: str = "provisioner-simulated"
    # The deployment's id: auto-names derive from it, so two deployments of one stack name never collide.
    deployment_id: str | None = None
    # Set while creating a replacement (to the old instance's id): Pulumi gives a replacement a new random
    # auto-name, so both can exist at once until the old one is deleted.
    generation: str = ""
    # Ids the state already records: an orphan search never returns one of them (a replacement's old
    # instance carries the same tags as the half-made new one).
    known_ids: frozenset[str] = frozenset()
    _clients: dict[str, Any] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        """A boto3 client; it honours AWS_ENDPOINT_URL, or is caught by in-process moto."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service, region_name=self.region)
        return self._clients[service]

    def suffix(self, name: str, length: int = 7) -> str:
        """A deterministic stand-in for Pulumi's random auto-name suffix."""
        seed = f"{self.deployment_id}/" if self.deployment_id else ""
        seed += f"{self.generation}/" if self.generation else ""
        digest = hashlib.sha256(f"{seed}{self.project}/{self.stack}/{name}".encode()).hexdigest()
        return digest[:length]

    def physical_name(self, name: str, inputs: dict[str, Any], key: str = "name", limit: int = 63) -> str:
        """The explicit name input if given, else ``name-<suffix>`` like Pulumi's auto-naming."""
        given = inputs.get(key)
        if given:
            return str(given)
        prefix = inputs.get(f"{key}Prefix")
        base = str(prefix) if prefix else f"{name}-"
        return (base + self.suffix(name))[:limit]

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{FAKE_ACCOUNT_ID}:{resource}"


class Emulator:
    """Creates, updates, checks and deletes one kind of resource in an emulator."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        """Create the resource; return its id and output state."""
        raise NotImplementedError

    def update(
        self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext
    ) -> dict[str, Any]:
        """Apply new inputs to an existing resource; by default generated outputs are kept."""
        return {**old, **inputs}

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        """Whether the resource is still there (an in-process emulator forgets between commands)."""
        return True

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        """Delete the resource; a resource already gone is not an error."""
        return None

    def drifted(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> dict[str, tuple[Any, Any]]:
        """Properties the emulator holds differently from the recorded state: name -> (recorded, actual).

        Only emulators that can read a property back compare it; the default compares nothing.
        """
        return {}

    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        """The id of a resource an interrupted create made but never recorded, proven ours by tags read here.

        None when there is none, or when the type takes no tags (nothing could prove ownership; a
        rerun's create of such a type is idempotent or fails loudly).
        """
        return None


class SyntheticEmulator(Emulator):
    """No emulator for this type: a deterministic id, the inputs echoed, and an ARN for AWS types."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        resource_id = f"{name}-{ctx.suffix(resource_type + name, 8)}"
        state = dict(inputs)
        if resource_type.startswith("aws:"):
            service = resource_type.split(":")[1].split("/")[0]
            state.setdefault("arn", ctx.arn(service, f"{name}/{resource_id}"))
            state.setdefault("name", resource_id)  # the provider auto-names a resource given no name, as here
        return resource_id, state
