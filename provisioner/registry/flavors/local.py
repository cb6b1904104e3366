"""Local and default flavors: everything runs on the user's machine."""

from __future__ import annotations

from pydantic import Field

from provisioner.registry.flavors.base import Flavor, FlavorConfig
from provisioner.registry.models import ComponentType

LOCAL = "local"
DEFAULT = "default"


class LocalArtifactStoreConfig(FlavorConfig):
    path: str = Field("", description="Folder for artifacts; empty means a folder in the provisioner home.")


class DefaultContainerRegistryConfig(FlavorConfig):
    uri: str = Field(description="Registry address, for example localhost:5000.")


class LocalOrchestratorFlavor(Flavor):
    name = LOCAL
    type = ComponentType.ORCHESTRATOR
    description = "Runs pipeline steps as local processes."


class LocalArtifactStoreFlavor(Flavor):
    name = LOCAL
    type = ComponentType.ARTIFACT_STORE
    config_class = LocalArtifactStoreConfig
    description = "Keeps artifacts in a local folder."


class DefaultContainerRegistryFlavor(Flavor):
    name = DEFAULT
    type = ComponentType.CONTAINER_REGISTRY
    config_class = DefaultContainerRegistryConfig
    description = "Any Docker registry reachable by URI."


class LocalImageBuilderFlavor(Flavor):
    name = LOCAL
    type = ComponentType.IMAGE_BUILDER
    description = "Builds images with the local Docker daemon."


class LocalDeployerFlavor(Flavor):
    name = LOCAL
    type = ComponentType.DEPLOYER
    description = "Serves pipelines as local HTTP processes."


def flavors() -> list[type[Flavor]]:
    """The local and default flavors."""
    return [
        LocalOrchestratorFlavor,
        LocalArtifactStoreFlavor,
        DefaultContainerRegistryFlavor,
        LocalImageBuilderFlavor,
        LocalDeployerFlavor,
    ]
