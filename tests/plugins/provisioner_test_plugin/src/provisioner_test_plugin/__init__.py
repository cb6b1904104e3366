"""A third-party package that adds two flavors to provisioner."""

from pydantic import Field

from provisioner.registry.flavors import Flavor, FlavorConfig, secret_field
from provisioner.registry.models import ComponentType


class DiscordAlerterConfig(FlavorConfig):
    webhook_url: str = secret_field("Discord webhook URL.")
    username: str = Field("provisioner", description="Name the alerts are posted as.")


class DiscordAlerterFlavor(Flavor):
    name = "discord"
    type = ComponentType.ALERTER
    config_class = DiscordAlerterConfig
    description = "Posts alerts to a Discord channel."


class MinioArtifactStoreConfig(FlavorConfig):
    path: str = Field(description="s3://bucket on the MinIO server.")
    endpoint_url: str = Field(description="MinIO endpoint.")


class MinioArtifactStoreFlavor(Flavor):
    name = "minio"
    type = ComponentType.ARTIFACT_STORE
    config_class = MinioArtifactStoreConfig
    description = "Artifacts on a MinIO server."


def flavors() -> list[type[Flavor]]:
    return [DiscordAlerterFlavor, MinioArtifactStoreFlavor]
