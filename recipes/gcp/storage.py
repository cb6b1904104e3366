"""GcsBucket and DockerRepository: private, uniformly controlled storage for artifacts and images."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp


@dataclass
class GcpStorageArgs:
    project: str
    region: str
    versioning: bool = False
    force_destroy: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


class GcpStorage(pulumi.ComponentResource):
    """A GCS bucket (uniform access, public access prevented) and an Artifact Registry Docker repository."""

    bucket_name: pulumi.Output[str]
    repository_id: pulumi.Output[str]
    repository_url: pulumi.Output[str]

    def __init__(self, name: str, args: GcpStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = gcp.storage.Bucket(
            f"{name}-artifacts",
            project=args.project,
            location=args.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=args.versioning),
            force_destroy=args.force_destroy,
            labels=dict(args.labels),
            opts=child,
        )
        repository = gcp.artifactregistry.Repository(
            f"{name}-images",
            project=args.project,
            location=args.region,
            repository_id=f"{name}-images",
            format="DOCKER",
            labels=dict(args.labels),
            opts=child,
        )
        self.bucket_name = bucket.name
        self.repository_id = repository.repository_id
        self.repository_url = repository.repository_id.apply(lambda repo: f"{args.region}-docker.pkg.dev/{args.project}/{repo}")
        self.register_outputs({"bucket_name": self.bucket_name, "repository_url": self.repository_url})
