"""ArtifactBucket: encrypted, private, TLS-only S3 bucket; versioned in prod; force_destroy only in dev."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from provisioner.recipe_settings import BucketSettings
from recipes.aws.policies import tls_only_bucket_policy
from recipes.aws.tags import tagged


@dataclass
class ArtifactBucketWiring:
    protect: bool = False  # Pulumi protect: `pulumi destroy` refuses to delete the bucket
    tags: Mapping[str, str] = field(default_factory=dict)


class ArtifactBucket(pulumi.ComponentResource):
    """The bucket plus its encryption, public access block, TLS-only policy and versioning."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]

    def __init__(
        self, name: str, settings: BucketSettings, wiring: ArtifactBucketWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("provisioner:aws:ArtifactBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            force_destroy=settings.force_destroy,
            tags=tagged(wiring.tags, f"{name}-bucket"),
            opts=pulumi.ResourceOptions(parent=self, protect=wiring.protect),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms"
                    ),
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block]),
        )
        if settings.versioning:
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "bucket_arn": self.bucket_arn})
