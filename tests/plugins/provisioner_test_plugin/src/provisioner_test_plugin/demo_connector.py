"""A connector type a third-party package adds: `demo`, a token for an imaginary S3-compatible store.

It reaches no network: the store accepts one token (ACCEPTED_TOKEN), so tests can see that the
connector's *resolved* configuration, secret included, reached this class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from provisioner.connectors import ConnectorTypeSpec, ReachableResources, ResourceCheck, VerifyReport
from provisioner.registry.flavors import FlavorConfig, secret_field
from provisioner.registry.models import Connector, ResourceType

ACCEPTED_TOKEN = "demo-token"
BUCKET = "demo-bucket"


class DemoTokenConfig(FlavorConfig):
    endpoint: str = Field(description="URL of the demo store.")
    token: str = secret_field("Access token.")


class DemoConnectorType(ConnectorTypeSpec):
    """The demo store: one bucket, reached with a token."""

    name = "demo"
    auth_methods = {"token": DemoTokenConfig}
    resource_types = (ResourceType.S3_BUCKET,)

    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
    ) -> VerifyReport:
        """One s3-bucket check: reachable when the token is the accepted one."""
        accepted = config["token"] == ACCEPTED_TOKEN
        message = f"{config['endpoint']} {'accepted' if accepted else 'refused'} the token"
        check = ResourceCheck(
            resource_type=ResourceType.S3_BUCKET, resource_id=resource_id or BUCKET, reachable=accepted, message=message
        )
        return VerifyReport(connector=connector.name, identity="demo-user" if accepted else None, checks=[check], ok=accepted)

    def list_resources(self, connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
        """The store's one bucket."""
        return ReachableResources(connector=connector.name, resources={ResourceType.S3_BUCKET: [BUCKET]})
