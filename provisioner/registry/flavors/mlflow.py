"""MLflow flavors: experiment tracking, model registry and model serving."""

from __future__ import annotations

from pydantic import Field, field_validator

from provisioner.registry.flavors.base import Flavor, FlavorConfig, require_prefix, secret_field
from provisioner.registry.models import ComponentType

MLFLOW = "mlflow"


class MlflowTrackerConfig(FlavorConfig):
    tracking_uri: str = Field(description="URL of the MLflow tracking server.")
    tracking_username: str = Field("", description="User for MLflow basic auth.")
    tracking_password: str = secret_field("Password for MLflow basic auth.", default="")
    tracking_insecure_tls: bool = Field(False, description="Skip TLS verification (self-signed certificates).")

    @field_validator("tracking_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        return require_prefix(value, ("http://", "https://", "file:", "databricks"), "tracking_uri")


class MlflowModelRegistryConfig(FlavorConfig):
    tracking_uri: str = Field("", description="Registry server; empty means the stack's experiment tracker.")


class MlflowExperimentTrackerFlavor(Flavor):
    name = MLFLOW
    type = ComponentType.EXPERIMENT_TRACKER
    config_class = MlflowTrackerConfig
    description = "Tracks experiments on an MLflow server."


class MlflowModelRegistryFlavor(Flavor):
    name = MLFLOW
    type = ComponentType.MODEL_REGISTRY
    config_class = MlflowModelRegistryConfig
    description = "Registers models in the MLflow model registry."


class MlflowModelDeployerFlavor(Flavor):
    name = MLFLOW
    type = ComponentType.MODEL_DEPLOYER
    description = "Serves models locally with MLflow's scoring server."


def flavors() -> list[type[Flavor]]:
    """The MLflow flavors."""
    return [MlflowExperimentTrackerFlavor, MlflowModelRegistryFlavor, MlflowModelDeployerFlavor]
