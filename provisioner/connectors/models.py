"""What connector verification, resource listing and credential issuing return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from provisioner.registry.models import ResourceType
from provisioner.secrets import MASK

# Environment variables whose values are secret, by a marker in their name.
SECRET_ENV_MARKERS: tuple[str, ...] = ("SECRET", "TOKEN", "PASSWORD")


def is_secret_env(key: str) -> bool:
    """Whether an environment variable of issued credentials holds a secret value."""
    upper = key.upper()
    return any(marker in upper for marker in SECRET_ENV_MARKERS)


class ResourceCheck(BaseModel):
    """Whether the connector reached one resource, and what happened."""

    resource_type: ResourceType
    resource_id: str
    reachable: bool
    message: str


class VerifyReport(BaseModel):
    """The outcome of verifying a connector: who it authenticates as and what it reaches."""

    connector: str
    identity: str | None = None
    checks: list[ResourceCheck] = Field(default_factory=list)
    ok: bool
    notes: list[str] = Field(default_factory=list, description="What was not checked, and why.")

    def failures(self) -> list[ResourceCheck]:
        """The checks that did not reach their resource."""
        return [check for check in self.checks if not check.reachable]


class ReachableResources(BaseModel):
    """The resources a connector reaches, by resource type."""

    connector: str
    resources: dict[ResourceType, list[str]] = Field(default_factory=dict)
    namespaces: dict[str, list[str]] = Field(
        default_factory=dict, description="Kubernetes namespaces, by cluster id (Kubernetes connectors)."
    )
    errors: list[str] = Field(default_factory=list, description="Listings that failed; their types may be incomplete.")


class ScopedCredentials(BaseModel):
    """Short-lived credentials for one resource, as environment variables."""

    connector: str
    resource_type: ResourceType
    resource_id: str
    env: dict[str, str]
    expires_at: datetime | None = None
    session_policy: dict[str, Any] | None = None

    def masked(self) -> ScopedCredentials:
        """A copy whose secret values (secret key, session token, tokens) read ``********``."""
        env = {key: MASK if is_secret_env(key) else value for key, value in self.env.items()}
        return self.model_copy(update={"env": env})
