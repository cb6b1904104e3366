"""The connector type base class: the registry's schema of a type, plus how to verify, list and issue credentials.

A connector type is a ``ConnectorTypeSpec`` subclass registered under the ``provisioner.connectors``
entry-point group. Methods receive the registered connector and its *resolved* configuration
(secret references replaced by their values). Cloud SDKs are imported inside methods only.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from provisioner.connectors.models import ReachableResources, ScopedCredentials, VerifyReport
from provisioner.errors import InputError
from provisioner.registry.connector_schemas import ConnectorSchema
from provisioner.registry.models import Connector, ResourceType

DEFAULT_CREDENTIALS_DURATION_S = 900

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


class ConnectorTypeSpec(ConnectorSchema, ABC):
    """A connector type: ``name``, ``auth_methods`` (name -> config model), ``resource_types``, and how to use one.

    Subclasses implement ``verify`` and ``list_resources``; ``credentials`` is refused unless
    overridden; ``infer_resource_type`` may be overridden when resource ids have another shape.
    """

    @abstractmethod
    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
    ) -> VerifyReport:
        """Authenticate and check each offered resource (or only ``resource_id`` of ``resource_type``).

        Unreachable resources are failed checks in the report, not exceptions.
        """

    @abstractmethod
    def list_resources(self, connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
        """The resources the connector reaches, by resource type."""

    def credentials(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_type: ResourceType | None,
        resource_id: str,
        duration_s: int = DEFAULT_CREDENTIALS_DURATION_S,
    ) -> ScopedCredentials:
        """Short-lived credentials scoped to one resource.

        Raises:
            InputError: this connector type does not issue credentials (the default).
        """
        raise InputError(
            f"connector {connector.name!r} is a {self.name} connector: only AWS iam-role connectors "
            "issue scoped credentials"
        )

    def infer_resource_type(self, connector: Connector, resource_id: str) -> ResourceType:
        """The resource type ``resource_id`` names, among the connector's; InputError when it is ambiguous.

        URLs, image URIs and ARNs say their type; a plain name counts as every offered type whose
        naming rules it follows (S3 bucket names have no upper case, ``_`` or ``/``; ECR repository
        names may have ``/``; EKS cluster names may have upper case and ``_``).
        """
        offered = [t for t in connector.resource_types if t not in _GENERIC]
        for pattern, resource_type in _EXPLICIT:
            if pattern.match(resource_id):
                if resource_type not in connector.resource_types:
                    raise InputError(
                        f"{resource_id!r} is a {resource_type.value}, which connector {connector.name!r} does not offer"
                    )
                return resource_type
        if len(offered) == 1:
            return offered[0]
        candidates = [t for t in offered if t in _NAME_PATTERNS and _NAME_PATTERNS[t].fullmatch(resource_id)]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            names = ", ".join(t.value for t in offered) or "none"
            raise InputError(
                f"{resource_id!r} is not a valid name for any resource type connector {connector.name!r} offers ({names})"
            )
        names = ", ".join(t.value for t in candidates)
        raise InputError(f"{resource_id!r} could be any of {names}: give --resource-type")
