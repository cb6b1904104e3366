"""Kubernetes objects under simulation: Pulumi-style auto-names, and a load balancer address for Services."""

from __future__ import annotations

from typing import Any

from provisioner.engine.emulators.base import EmulationContext, Emulator


class KubernetesObjectEmulator(Emulator):
    """Echoes the manifest, names it like Pulumi does, and fills in what the API server would."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        metadata = dict(inputs.get("metadata") or {})
        metadata.setdefault("name", f"{name}-{ctx.suffix(name, 8)}")
        state = {**inputs, "metadata": metadata}
        if resource_type == "kubernetes:core/v1:Service":
            state["status"] = self._service_status(metadata, inputs.get("spec") or {}, ctx)
        namespace = metadata.get("namespace")
        resource_id = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
        return resource_id, state

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        metadata = {**(inputs.get("metadata") or {}), "name": (old.get("metadata") or {}).get("name")}
        state = {**inputs, "metadata": metadata}
        if "status" in old:
            state["status"] = old["status"]
        return state

    @staticmethod
    def _service_status(metadata: dict[str, Any], spec: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        if spec.get("type") != "LoadBalancer":
            return {"loadBalancer": {}}
        host = f"{metadata['name']}-{ctx.suffix(metadata['name'], 10)}.{ctx.region}.lb.simulated.invalid"
        return {"loadBalancer": {"ingress": [{"hostname": host}]}}


PREFIX_HANDLERS: dict[str, Emulator] = {"kubernetes:": KubernetesObjectEmulator()}
