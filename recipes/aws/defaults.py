"""Defaults of the AWS recipe: versions, managed policies, and the per-env preset table."""

from __future__ import annotations

from typing import Any

from provisioner.recipe_api import RetentionPolicy

# Versions are not pinned here: EKS's newest in standard support is resolved on the first deploy
# (recipes/aws/cluster.py), RDS takes the major and picks its current minor. See provisioner/facts.
POSTGRES_VERSION = "16"
EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
STORAGE_CLASS = "gp3"
DEFAULT_REGION = "eu-west-1"
# Commercial regions with EKS, RDS PostgreSQL and SageMaker.
REGIONS = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
    "ap-south-1", "ap-south-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-east-1",
    "me-south-1", "me-central-1", "af-south-1", "il-central-1",
)
VPC_CIDR = "10.40.0.0/16"
NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"
GPU_AMI_TYPE = "AL2023_x86_64_NVIDIA"
# EKS ignores the thumbprint for its OIDC issuers; the API still wants one (the root CA's).
OIDC_THUMBPRINT = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
MLFLOW_ARTIFACT_PREFIX = "mlflow"
DB_NAME = "mlflow"
DB_USER = "mlflow"
DB_PORT = 5432
CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator"]

# AWS-managed policies we attach: the minimum EKS needs. Never a *FullAccess policy.
EKS_CLUSTER_POLICIES = ("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",)
EKS_NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)

# The preset table: one row per setting, one column per env. README shows it with the reasons.
PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "network": {"az_count": 2, "nat_gateways": "single"},
        "cluster": {
            "control_plane_logging": False,
            "nodes": {"instance_type": "t3.large", "desired": 1, "min": 1, "max": 2, "spot": True},
        },
        "bucket": {"versioning": False, "force_destroy": True},
        "registry": {"untagged_expiry_days": 7, "immutable_tags": False},
        "database": {"enabled": False},
    },
    "staging": {
        "network": {"az_count": 2, "nat_gateways": "single"},
        "cluster": {
            "control_plane_logging": False,
            "nodes": {"instance_type": "t3.xlarge", "desired": 2, "min": 1, "max": 4, "spot": False},
        },
        "bucket": {"versioning": False, "force_destroy": False},
        "registry": {"untagged_expiry_days": 14, "immutable_tags": False},
        "database": {
            "enabled": True,
            "instance_class": "db.t4g.small",
            "storage_gb": 20,
            "max_storage_gb": 100,
            "backup_retention_days": 7,
            "high_availability": False,
            "deletion_protection": False,
        },
        "mlflow": {"service_type": "LoadBalancer", "source_ranges": ["0.0.0.0/0"]},
    },
    "prod": {
        "network": {"az_count": 3, "nat_gateways": "per_az"},
        "cluster": {
            "control_plane_logging": True,
            "nodes": {"instance_type": "m6i.xlarge", "desired": 3, "min": 2, "max": 6, "spot": False},
        },
        "bucket": {"versioning": True, "force_destroy": False},
        "protect_data": True,
        "registry": {"untagged_expiry_days": 30, "immutable_tags": True},
        "database": {
            "enabled": True,
            "instance_class": "db.m6g.large",
            "storage_gb": 100,
            "max_storage_gb": 500,
            "backup_retention_days": 30,
            "high_availability": True,
            "deletion_protection": True,
        },
        "mlflow": {
            "service_type": "LoadBalancer",
            "source_ranges": ["0.0.0.0/0"],
            "replicas": 2,
            "cpu_request": "500m",
            "memory_request": "1Gi",
            "cpu_limit": "2",
            "memory_limit": "2Gi",
        },
    },
}

# Data a destroy keeps unless --delete-data (the default in prod): the bucket and the database,
# the bucket's own settings, and what the database needs to exist (its subnets, VPC, firewall).
RETENTION = RetentionPolicy(
    data_types=frozenset({"aws:s3/bucket:Bucket", "aws:rds/instance:Instance"}),
    attachment_types=frozenset(
        {
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "aws:s3/bucketPolicy:BucketPolicy",
            "aws:s3/bucketVersioning:BucketVersioning",
        }
    ),
    never_keep_types=frozenset(
        {
            "aws:eks/cluster:Cluster",
            "aws:eks/nodeGroup:NodeGroup",
            "aws:ec2/natGateway:NatGateway",
            "aws:ec2/eip:Eip",
            "aws:ec2/internetGateway:InternetGateway",
            "random:index/randomPassword:RandomPassword",
            "aws:iam/role:Role",
        }
    ),
)
