"""Configuration schemas of service connectors, per connector type and auth method."""

from __future__ import annotations

from pydantic import Field

from provisioner.errors import InputError
from provisioner.registry.flavors.base import FlavorConfig, secret_field
from provisioner.registry.models import ConnectorType, ResourceType


class _AwsBase(FlavorConfig):
    region: str = Field(description="AWS region, for example eu-west-1.")


class AwsIamRoleConfig(_AwsBase):
    role_arn: str = Field(description="Role the connector assumes.")
    external_id: str = secret_field("External id the role's trust policy requires.", default="")


class AwsSecretKeyConfig(_AwsBase):
    aws_access_key_id: str = secret_field("Access key id.")
    aws_secret_access_key: str = secret_field("Secret access key.")


class AwsSessionTokenConfig(AwsSecretKeyConfig):
    aws_session_token: str = secret_field("Session token of temporary credentials.")


class AwsImplicitConfig(_AwsBase):
    profile: str = Field("", description="Named profile; empty means the default credential chain.")


class GcpServiceAccountConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")
    service_account_json: str = secret_field("Service account key, as JSON.")


class GcpImpersonationConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")
    target_principal: str = Field(description="Service account email to impersonate.")


class GcpImplicitConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")


class KubernetesTokenConfig(FlavorConfig):
    server: str = Field(description="API server URL.")
    token: str = secret_field("Bearer token.")
    certificate_authority: str = Field("", description="CA certificate (PEM) of the API server.")
    insecure: bool = Field(False, description="Skip TLS verification.")


class KubernetesKubeconfigConfig(FlavorConfig):
    kubeconfig: str = secret_field("Contents of a kubeconfig file.")
    context: str = Field("", description="Context to use; empty means the current context.")


AUTH_METHODS: dict[ConnectorType, dict[str, type[FlavorConfig]]] = {
    ConnectorType.AWS: {
        "iam-role": AwsIamRoleConfig,
        "secret-key": AwsSecretKeyConfig,
        "session-token": AwsSessionTokenConfig,
        "implicit": AwsImplicitConfig,
    },
    ConnectorType.GCP: {
        "service-account": GcpServiceAccountConfig,
        "impersonation": GcpImpersonationConfig,
        "implicit": GcpImplicitConfig,
    },
    ConnectorType.KUBERNETES: {
        "token": KubernetesTokenConfig,
        "kubeconfig": KubernetesKubeconfigConfig,
    },
}

RESOURCE_TYPES: dict[ConnectorType, tuple[ResourceType, ...]] = {
    ConnectorType.AWS: (
        ResourceType.AWS_GENERIC,
        ResourceType.S3_BUCKET,
        ResourceType.KUBERNETES_CLUSTER,
        ResourceType.DOCKER_REGISTRY,
    ),
    ConnectorType.GCP: (
        ResourceType.GCP_GENERIC,
        ResourceType.GCS_BUCKET,
        ResourceType.KUBERNETES_CLUSTER,
        ResourceType.DOCKER_REGISTRY,
    ),
    ConnectorType.KUBERNETES: (ResourceType.KUBERNETES_CLUSTER,),
}


def config_class_for(connector_type: ConnectorType, auth_method: str) -> type[FlavorConfig]:
    """The schema of a connector's configuration, or an InputError naming the allowed methods."""
    methods = AUTH_METHODS[connector_type]
    if auth_method not in methods:
        allowed = ", ".join(methods)
        raise InputError(
            f"unknown auth method {auth_method!r} for {connector_type.value} connectors (allowed: {allowed})"
        )
    return methods[auth_method]


def check_resource_types(connector_type: ConnectorType, resource_types: list[ResourceType]) -> None:
    """Raise InputError if a resource type does not belong to this connector type."""
    allowed = RESOURCE_TYPES[connector_type]
    for resource_type in resource_types:
        if resource_type not in allowed:
            names = ", ".join(r.value for r in allowed)
            raise InputError(
                f"resource type {resource_type.value!r} is not offered by {connector_type.value} connectors "
                f"(allowed: {names})"
            )
