"""AWS resources created in moto through boto3 (in-process, or a moto server via AWS_ENDPOINT_URL).

The emulators live in one module per service; ``HANDLERS`` is the merged table of Pulumi type tokens."""

from __future__ import annotations

from provisioner.engine.emulators import aws_ec2, aws_ecr, aws_eks, aws_iam, aws_rds, aws_s3
from provisioner.engine.emulators.aws_s3 import S3BucketEmulator
from provisioner.engine.emulators.base import Emulator

HANDLERS: dict[str, Emulator] = {
    **aws_ec2.HANDLERS,
    **aws_iam.HANDLERS,
    **aws_eks.HANDLERS,
    **aws_s3.HANDLERS,
    **aws_ecr.HANDLERS,
    **aws_rds.HANDLERS,
}

__all__ = ["HANDLERS", "S3BucketEmulator"]
