"""Use registered service connectors: verify them, list what they reach, issue scoped credentials.

Each function takes the connector and its *resolved* configuration (``Registry.resolve``), and
hands it to the connector's type (``connector_type``): a built-in or a plugin's ``ConnectorTypeSpec``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioner.connectors.base import DEFAULT_CREDENTIALS_DURATION_S, ConnectorTypeSpec
from provisioner.connectors.models import ReachableResources, ResourceCheck, ScopedCredentials, VerifyReport
from provisioner.connectors.registry import connector_type, connector_type_names
from provisioner.registry.models import Connector, ResourceType

__all__ = [
    "ConnectorTypeSpec",
    "ReachableResources",
    "ResourceCheck",
    "ScopedCredentials",
    "VerifyReport",
    "connector_credentials",
    "connector_type",
    "connector_type_names",
    "infer_resource_type",
    "list_connector_resources",
    "verify_connector",
]


def infer_resource_type(connector: Connector, resource_id: str) -> ResourceType:
    """The resource type ``resource_id`` names, among the connector's; InputError when it is ambiguous."""
    return connector_type(connector.type).infer_resource_type(connector, resource_id)


def verify_connector(
    connector: Connector,
    config: Mapping[str, Any],
    resource_id: str | None = None,
    resource_type: ResourceType | None = None,
) -> VerifyReport:
    """Authenticate with the connector and check each resource it offers (or only ``resource_id``).

    With a ``resource_id`` and no ``resource_type``, the type is inferred (see ``infer_resource_type``).
    """
    kind = connector_type(connector.type)
    if resource_id is not None and resource_type is None:
        resource_type = kind.infer_resource_type(connector, resource_id)
    return kind.verify(connector, config, resource_id, resource_type)


def list_connector_resources(connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
    """The resources the connector reaches, by resource type."""
    return connector_type(connector.type).list_resources(connector, config)


def connector_credentials(
    connector: Connector,
    config: Mapping[str, Any],
    resource_type: ResourceType | None,
    resource_id: str,
    duration_s: int = DEFAULT_CREDENTIALS_DURATION_S,
) -> ScopedCredentials:
    """Short-lived credentials scoped to one resource; only types that issue them (AWS iam-role) do."""
    return connector_type(connector.type).credentials(connector, config, resource_type, resource_id, duration_s)
