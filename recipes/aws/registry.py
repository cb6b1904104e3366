"""ContainerRegistry: an ECR repository that scans on push and expires untagged images."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from recipes.aws.policies import ecr_lifecycle
from recipes.aws.tags import tagged


@dataclass
class ContainerRegistryArgs:
    untagged_expiry_days: int = 14
    tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "MUTABLE"
    force_delete: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


class ContainerRegistry(pulumi.ComponentResource):
    """One ECR repository with encryption, scan on push and a lifecycle policy."""

    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:aws:ContainerRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-images",
            name=f"{name}-images",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            image_tag_mutability=args.tag_mutability,
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
            force_delete=args.force_delete,
            tags=tagged(args.tags, f"{name}-images"),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(ecr_lifecycle(args.untagged_expiry_days)),
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        self.register_outputs(
            {"repository_url": self.repository_url, "repository_arn": self.repository_arn, "repository_name": self.repository_name}
        )
