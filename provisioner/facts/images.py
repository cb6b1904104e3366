"""Container images the recipes run, pinned by tag, each with where the tag (and its maintenance) is stated.

Digests are not pinned: none of these publishers names a digest in a public source we could read,
and a digest copied from a third party's file proves nothing. The real engine sees what it pulled.
"""

from __future__ import annotations

from datetime import date

from provisioner.facts import Source

RECORDED = date(2026, 12, 2)

MLFLOW_VERSION = "3.17.2"  # the release the test suite runs against
# The -full variant carries mlflow[extras,db,auth,...]: boto3, psycopg2/psycopg, google-cloud-storage
# and the basic-auth app, so the pod installs nothing at start (published from MLflow 3.9.0 on).
MLFLOW_IMAGE = f"ghcr.io/mlflow/mlflow:v{MLFLOW_VERSION}-full"
MLFLOW_SOURCE = Source(
    title="MLflow Docker images: mlflow:VERSION-full (docker/README.md, docker/Dockerfile.full)",
    url="https://github.com/mlflow/mlflow/tree/master/docker",
    recorded=RECORDED,
)

# SeaweedFS (Apache-2.0): the in-cluster S3-compatible store of the kubernetes recipe, replacing MinIO.
SEAWEEDFS_VERSION = "4.48"
SEAWEEDFS_IMAGE = f"chrislusf/seaweedfs:{SEAWEEDFS_VERSION}"
SEAWEEDFS_SOURCE = Source(
    title="SeaweedFS releases (official image chrislusf/seaweedfs, Apache-2.0)",
    url="https://github.com/seaweedfs/seaweedfs/releases",
    recorded=RECORDED,
)

# kaniko: GoogleContainerTools/kaniko was archived in 2025; osscontainertools/kaniko is the maintained
# fork (same Apache-2.0 code base, releases continued from v1.24).
KANIKO_EXECUTOR_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.28.3"
KANIKO_SOURCE = Source(
    title="osscontainertools/kaniko releases (maintained fork of GoogleContainerTools/kaniko)",
    url="https://github.com/osscontainertools/kaniko/releases",
    recorded=RECORDED,
)

# AWS CodeBuild: a curated image AWS maintains, with Docker and the AWS CLI (pulled by CodeBuild itself).
CODEBUILD_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
CODEBUILD_SOURCE = Source(
    title="AWS CodeBuild: Docker images provided by CodeBuild",
    url="https://docs.aws.amazon.com/codebuild/latest/userguide/ec2-compute-images.html",
    recorded=RECORDED,
)

# Google Cloud Build: the docker builder Google publishes (ZenML's GCP image builder default).
CLOUD_BUILDER_IMAGE = "gcr.io/cloud-builders/docker"
CLOUD_BUILDER_SOURCE = Source(
    title="Cloud Build: supported builder images (cloud-builders/docker)",
    url="https://cloud.google.com/build/docs/cloud-builders",
    recorded=RECORDED,
)

SOURCES = (MLFLOW_SOURCE, SEAWEEDFS_SOURCE, KANIKO_SOURCE, CODEBUILD_SOURCE, CLOUD_BUILDER_SOURCE)

# Images no recipe may run (the conformance suite scans every plan for them).
BANNED_IMAGE_PREFIXES = (
    ("minio/", "MinIO stopped publishing community images in 2025"),
    ("quay.io/minio/", "MinIO stopped publishing community images in 2025"),
    ("docker.io/minio/", "MinIO stopped publishing community images in 2025"),
    ("bitnami/minio", "MinIO stopped publishing community images in 2025"),
    ("gcr.io/kaniko-project/", "GoogleContainerTools/kaniko was archived in 2025"),
)


def banned_image_reason(image: str) -> str | None:
    """Why ``image`` must not be deployed; None when nothing here objects to it."""
    name = image.strip().lower()
    for prefix, reason in BANNED_IMAGE_PREFIXES:
        if name.startswith(prefix):
            return reason
    return None
