"""GcsBucket and DockerRepository: private, uniformly controlled storage for artifacts and images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from provisioner.recipe_settings import BucketSettings, ContainerRegistrySettings


@dataclass
class GcpStorageWiring:
    project: str
    region: str
    labels: Mapping[str, str] = field(default_factory=dict)


class GcpStorage(pulumi.ComponentResource):
    """A GCS bucket (uniform access, public access prevented) and an Artifact Registry Docker repository.

    One component for both, unlike AWS's ArtifactBucket and ContainerRegistry, only to keep the URNs
    of existing stacks: splitting it needs Pulumi aliases, which the simulated engine cannot honour.
    """

    bucket_name: pulumi.Output[str]
    repository_id: pulumi.Output[str]
    repository_url: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        bucket_settings: BucketSettings,
        registry_settings: ContainerRegistrySettings,
        wiring: GcpStorageWiring,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("provisioner:gcp:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = gcp.storage.Bucket(
            f"{name}-artifacts",
            project=wiring.project,
            location=wiring.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=bucket_settings.versioning),
            force_destroy=bucket_settings.force_destroy,
            labels=dict(wiring.labels),
            opts=child,
        )
        repository = gcp.artifactregistry.Repository(
            f"{name}-images",
            project=wiring.project,
            location=wiring.region,
            repository_id=f"{name}-images",
            format="DOCKER",
            docker_config=gcp.artifactregistry.RepositoryDockerConfigArgs(immutable_tags=registry_settings.immutable_tags),
            cleanup_policies=[
                gcp.artifactregistry.RepositoryCleanupPolicyArgs(
                    id="expire-untagged",
                    action="DELETE",
                    condition=gcp.artifactregistry.RepositoryCleanupPolicyConditionArgs(
                        tag_state="UNTAGGED", older_than=f"{registry_settings.untagged_expiry_days * 86400}s"
                    ),
                )
            ],
            labels=dict(wiring.labels),
            opts=child,
        )
        self.bucket_name = bucket.name
        self.repository_id = repository.repository_id
        self.repository_url = repository.repository_id.apply(lambda repo: f"{wiring.region}-docker.pkg.dev/{wiring.project}/{repo}")
        self.register_outputs({"bucket_name": self.bucket_name, "repository_url": self.repository_url})
