"""AWS flavors: S3, ECR, SageMaker, CodeBuild."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from provisioner.facts import images
from provisioner.registry.flavors.base import (
    Flavor,
    FlavorConfig,
    require_prefix,
    secret_field,
)
from provisioner.registry.models import ComponentType, ResourceType

S3 = "s3"
AWS = "aws"
SAGEMAKER = "sagemaker"

ECR_URI = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(/[a-z0-9._/-]+)?$")
CODEBUILD_PROJECT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


def _role_arn(value: str) -> str:
    if not IAM_ROLE_ARN.fullmatch(value):
        raise ValueError(f"must be an IAM role ARN like arn:aws:iam::123456789012:role/NAME (got {value!r})")
    return value


class S3ArtifactStoreConfig(FlavorConfig):
    path: str = Field(description="Root of the artifact store, s3://bucket[/prefix].")
    endpoint_url: str = Field("", description="S3-compatible endpoint (e.g. SeaweedFS in the cluster); empty means AWS S3.")
    aws_access_key_id: str = secret_field("Access key for an S3-compatible store; empty: use the connector.", default="")
    aws_secret_access_key: str = secret_field("Secret key for an S3-compatible store.", default="")

    @field_validator("path")
    @classmethod
    def _s3_path(cls, value: str) -> str:
        return require_prefix(value, ("s3://",), "path")


class AwsContainerRegistryConfig(FlavorConfig):
    uri: str = Field(description="ECR address, ACCOUNT.dkr.ecr.REGION.amazonaws.com[/repository].")

    @field_validator("uri")
    @classmethod
    def _ecr_uri(cls, value: str) -> str:
        if not ECR_URI.fullmatch(value):
            raise ValueError(f"must be an ECR URI like 123456789012.dkr.ecr.eu-west-1.amazonaws.com (got {value!r})")
        return value


class SagemakerStepOperatorConfig(FlavorConfig):
    role: str = Field(description="ARN of the SageMaker execution role.")
    bucket: str = Field("", description="Bucket for SageMaker job data, s3://bucket.")
    instance_type: str = Field("ml.m5.large", description="Default training instance type.")

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _role_arn(value)

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        return require_prefix(value, ("s3://",), "bucket") if value else value


class SagemakerOrchestratorConfig(FlavorConfig):
    execution_role: str = Field(description="ARN of the SageMaker pipelines execution role.")
    bucket: str = Field("", description="Bucket for pipeline data, s3://bucket.")

    @field_validator("execution_role")
    @classmethod
    def _role(cls, value: str) -> str:
        return _role_arn(value)


class AwsImageBuilderConfig(FlavorConfig):
    """The fields of ZenML's ``AWSImageBuilderConfig`` (integrations/aws/flavors/aws_image_builder_flavor.py)."""

    code_build_project: str = Field(description="Name of the CodeBuild project that runs the builds.")
    build_image: str = Field(images.CODEBUILD_IMAGE, description="Build environment image; it must run Docker.")
    custom_env_vars: dict[str, str] | None = Field(None, description="Extra environment variables of each build.")
    compute_type: str = Field("BUILD_GENERAL1_SMALL", description="CodeBuild compute type.")
    implicit_container_registry_auth: bool = Field(
        True, description="Log in to ECR with the build's role; false passes the registry's credentials to the build."
    )

    @field_validator("code_build_project")
    @classmethod
    def _project_name(cls, value: str) -> str:
        if not CODEBUILD_PROJECT.fullmatch(value):
            raise ValueError(f"must be a CodeBuild project name: 2-255 letters, digits, '-' or '_' (got {value!r})")
        return value


class S3ArtifactStoreFlavor(Flavor):
    name = S3
    type = ComponentType.ARTIFACT_STORE
    config_class = S3ArtifactStoreConfig
    connector_resource_type = ResourceType.S3_BUCKET
    description = "Artifacts in an S3 bucket."


class AwsContainerRegistryFlavor(Flavor):
    name = AWS
    type = ComponentType.CONTAINER_REGISTRY
    config_class = AwsContainerRegistryConfig
    connector_resource_type = ResourceType.DOCKER_REGISTRY
    description = "Images in Amazon ECR."


class SagemakerStepOperatorFlavor(Flavor):
    name = SAGEMAKER
    type = ComponentType.STEP_OPERATOR
    config_class = SagemakerStepOperatorConfig
    connector_resource_type = ResourceType.AWS_GENERIC
    description = "Runs single steps as SageMaker training jobs."


class SagemakerOrchestratorFlavor(Flavor):
    name = SAGEMAKER
    type = ComponentType.ORCHESTRATOR
    config_class = SagemakerOrchestratorConfig
    connector_resource_type = ResourceType.AWS_GENERIC
    description = "Runs pipelines as SageMaker Pipelines."


class AwsImageBuilderFlavor(Flavor):
    name = AWS
    type = ComponentType.IMAGE_BUILDER
    config_class = AwsImageBuilderConfig
    connector_resource_type = ResourceType.AWS_GENERIC
    description = "Builds images with AWS CodeBuild."


def flavors() -> list[type[Flavor]]:
    """The AWS flavors."""
    return [
        S3ArtifactStoreFlavor,
        AwsContainerRegistryFlavor,
        SagemakerStepOperatorFlavor,
        SagemakerOrchestratorFlavor,
        AwsImageBuilderFlavor,
    ]
