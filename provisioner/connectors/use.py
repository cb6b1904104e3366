"""Use a registered connector through a registry: here in embedded mode, on the server in client mode.

The CLI and the server's routes call these, so the connector's resolved secrets stay where the
registry is: a client's RemoteRegistry has the server verify and mint; it never gets the secrets.
"""

from __future__ import annotations

from typing import Any

from provisioner.connectors import connector_credentials, list_connector_resources, verify_connector
from provisioner.connectors.models import ReachableResources, ScopedCredentials, VerifyReport
from provisioner.registry.models import ResourceType


def _remote(registry: Any) -> bool:
    return bool(getattr(registry, "remote", False))


def registered_type(registry: Any, connector_name: str, resource_id: str) -> ResourceType | None:
    """The type of ``resource_id`` as the components linked to the connector name it, or None.

    A plain name such as ``aws-staging-artifacts-bucket-1a2b`` fits the naming rules of a bucket, a
    cluster and a repository alike; the artifact store whose path is ``s3://`` that name says which.
    """
    found: set[ResourceType] = set()
    for component in registry.list_components():
        if component.connector != connector_name:
            continue
        for value in component.config.values():
            if not isinstance(value, str) or not value:
                continue
            if value.startswith(("s3://", "gs://")) and value[5:].split("/", 1)[0] == resource_id:
                found.add(ResourceType.GCS_BUCKET if value.startswith("gs://") else ResourceType.S3_BUCKET)
            elif component.type.value == "container_registry" and (value == resource_id or value.endswith(f"/{resource_id}")):
                found.add(ResourceType.DOCKER_REGISTRY)
            elif component.type.value == "orchestrator" and value == resource_id:
                found.add(ResourceType.KUBERNETES_CLUSTER)
    return found.pop() if len(found) == 1 else None


def verify(registry: Any, name: str, resource_id: str | None = None, resource_type: ResourceType | None = None) -> VerifyReport:
    """Authenticate with the connector and check what it reaches (use is gated and audited as connector.use)."""
    if resource_id and resource_type is None:
        resource_type = registered_type(registry, name, resource_id)
    if _remote(registry):
        report: VerifyReport = registry.verify_connector(name, resource_id, resource_type)
        return report
    connector, resolved = registry.use_connector(name)
    return verify_connector(connector, resolved, resource_id, resource_type)


def resources(registry: Any, name: str) -> ReachableResources:
    """The resources the connector reaches, by resource type."""
    if _remote(registry):
        found: ReachableResources = registry.connector_resources(name)
        return found
    connector, resolved = registry.use_connector(name)
    return list_connector_resources(connector, resolved)


def credentials(registry: Any, name: str, resource_type: ResourceType | None, resource_id: str) -> ScopedCredentials:
    """Short-lived credentials scoped to one resource; the issue is audited with the resource's name."""
    if resource_type is None:
        resource_type = registered_type(registry, name, resource_id)
    if _remote(registry):
        issued: ScopedCredentials = registry.connector_credentials(name, resource_type, resource_id)
        return issued
    connector, resolved = registry.run(
        "connector.credentials", f"{name}:{resource_id}", lambda uow: registry.catalog.use_connector(uow, name)
    )
    return connector_credentials(connector, resolved, resource_type, resource_id)
