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


def verify(registry: Any, name: str, resource_id: str | None = None, resource_type: ResourceType | None = None) -> VerifyReport:
    """Authenticate with the connector and check what it reaches (use is gated and audited as connector.use)."""
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
    if _remote(registry):
        issued: ScopedCredentials = registry.connector_credentials(name, resource_type, resource_id)
        return issued
    connector, resolved = registry.run(
        "connector.credentials", f"{name}:{resource_id}", lambda uow: registry.catalog.use_connector(uow, name)
    )
    return connector_credentials(connector, resolved, resource_type, resource_id)
