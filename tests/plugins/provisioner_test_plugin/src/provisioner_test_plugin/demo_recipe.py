"""A minimal recipe for lifecycle tests: an S3 bucket and a generated MLflow password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from provisioner.recipe_api import (
    ComponentEntry,
    ProviderPlugin,
    Recipe,
    RecipeArgs,
    RecipeContext,
    RecipeOutputs,
    RegistrationPlan,
    secret_output,
)


class TrackerArgs(RecipeArgs):
    username: str = "admin"
    replicas: int = Field(1, ge=1, le=5)


class DemoArgs(RecipeArgs):
    versioning: bool = False
    force_destroy: bool = True
    tracker: TrackerArgs = Field(default_factory=TrackerArgs)
    extra_tags: dict[str, str] = Field(default_factory=dict)
    license_key: str = Field("", json_schema_extra={"secret": True})


class DemoOutputs(RecipeOutputs):
    """What the demo program exports."""

    bucket_name: str
    tracking_uri: str
    tracking_username: str
    tracking_password: str = secret_output()


class DemoRecipe(Recipe):
    name = "demo"
    description = "Test recipe: an artifact bucket plus a tracker password."
    args_model = DemoArgs
    presets = {
        "dev": {"force_destroy": True},
        "staging": {"versioning": True, "force_destroy": False},
        "prod": {"versioning": True, "force_destroy": False, "tracker": {"replicas": 2}},
    }
    default_region = "eu-west-1"
    plugins = (ProviderPlugin("aws", "pulumi-aws"), ProviderPlugin("random", "pulumi-random"))
    outputs_model = DemoOutputs
    provider_config_keys = {"aws:region": "region"}

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        import pulumi
        import pulumi_aws as aws
        import pulumi_random as random

        assert isinstance(args, DemoArgs)
        bucket = aws.s3.Bucket(
            f"{context.stack_name}-artifacts",
            force_destroy=args.force_destroy,
            tags={**context.tags, **args.extra_tags},
        )
        password = random.RandomPassword(
            f"{context.stack_name}-tracker-password",
            length=24,
            special=False,
            opts=pulumi.ResourceOptions(depends_on=[bucket]),
        )
        pulumi.export("bucket_name", bucket.bucket)
        pulumi.export("tracking_uri", f"https://mlflow.{context.stack_name}.example.com")
        pulumi.export("tracking_username", args.tracker.username)
        pulumi.export("tracking_password", pulumi.Output.secret(password.result))

    def registration(self, outputs: Mapping[str, Any], context: RecipeContext) -> RegistrationPlan:
        prefix = context.stack_name
        return RegistrationPlan(
            components=[
                ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "local", {}),
                ComponentEntry(f"{prefix}-artifacts", "artifact_store", "s3", {"path": f"s3://{outputs['bucket_name']}"}),
                ComponentEntry(
                    f"{prefix}-tracker",
                    "experiment_tracker",
                    "mlflow",
                    {
                        "tracking_uri": outputs["tracking_uri"],
                        "tracking_username": outputs["tracking_username"],
                        "tracking_password": outputs["tracking_password"],
                    },
                ),
            ]
        )

    def summary(self, outputs: Mapping[str, Any], context: RecipeContext) -> list[str]:
        return [f"MLflow UI: {outputs['tracking_uri']} (user {outputs['tracking_username']})"]
