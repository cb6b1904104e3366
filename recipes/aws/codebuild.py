"""ImageBuilderProject: the CodeBuild project ZenML's `aws` image builder runs, with a least-privilege role.

Each build is started through the connector with its own source (a build context ZenML uploads to the
artifact bucket) and buildspec; the project fixes the environment, the role, the logs and the key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from provisioner.facts import images
from recipes.aws import policies
from recipes.aws.tags import tagged

COMPUTE_TYPE = "BUILD_GENERAL1_SMALL"
BUILD_TIMEOUT_MINUTES = 60
LOG_RETENTION_DAYS = 30
# CodeBuild's AWS-managed S3 key: build outputs and caches are encrypted at rest.
ENCRYPTION_KEY = "alias/aws/s3"


@dataclass
class ImageBuilderWiring:
    """What the builds read from and push to."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    tags: Mapping[str, str] = field(default_factory=dict)


class ImageBuilderProject(pulumi.ComponentResource):
    """A CodeBuild project (privileged: it runs `docker build`), its log group and its service role."""

    project_name: pulumi.Output[str]
    project_arn: pulumi.Output[str]
    build_image: str
    compute_type: str

    def __init__(self, name: str, wiring: ImageBuilderWiring, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:aws:ImageBuilderProject", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=LOG_RETENTION_DAYS, tags=tagged(wiring.tags, f"{name}-logs"), opts=child
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(policies.service_trust("codebuild.amazonaws.com")),
            tags=tagged(wiring.tags, f"{name}-role"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.name,
            policy=pulumi.Output.all(wiring.bucket_arn, wiring.repository_arn, logs.arn).apply(
                lambda arns: json.dumps(policies.codebuild_service(arns[0], arns[1], arns[2]))
            ),
            opts=child,
        )
        self.build_image = images.CODEBUILD_IMAGE
        self.compute_type = COMPUTE_TYPE
        # Project names are unique per account and region: a random suffix keeps two deployments of one
        # stack name apart, and the registered name is known without reading the project back.
        suffix = random.RandomString(f"{name}-project-suffix", length=8, special=False, opts=child)
        project = aws.codebuild.Project(
            f"{name}-project",
            name=pulumi.Output.concat(name, "-", suffix.result),
            description="Builds pipeline images for ZenML's aws image builder",
            service_role=role.arn,
            build_timeout=BUILD_TIMEOUT_MINUTES,
            encryption_key=ENCRYPTION_KEY,
            artifacts=aws.codebuild.ProjectArtifactsArgs(type="NO_ARTIFACTS"),
            # Every build overrides the source with its own uploaded context.
            source=aws.codebuild.ProjectSourceArgs(
                type="S3", location=pulumi.Output.concat(wiring.bucket_name, "/", policies.BUILD_CONTEXT_PREFIX)
            ),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type="LINUX_CONTAINER",
                compute_type=COMPUTE_TYPE,
                image=self.build_image,
                image_pull_credentials_type="CODEBUILD",
                # CodeBuild runs a Docker daemon only in privileged mode, and `docker build` needs one.
                privileged_mode=True,
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(status="ENABLED", group_name=logs.name),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status="DISABLED"),
            ),
            tags=tagged(wiring.tags, f"{name}-project"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.project_name = project.name
        self.project_arn = project.arn
        self.register_outputs({"project_name": self.project_name, "project_arn": self.project_arn})
