"""GCP flavors: GCS, Artifact Registry, Vertex AI, Cloud Build."""

from __future__ import annotations

import re

from pydantic import Field, PositiveInt, field_validator

from provisioner.facts import images
from provisioner.registry.flavors.base import Flavor, FlavorConfig, require_prefix
from provisioner.registry.models import ComponentType, ResourceType

GCP = "gcp"
VERTEX = "vertex"

ARTIFACT_REGISTRY_URI = re.compile(r"^[a-z0-9-]+-docker\.pkg\.dev/[a-z][a-z0-9-]{4,28}[a-z0-9](/[a-z0-9._-]+)?$")
SERVICE_ACCOUNT_EMAIL = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$")


class GcsArtifactStoreConfig(FlavorConfig):
    path: str = Field(description="Root of the artifact store, gs://bucket[/prefix].")

    @field_validator("path")
    @classmethod
    def _gs_path(cls, value: str) -> str:
        return require_prefix(value, ("gs://",), "path")


class GcpContainerRegistryConfig(FlavorConfig):
    uri: str = Field(description="Artifact Registry address, REGION-docker.pkg.dev/PROJECT/REPOSITORY.")

    @field_validator("uri")
    @classmethod
    def _registry_uri(cls, value: str) -> str:
        if not ARTIFACT_REGISTRY_URI.fullmatch(value):
            raise ValueError(
                f"must be an Artifact Registry URI like europe-west1-docker.pkg.dev/my-project/images (got {value!r})"
            )
        return value


class VertexStepOperatorConfig(FlavorConfig):
    project: str = Field(description="GCP project id.")
    region: str = Field(description="Vertex AI region, for example europe-west1.")
    service_account: str = Field(description="Service account the jobs run as.")
    machine_type: str = Field("n1-standard-4", description="Default machine type.")

    @field_validator("service_account")
    @classmethod
    def _email(cls, value: str) -> str:
        if not SERVICE_ACCOUNT_EMAIL.fullmatch(value):
            raise ValueError(f"must be a service account email (got {value!r})")
        return value


class VertexOrchestratorConfig(FlavorConfig):
    project: str = Field(description="GCP project id.")
    location: str = Field(description="Vertex AI region.")
    workload_service_account: str = Field(description="Service account the pipeline steps run as.")


class GcpImageBuilderConfig(FlavorConfig):
    """The fields of ZenML's ``GCPImageBuilderConfig`` (integrations/gcp/flavors/gcp_image_builder_flavor.py)."""

    project: str = Field(description="GCP project id that runs Cloud Build.")
    cloud_builder_image: str = Field(images.CLOUD_BUILDER_IMAGE, description="Image of the build steps.")
    network: str = Field("cloudbuild", description="Docker network the build container is attached to.")
    build_timeout: PositiveInt = Field(3600, description="Build timeout in seconds.")
    location: str | None = Field(None, description="Cloud Build region; unset: the global endpoint.")


class GcsArtifactStoreFlavor(Flavor):
    name = GCP
    type = ComponentType.ARTIFACT_STORE
    config_class = GcsArtifactStoreConfig
    connector_resource_type = ResourceType.GCS_BUCKET
    description = "Artifacts in a Google Cloud Storage bucket."


class GcpContainerRegistryFlavor(Flavor):
    name = GCP
    type = ComponentType.CONTAINER_REGISTRY
    config_class = GcpContainerRegistryConfig
    connector_resource_type = ResourceType.DOCKER_REGISTRY
    description = "Images in Google Artifact Registry."


class VertexStepOperatorFlavor(Flavor):
    name = VERTEX
    type = ComponentType.STEP_OPERATOR
    config_class = VertexStepOperatorConfig
    connector_resource_type = ResourceType.GCP_GENERIC
    description = "Runs single steps as Vertex AI custom jobs."


class VertexOrchestratorFlavor(Flavor):
    name = VERTEX
    type = ComponentType.ORCHESTRATOR
    config_class = VertexOrchestratorConfig
    connector_resource_type = ResourceType.GCP_GENERIC
    description = "Runs pipelines on Vertex AI Pipelines."


class GcpImageBuilderFlavor(Flavor):
    name = GCP
    type = ComponentType.IMAGE_BUILDER
    config_class = GcpImageBuilderConfig
    connector_resource_type = ResourceType.GCP_GENERIC
    description = "Builds images with Google Cloud Build."


def flavors() -> list[type[Flavor]]:
    """The GCP flavors."""
    return [
        GcsArtifactStoreFlavor,
        GcpContainerRegistryFlavor,
        VertexStepOperatorFlavor,
        VertexOrchestratorFlavor,
        GcpImageBuilderFlavor,
    ]
