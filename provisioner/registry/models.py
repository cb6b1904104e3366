"""Pydantic models of the registry: the only shapes that go into and come out of the store."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

NAME_PATTERN = r"^[a-z0-9]([a-z0-9_-]{0,62})$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
SECRET_NAME_PATTERN = r"^[a-z0-9]([a-z0-9_-]{0,79})$"
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN)]
LABEL_KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.:/-]{0,62}$")


class ComponentType(str, Enum):
    """The thirteen stack component types of the reference model."""

    ORCHESTRATOR = "orchestrator"
    DEPLOYER = "deployer"
    ARTIFACT_STORE = "artifact_store"
    CONTAINER_REGISTRY = "container_registry"
    DATA_VALIDATOR = "data_validator"
    EXPERIMENT_TRACKER = "experiment_tracker"
    MODEL_DEPLOYER = "model_deployer"
    STEP_OPERATOR = "step_operator"
    ALERTER = "alerter"
    IMAGE_BUILDER = "image_builder"
    ANNOTATOR = "annotator"
    MODEL_REGISTRY = "model_registry"
    FEATURE_STORE = "feature_store"


REQUIRED_STACK_TYPES: tuple[ComponentType, ...] = (
    ComponentType.ORCHESTRATOR,
    ComponentType.ARTIFACT_STORE,
)


class ResourceType(str, Enum):
    """Kinds of resources a service connector can give access to."""

    AWS_GENERIC = "aws-generic"
    S3_BUCKET = "s3-bucket"
    KUBERNETES_CLUSTER = "kubernetes-cluster"
    DOCKER_REGISTRY = "docker-registry"
    GCP_GENERIC = "gcp-generic"
    GCS_BUCKET = "gcs-bucket"


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    for key in labels:
        if not LABEL_KEY_PATTERN.fullmatch(key):
            raise ValueError(f"invalid label key {key!r}: use lowercase letters, digits and _.:/-")
    return labels


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class ComponentSpec(_Model):
    """What a user (or a recipe's output mapping) asks to register as a component."""

    name: Name
    type: ComponentType
    flavor: str
    config: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    connector: Name | None = None

    _labels = field_validator("labels")(_check_labels)


class Component(ComponentSpec):
    """A registered stack component."""

    created_at: datetime
    updated_at: datetime


class ConnectorSpec(_Model):
    """What is asked to register as a service connector."""

    name: Name
    # The name of an installed connector type (``provisioner.connectors`` entry points). The registry
    # checks it when registering, not here: a connector whose plugin was uninstalled still loads.
    type: str
    auth_method: str
    configuration: dict[str, Any] = Field(default_factory=dict)
    resource_types: list[ResourceType] = Field(default_factory=list)
    env: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    _labels = field_validator("labels")(_check_labels)


class Connector(ConnectorSpec):
    """A registered service connector; secret configuration values are references.

    A disabled connector stays registered but is used for nothing: no verify, no credentials.
    """

    created_at: datetime
    updated_at: datetime
    disabled: bool = False


class TokenInfo(_Model):
    """An API token's record; the token itself is never stored (only its SHA-256)."""

    id: int
    user: str
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class StackSpec(_Model):
    """What is asked to register as a stack: a name plus one component per type."""

    name: Name
    components: dict[ComponentType, Name]
    labels: dict[str, str] = Field(default_factory=dict)

    _labels = field_validator("labels")(_check_labels)


class Stack(StackSpec):
    """A registered stack."""

    created_at: datetime
    updated_at: datetime


class SecretInfo(_Model):
    """A secret's metadata. Values never live on this model."""

    name: SecretName
    keys: list[str]
    backend: str
    owner: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class ComponentDetail(_Model):
    """A component with its connector spelled out, as ``describe`` shows it."""

    name: str
    type: ComponentType
    flavor: str
    config: dict[str, Any]
    labels: dict[str, str]
    connector: Connector | None = None


class StackDetail(_Model):
    """A stack with its components and their connectors, as ``stack describe`` shows it."""

    name: str
    active: bool
    labels: dict[str, str]
    components: dict[ComponentType, ComponentDetail]
    created_at: datetime
    updated_at: datetime


class SecretDetail(_Model):
    """A secret as ``secret describe`` shows it: values masked unless asked for."""

    name: str
    backend: str
    owner: str | None
    labels: dict[str, str]
    values: dict[str, str]


class LockInfo(BaseModel):
    """Who holds a stack's lock, and since when."""

    name: str
    operation: str
    user: str
    host: str
    pid: int
    token: str
    since: datetime

    def describe(self) -> str:
        return f"{self.operation} by {self.user} on {self.host}, pid {self.pid}, since {self.since:%Y-%m-%d %H:%M:%S} UTC"
