"""Use registered service connectors: verify them, list what they reach, issue scoped credentials.

Each function takes the connector and its *resolved* configuration (``Registry.resolve``), and
dispatches on ``connector.type``. Cloud SDKs are imported by the per-cloud modules, lazily.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from provisioner.connectors.models import ReachableResources, ResourceCheck, ScopedCredentials, VerifyReport
from provisioner.errors import InputError
from provisioner.registry.models import Connector, ConnectorType, ResourceType

__all__ = [
    "ReachableResources",
    "ResourceCheck",
    "ScopedCredentials",
    "VerifyReport",
    "connector_credentials",
    "infer_resource_type",
    "list_connector_resources",
    "verify_connector",
]

_GENERIC = (ResourceType.AWS_GENERIC, ResourceType.GCP_GENERIC)

# Names each resource type accepts, to tell a bucket from a repository from a cluster.
_NAME_PATTERNS: dict[ResourceType, re.Pattern[str]] = {
    ResourceType.S3_BUCKET: re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    ResourceType.GCS_BUCKET: re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$"),
    ResourceType.DOCKER_REGISTRY: re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$"),
    ResourceType.KUBERNETES_CLUSTER: re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$"),
}
# Unambiguous spellings: URLs, URIs and ARNs.
_EXPLICIT: tuple[tuple[re.Pattern[str], ResourceType], ...] = (
    (re.compile(r"^s3://"), ResourceType.S3_BUCKET),
    (re.compile(r"^arn:[^:]+:s3:::"), ResourceType.S3_BUCKET),
    (re.compile(r"^gs://"), ResourceType.GCS_BUCKET),
    (re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com"), ResourceType.DOCKER_REGISTRY),
    (re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev/"), ResourceType.DOCKER_REGISTRY),
    (re.compile(r"^arn:[^:]+:ecr:"), ResourceType.DOCKER_REGISTRY),
    (re.compile(r"^arn:[^:]+:eks:"), ResourceType.KUBERNETES_CLUSTER),
)


def infer_resource_type(connector: Connector, resource_id: str) -> ResourceType:
    """The resource type ``resource_id`` names, among the connector's; InputError when it is ambiguous.

    URLs, image URIs and ARNs say their type; a plain name counts as every offered type whose
    naming rules it follows (S3 bucket names have no upper case, ``_`` or ``/``; ECR repository
    names may have ``/``; EKS cluster names may have upper case and ``_``).
    """
    offered = [t for t in connector.resource_types if t not in _GENERIC]
    if connector.type is ConnectorType.KUBERNETES:
        return ResourceType.KUBERNETES_CLUSTER
    for pattern, resource_type in _EXPLICIT:
        if pattern.match(resource_id):
            if resource_type not in connector.resource_types:
                raise InputError(
                    f"{resource_id!r} is a {resource_type.value}, which connector {connector.name!r} does not offer"
                )
            return resource_type
    if len(offered) == 1:
        return offered[0]
    candidates = [t for t in offered if t in _NAME_PATTERNS and _NAME_PATTERNS[t].match(resource_id)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        names = ", ".join(t.value for t in offered) or "none"
        raise InputError(
            f"{resource_id!r} is not a valid name for any resource type connector {connector.name!r} offers ({names})"
        )
    names = ", ".join(t.value for t in candidates)
    raise InputError(f"{resource_id!r} could be any of {names}: give --resource-type")


def verify_connector(
    connector: Connector,
    config: Mapping[str, Any],
    resource_id: str | None = None,
    resource_type: ResourceType | None = None,
) -> VerifyReport:
    """Authenticate with the connector and check each resource it offers (or only ``resource_id``).

    With a ``resource_id`` and no ``resource_type``, the type is inferred (see ``infer_resource_type``).
    """
    if resource_id is not None and resource_type is None:
        resource_type = infer_resource_type(connector, resource_id)
    if connector.type is ConnectorType.AWS:
        from provisioner.connectors import aws

        return aws.verify(connector, config, resource_id, resource_type)
    if connector.type is ConnectorType.KUBERNETES:
        from provisioner.connectors import kubernetes

        return kubernetes.verify(connector, config, resource_id)
    if connector.type is ConnectorType.GCP:
        from provisioner.connectors import gcp

        return gcp.verify(connector, config, resource_id, resource_type)
    raise InputError(f"cannot verify {connector.type.value} connectors")


def list_connector_resources(connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
    """The resources the connector reaches, by resource type."""
    if connector.type is ConnectorType.AWS:
        from provisioner.connectors import aws

        return aws.list_resources(connector, config)
    if connector.type is ConnectorType.KUBERNETES:
        from provisioner.connectors import kubernetes

        return kubernetes.list_resources(connector, config)
    if connector.type is ConnectorType.GCP:
        from provisioner.connectors import gcp

        return gcp.list_resources(connector, config)
    raise InputError(f"cannot list resources of {connector.type.value} connectors")


def connector_credentials(
    connector: Connector,
    config: Mapping[str, Any],
    resource_type: ResourceType | None,
    resource_id: str,
    duration_s: int = 900,
) -> ScopedCredentials:
    """Short-lived credentials scoped to one resource; only AWS iam-role connectors issue them."""
    if connector.type is not ConnectorType.AWS:
        raise InputError(
            f"connector {connector.name!r} is a {connector.type.value} connector: only AWS iam-role connectors "
            "issue scoped credentials"
        )
    from provisioner.connectors import aws

    aws.require_iam_role(connector)
    if resource_type is None:
        resource_type = infer_resource_type(connector, resource_id)
    return aws.credentials(connector, config, resource_type, resource_id, duration_s)
