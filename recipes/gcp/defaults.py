"""Defaults of the GCP recipe: regions and their zones, versions, roles, and the per-env preset table."""

from __future__ import annotations

from typing import Any

from provisioner.recipe_api import RetentionPolicy

DEFAULT_REGION = "europe-west1"
SUBNET_CIDR = "10.50.0.0/20"
PODS_CIDR = "10.52.0.0/14"
SERVICES_CIDR = "10.56.0.0/20"
RELEASE_CHANNEL = "REGULAR"
POSTGRES_VERSION = "POSTGRES_16"
DB_NAME = "mlflow"
DB_USER = "mlflow"
MLFLOW_ARTIFACT_PREFIX = "mlflow"

# Zones that exist in each region the recipe supports; the recipe never guesses a zone name.
REGION_ZONES: dict[str, tuple[str, ...]] = {
    "us-central1": ("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f"),
    "us-east1": ("us-east1-b", "us-east1-c", "us-east1-d"),
    "us-east4": ("us-east4-a", "us-east4-b", "us-east4-c"),
    "us-west1": ("us-west1-a", "us-west1-b", "us-west1-c"),
    "europe-west1": ("europe-west1-b", "europe-west1-c", "europe-west1-d"),
    "europe-west2": ("europe-west2-a", "europe-west2-b", "europe-west2-c"),
    "europe-west3": ("europe-west3-a", "europe-west3-b", "europe-west3-c"),
    "europe-west4": ("europe-west4-a", "europe-west4-b", "europe-west4-c"),
    "europe-north1": ("europe-north1-a", "europe-north1-b", "europe-north1-c"),
    "asia-east1": ("asia-east1-a", "asia-east1-b", "asia-east1-c"),
    "asia-northeast1": ("asia-northeast1-a", "asia-northeast1-b", "asia-northeast1-c"),
    "asia-southeast1": ("asia-southeast1-a", "asia-southeast1-b", "asia-southeast1-c"),
    "australia-southeast1": ("australia-southeast1-a", "australia-southeast1-b", "australia-southeast1-c"),
}
REGIONS = tuple(REGION_ZONES)

# Predefined roles granted with non-authoritative member resources, each to one service account.
WORKLOAD_PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
VERTEX_PROJECT_ROLES = ("roles/aiplatform.user", "roles/logging.logWriter")
NODE_PROJECT_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/artifactregistry.reader")
# cloudbuild.builds.editor: the image builder (ZenML `gcp` flavor) starts and reads Cloud Build builds.
CONNECTOR_PROJECT_ROLES = ("roles/container.clusterViewer", "roles/aiplatform.user", "roles/cloudbuild.builds.editor")
REQUIRED_APIS = (
    "compute.googleapis.com", "container.googleapis.com", "artifactregistry.googleapis.com",
    "sqladmin.googleapis.com", "servicenetworking.googleapis.com", "iamcredentials.googleapis.com",
    "aiplatform.googleapis.com", "cloudbuild.googleapis.com",
)

PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "cluster": {
            "regional": False,
            "deletion_protection": False,
            "nodes": {"machine_type": "e2-standard-4", "desired": 1, "min": 1, "max": 2, "spot": True},
        },
        "bucket": {"versioning": False, "force_destroy": True},
        "registry": {"untagged_expiry_days": 7, "immutable_tags": False},
        "database": {"enabled": False},
    },
    "staging": {
        "cluster": {
            "regional": False,
            "deletion_protection": False,
            "nodes": {"machine_type": "e2-standard-4", "desired": 2, "min": 1, "max": 4, "spot": False},
        },
        "bucket": {"versioning": False, "force_destroy": False},
        "registry": {"untagged_expiry_days": 14, "immutable_tags": False},
        "database": {
            "enabled": True, "tier": "db-custom-1-3840", "storage_gb": 20, "backup_retention_days": 7,
            "high_availability": False, "deletion_protection": False,
        },
        "mlflow": {"service_type": "LoadBalancer", "source_ranges": ["0.0.0.0/0"]},
    },
    "prod": {
        "cluster": {
            "regional": True,
            "deletion_protection": True,
            "nodes": {"machine_type": "e2-standard-8", "desired": 1, "min": 1, "max": 3, "spot": False},
        },
        "bucket": {"versioning": True, "force_destroy": False},
        "registry": {"untagged_expiry_days": 30, "immutable_tags": True},
        "database": {
            "enabled": True, "tier": "db-custom-2-7680", "storage_gb": 100, "backup_retention_days": 30,
            "high_availability": True, "deletion_protection": True,
        },
        "mlflow": {"service_type": "LoadBalancer", "source_ranges": ["0.0.0.0/0"], "replicas": 2},
    },
}


# What a prod destroy keeps: the Cloud SQL instance with its databases and users, the bucket, and
# what the instance needs to stay reachable (its network, the private services range and peering,
# the APIs that serve them). The cluster and its node pools always go.
RETENTION = RetentionPolicy(
    data_types=frozenset({"gcp:sql/databaseInstance:DatabaseInstance", "gcp:storage/bucket:Bucket"}),
    attachment_types=frozenset({"gcp:sql/database:Database", "gcp:sql/user:User"}),
    never_keep_types=frozenset(
        {
            "gcp:container/cluster:Cluster",
            "gcp:container/nodePool:NodePool",
            "kubernetes:core/v1:Namespace",
            "random:index/randomPassword:RandomPassword",
        }
    ),
    support_types=frozenset(
        {
            "gcp:compute/network:Network",
            "gcp:compute/globalAddress:GlobalAddress",
            "gcp:servicenetworking/connection:Connection",
            "gcp:projects/service:Service",
        }
    ),
)
