"""IAM policy documents as plain data: no Pulumi calls, so they are unit-tested directly.

Allow statements never use wildcard actions. The TLS-only bucket policy denies ``s3:*`` over plain
HTTP: a Deny with a wildcard only takes permissions away, which is the point.
"""

from __future__ import annotations

import ipaddress
from typing import Any

Statement = dict[str, Any]

BUCKET_OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
BUCKET_LIST_ACTIONS = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
ECR_PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
ECR_PUSH_ACTIONS = [
    "ecr:PutImage",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
]


def document(*statements: Statement) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def bucket_read_write(bucket_arn: str, prefix: str = "") -> list[Statement]:
    """Read, write and list one bucket (optionally one prefix of it)."""
    objects = f"{bucket_arn}/{prefix}*" if prefix else f"{bucket_arn}/*"
    listing: Statement = {"Sid": "ListBucket", "Effect": "Allow", "Action": BUCKET_LIST_ACTIONS, "Resource": bucket_arn}
    if prefix:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    return [listing, {"Sid": "ObjectAccess", "Effect": "Allow", "Action": BUCKET_OBJECT_ACTIONS, "Resource": objects}]


def ecr_access(repository_arn: str, *, push: bool) -> list[Statement]:
    """Pull (and optionally push) images of one repository.

    ``ecr:GetAuthorizationToken`` has no resource-level permissions: AWS requires ``Resource: *``
    for it, and it grants nothing beyond a login token.
    """
    actions = ECR_PULL_ACTIONS + (ECR_PUSH_ACTIONS if push else [])
    return [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "EcrRepository", "Effect": "Allow", "Action": actions, "Resource": repository_arn},
    ]


def tls_only_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """Deny any request to the bucket that does not use TLS."""
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def service_trust(service: str) -> dict[str, Any]:
    """Trust policy letting an AWS service (eks, ec2, sagemaker) assume the role."""
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def principal_trust(principal_arn: str) -> dict[str, Any]:
    """Trust policy letting one principal (the deploying user or role) assume the role."""
    return document({"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"})


def irsa_trust(oidc_provider_arn: str, issuer_url: str, namespace: str, service_account: str) -> dict[str, Any]:
    """Trust policy for IAM Roles for Service Accounts: only that service account may assume the role."""
    issuer = issuer_url.removeprefix("https://")
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": oidc_provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                    f"{issuer}:aud": "sts.amazonaws.com",
                }
            },
        }
    )


def sagemaker_execution(bucket_arn: str, repository_arn: str, region: str, account_id: str) -> dict[str, Any]:
    """What a SageMaker training job of the step operator needs: data, its image, its logs and metrics."""
    log_group = f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/*"
    return document(
        *bucket_read_write(bucket_arn),
        *ecr_access(repository_arn, push=False),
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group, f"{log_group}:log-stream:*"],
        },
        {
            # PutMetricData has no resource-level permissions; the condition limits it to SageMaker's namespace.
            "Sid": "Metrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
        },
    )


CODEBUILD_RUN_ACTIONS = ["codebuild:StartBuild", "codebuild:BatchGetBuilds"]
# Where ZenML's AWS image builder uploads build contexts, under the artifact store's root.
BUILD_CONTEXT_PREFIX = "code-build-contexts/"


def codebuild_service(bucket_arn: str, repository_arn: str, log_group_arn: str) -> dict[str, Any]:
    """The CodeBuild project's role: read build contexts, push to the stack's repository, write its own logs."""
    return document(
        {
            "Sid": "BuildContextBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketAcl", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "BuildContexts",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"{bucket_arn}/{BUILD_CONTEXT_PREFIX}*",
        },
        *ecr_access(repository_arn, push=True),
        {
            "Sid": "BuildLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn.removesuffix(':*')}:*",
        },
    )


def connector_permissions(
    bucket_arn: str,
    repository_arn: str,
    cluster_arn: str,
    sagemaker_role_arn: str,
    region: str,
    account_id: str,
    codebuild_project_arn: str | None = None,
) -> dict[str, Any]:
    """What the registered components need through the connector, scoped to this stack's resources."""
    builds: list[Statement] = []
    if codebuild_project_arn:
        builds.append({"Sid": "ImageBuilds", "Effect": "Allow", "Action": CODEBUILD_RUN_ACTIONS, "Resource": codebuild_project_arn})
    return document(
        *bucket_read_write(bucket_arn),
        *ecr_access(repository_arn, push=True),
        {"Sid": "Cluster", "Effect": "Allow", "Action": ["eks:DescribeCluster"], "Resource": cluster_arn},
        *builds,
        {
            "Sid": "TrainingJobs",
            "Effect": "Allow",
            "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"],
            "Resource": f"arn:aws:sagemaker:{region}:{account_id}:training-job/*",
        },
        {
            "Sid": "PassSagemakerRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": sagemaker_role_arn,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
    )


def ecr_lifecycle(untagged_days: int) -> dict[str, Any]:
    """Expire untagged images after ``untagged_days`` days."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_days,
                },
                "action": {"type": "expire"},
            }
        ]
    }


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Public and private subnet CIDRs, one each per AZ, carved from the VPC in /+4 blocks.

    Public subnets take the first blocks; private ones start halfway, leaving room to grow.

    Raises:
        ValueError: the VPC is too small, or az_count is out of range.
    """
    network = ipaddress.ip_network(vpc_cidr)
    if not 2 <= az_count <= 6:
        raise ValueError(f"az_count must be between 2 and 6 (got {az_count})")
    if network.prefixlen > 20:
        raise ValueError(f"the VPC {vpc_cidr} is too small: use a /20 or larger")
    blocks = list(network.subnets(prefixlen_diff=4))
    half = len(blocks) // 2
    return [str(b) for b in blocks[:az_count]], [str(b) for b in blocks[half : half + az_count]]
