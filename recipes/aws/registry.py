"""ContainerRegistry: an ECR repository that scans on push and expires untagged images."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from provisioner.recipe_settings import ContainerRegistrySettings
from recipes.aws.policies import ecr_lifecycle
from recipes.aws.tags import tagged


@dataclass
class ContainerRegistryWiring:
    force_delete: bool = False  # delete the repository with its images (dev)
    tags: Mapping[str, str] = field(default_factory=dict)


class ContainerRegistry(pulumi.ComponentResource):
    """One ECR repository with encryption, scan on push and a lifecycle policy."""

    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    repository_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: ContainerRegistrySettings,
        wiring: ContainerRegistryWiring,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("provisioner:aws:ContainerRegistry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-images",
            name=f"{name}-images",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            image_tag_mutability="IMMUTABLE" if settings.immutable_tags else "MUTABLE",
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
            force_delete=wiring.force_delete,
            tags=tagged(wiring.tags, f"{name}-images"),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=repository.name,
            policy=json.dumps(ecr_lifecycle(settings.untagged_expiry_days)),
            opts=child,
        )
        self.repository_url = repository.repository_url
        self.repository_arn = repository.arn
        self.repository_name = repository.name
        self.register_outputs(
            {"repository_url": self.repository_url, "repository_arn": self.repository_arn, "repository_name": self.repository_name}
        )
