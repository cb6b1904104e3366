"""The args model of each GCP component; the `gcp` recipe's args are composed of them.

Pulumi-free, so config validation and `provisioner recipe describe gcp` stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from pydantic import Field, field_validator

from provisioner.facts import node_pools
from provisioner.input_rules import check_gce_machine_type
from provisioner.recipe_api import RecipeArgs
from provisioner.recipe_settings import (
    BucketSettings,
    ContainerRegistrySettings,
    DatabaseSettings,
    NodeRange,
)
from recipes.kubernetes.settings import WithMlflow


class GkeNodePoolSettings(NodeRange):
    """The GKE node pool; ``desired``, ``min`` and ``max`` count nodes per zone, as GKE does."""

    node_limit: ClassVar[int | None] = node_pools.GKE_NODES_PER_POOL_ZONE
    node_limit_rule: ClassVar[str] = "GKE allows in a node pool per zone"

    machine_type: str = "e2-standard-4"
    desired: int = Field(1, ge=0)

    @field_validator("machine_type")
    @classmethod
    def _machine_type_syntax(cls, value: str) -> str:
        return check_gce_machine_type(value)


class GkeClusterSettings(RecipeArgs):
    """Where the GKE cluster runs (one zone, or the region's three), and its node pool."""

    zone: str = Field("", description="Zone of a zonal cluster; must be in the region (default: the region's first).")
    regional: bool = False
    deletion_protection: bool = False
    nodes: GkeNodePoolSettings = Field(default_factory=GkeNodePoolSettings)


class CloudSqlSettings(DatabaseSettings):
    """Cloud SQL for PostgreSQL for MLflow: private IP only."""

    renamed_keys: ClassVar[Mapping[str, str]] = {"disk_size_gb": "storage_gb", "availability": "high_availability"}

    tier: str = "db-custom-1-3840"
    # Cloud SQL keeps up to 365 automated backups (RDS: 35 days).
    backup_retention_days: int = Field(7, ge=1, le=365)


class GcpArgs(WithMlflow):
    """The GcpMlopsStack's args, composed of its components' own models.

    `provisioner recipe describe gcp` shows them resolved per env.
    """

    renamed_keys: ClassVar[Mapping[str, str]] = {
        "zone": "cluster.zone", "regional": "cluster.regional", "machine_type": "cluster.nodes.machine_type",
        "node_count": "cluster.nodes.desired", "node_min": "cluster.nodes.min", "node_max": "cluster.nodes.max",
        "spot": "cluster.nodes.spot", "deletion_protection": "cluster.deletion_protection and database.deletion_protection",
        "bucket_versioning": "bucket.versioning", "force_destroy": "bucket.force_destroy",
    }

    project: str = Field("", description="GCP project id (default: GOOGLE_CLOUD_PROJECT).")
    cluster: GkeClusterSettings = Field(default_factory=GkeClusterSettings)
    bucket: BucketSettings = Field(default_factory=BucketSettings)
    registry: ContainerRegistrySettings = Field(default_factory=ContainerRegistrySettings)
    database: CloudSqlSettings = Field(default_factory=CloudSqlSettings)
    connector_members: list[str] = Field(default_factory=list, description="Principals allowed to impersonate the connector account.")
    create_connector_key: bool = Field(False, description="Also create a key file for the connector account (not recommended).")

    database_option: ClassVar[str | None] = "database.enabled"

    def has_database(self) -> bool:
        return self.database.enabled
