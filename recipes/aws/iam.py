"""IAM roles of the stack: IRSA roles for workloads and MLflow, the SageMaker role, the connector role."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from recipes.aws import policies
from recipes.aws.tags import tagged


@dataclass
class StackRolesArgs:
    """What the roles are scoped to."""

    bucket_arn: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]
    pipelines_service_account: tuple[str, str]
    mlflow_service_account: tuple[str, str]
    connector_principal_arn: pulumi.Input[str]
    region: str
    account_id: pulumi.Input[str]
    # The image builder's CodeBuild project: the connector may start and read its builds.
    codebuild_project_arn: pulumi.Input[str] = ""
    tags: Mapping[str, str] = field(default_factory=dict)


class StackRoles(pulumi.ComponentResource):
    """Four roles, each with one inline policy scoped to this stack's bucket, repository and cluster."""

    pipelines_role_arn: pulumi.Output[str]
    mlflow_role_arn: pulumi.Output[str]
    sagemaker_role_arn: pulumi.Output[str]
    connector_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: StackRolesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:aws:StackRoles", name, None, opts)
        self._name = name
        self._args = args

        def irsa(account: tuple[str, str]) -> pulumi.Output[str]:
            namespace, service_account = account
            return pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
                lambda parts: json.dumps(policies.irsa_trust(parts[0], parts[1], namespace, service_account))
            )

        pipelines = self._role(
            "pipelines",
            irsa(args.pipelines_service_account),
            [args.bucket_arn, args.repository_arn],
            lambda bucket, repo: policies.document(*policies.bucket_read_write(bucket), *policies.ecr_access(repo, push=True)),
        )
        mlflow = self._role(
            "mlflow",
            irsa(args.mlflow_service_account),
            [args.bucket_arn],
            lambda bucket: policies.document(*policies.bucket_read_write(bucket, prefix="mlflow/")),
        )
        sagemaker = self._role(
            "sagemaker",
            json.dumps(policies.service_trust("sagemaker.amazonaws.com")),
            [args.bucket_arn, args.repository_arn, args.account_id],
            lambda bucket, repo, account: policies.sagemaker_execution(bucket, repo, args.region, account),
        )
        connector = self._role(
            "connector",
            pulumi.Output.from_input(args.connector_principal_arn).apply(lambda arn: json.dumps(policies.principal_trust(arn))),
            [args.bucket_arn, args.repository_arn, args.cluster_arn, sagemaker.arn, args.account_id, args.codebuild_project_arn],
            lambda bucket, repo, cluster, role, account, project: policies.connector_permissions(
                bucket, repo, cluster, role, args.region, account, codebuild_project_arn=project or None
            ),
        )
        self.pipelines_role_arn = pipelines.arn
        self.mlflow_role_arn = mlflow.arn
        self.sagemaker_role_arn = sagemaker.arn
        self.connector_role_arn = connector.arn
        self.register_outputs(
            {
                "pipelines_role_arn": self.pipelines_role_arn,
                "mlflow_role_arn": self.mlflow_role_arn,
                "sagemaker_role_arn": self.sagemaker_role_arn,
                "connector_role_arn": self.connector_role_arn,
            }
        )

    def _role(
        self,
        kind: str,
        trust: pulumi.Input[str],
        inputs: list[pulumi.Input[Any]],
        build_policy: Callable[..., dict[str, Any]],
    ) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-{kind}",
            assume_role_policy=trust,
            tags=tagged(self._args.tags, f"{self._name}-{kind}"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{self._name}-{kind}-policy",
            role=role.name,
            policy=pulumi.Output.all(*inputs).apply(lambda values: json.dumps(build_policy(*values))),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return role
