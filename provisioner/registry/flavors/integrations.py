"""Flavors for tools no recipe deploys: alerting, annotation, validation, feature stores, W&B."""

from __future__ import annotations

from pydantic import Field

from provisioner.registry.flavors.base import Flavor, FlavorConfig, secret_field
from provisioner.registry.models import ComponentType


class SlackAlerterConfig(FlavorConfig):
    slack_token: str = secret_field("Bot token of the Slack app.")
    default_slack_channel_id: str = Field(description="Channel alerts go to.")


class LabelStudioAnnotatorConfig(FlavorConfig):
    instance_url: str = Field(description="URL of the Label Studio instance.")
    api_key: str = secret_field("Label Studio API key.")


class GreatExpectationsConfig(FlavorConfig):
    context_root_dir: str = Field("", description="Existing Great Expectations project folder, if any.")


class FeastFeatureStoreConfig(FlavorConfig):
    feast_repo: str = Field(description="Path of the Feast feature repository.")


class WandbTrackerConfig(FlavorConfig):
    entity: str = Field(description="W&B entity (user or team).")
    project_name: str = Field(description="W&B project.")
    api_key: str = secret_field("W&B API key.")


class SlackAlerterFlavor(Flavor):
    name = "slack"
    type = ComponentType.ALERTER
    config_class = SlackAlerterConfig
    description = "Posts alerts and approval requests to Slack."


class LabelStudioAnnotatorFlavor(Flavor):
    name = "label_studio"
    type = ComponentType.ANNOTATOR
    config_class = LabelStudioAnnotatorConfig
    description = "Labels data in Label Studio."


class GreatExpectationsFlavor(Flavor):
    name = "great_expectations"
    type = ComponentType.DATA_VALIDATOR
    config_class = GreatExpectationsConfig
    description = "Validates data with Great Expectations."


class EvidentlyFlavor(Flavor):
    name = "evidently"
    type = ComponentType.DATA_VALIDATOR
    description = "Checks data and model drift with Evidently."


class FeastFeatureStoreFlavor(Flavor):
    name = "feast"
    type = ComponentType.FEATURE_STORE
    config_class = FeastFeatureStoreConfig
    description = "Serves features with Feast."


class WandbExperimentTrackerFlavor(Flavor):
    name = "wandb"
    type = ComponentType.EXPERIMENT_TRACKER
    config_class = WandbTrackerConfig
    description = "Tracks experiments in Weights & Biases."


def flavors() -> list[type[Flavor]]:
    """Flavors of third-party tools that recipes do not deploy."""
    return [
        SlackAlerterFlavor,
        LabelStudioAnnotatorFlavor,
        GreatExpectationsFlavor,
        EvidentlyFlavor,
        FeastFeatureStoreFlavor,
        WandbExperimentTrackerFlavor,
    ]
