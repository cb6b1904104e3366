"""The args model of each AWS component; the `aws` recipe's args are composed of them.

Pulumi-free, so `provisioner recipe describe aws` and config validation stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from provisioner.facts import node_pools
from provisioner.input_rules import check_ec2_instance_type, check_kubernetes_version, check_vpc_cidr
from provisioner.recipe_api import RecipeArgs
from provisioner.recipe_settings import (
    BucketSettings,
    ContainerRegistrySettings,
    DatabaseSettings,
    NodeRange,
)
from recipes.aws import defaults
from recipes.kubernetes.settings import WithMlflow


def check_private_subnets(count: int) -> None:
    """EKS needs subnets in two AZs: an existing VPC must bring at least two private subnets."""
    if count < 2:
        raise ValueError(f"an existing VPC needs at least 2 private subnets, in different AZs, for EKS (got {count})")


class NetworkSettings(RecipeArgs):
    """A new VPC (CIDR, AZs, NAT gateways), or an existing one given by ``vpc_id`` and its subnets."""

    cidr: str = defaults.VPC_CIDR
    az_count: int = Field(2, ge=2, le=3)
    nat_gateways: Literal["single", "per_az"] = "single"
    vpc_id: str = Field("", description="Existing VPC: nothing network-related is created.")
    public_subnet_ids: list[str] = Field(default_factory=list)
    private_subnet_ids: list[str] = Field(default_factory=list)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        return check_vpc_cidr(value)

    @model_validator(mode="after")
    def _existing_vpc(self) -> NetworkSettings:
        if self.vpc_id:
            check_private_subnets(len(self.private_subnet_ids))
        if (self.public_subnet_ids or self.private_subnet_ids) and not self.vpc_id:
            raise ValueError("subnet ids are only used with vpc_id")
        return self


class NodePoolSettings(NodeRange):
    """One EKS managed node group."""

    node_limit: ClassVar[int | None] = node_pools.EKS_NODES_PER_MANAGED_NODE_GROUP
    node_limit_rule: ClassVar[str] = "EKS allows in a managed node group"

    instance_type: str = "t3.large"

    @field_validator("instance_type")
    @classmethod
    def _offered_by_ec2(cls, value: str) -> str:
        return check_ec2_instance_type(value)


class GpuNodePoolSettings(NodePoolSettings):
    """An optional GPU node group, tainted so only GPU workloads land there."""

    enabled: bool = False
    instance_type: str = "g5.xlarge"
    desired: int = Field(0, ge=0)
    min: int = Field(0, ge=0)
    max: int = Field(2, ge=1)


class EksClusterSettings(RecipeArgs):
    """The EKS control plane's version and logging, and its node groups."""

    kubernetes_version: str = Field(
        "",
        description="Empty: the newest version in standard support, resolved on the first deploy and kept after.",
    )
    allow_extended_support: bool = Field(
        False, description="Accept a version in extended support (billed at the extended cluster-hour rate)."
    )
    control_plane_logging: bool = False
    nodes: NodePoolSettings = Field(default_factory=NodePoolSettings)
    gpu_nodes: GpuNodePoolSettings = Field(default_factory=GpuNodePoolSettings)

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: object) -> object:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ValueError(f"quote the version in YAML ('{value}'): unquoted, 1.30 is read as the number 1.3")
        return value

    @field_validator("kubernetes_version")
    @classmethod
    def _version_syntax(cls, value: str) -> str:
        return check_kubernetes_version(value) if value else value

    @model_validator(mode="after")
    def _supported_by_eks(self) -> EksClusterSettings:
        problem = eks_version_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def eks_version_problem(settings: EksClusterSettings) -> str | None:
    """Why EKS would not take the pinned version today (by the dated facts); None when it would, or none is pinned."""
    if not settings.kubernetes_version:
        return None
    from provisioner.facts import eks, today

    return eks.version_problem(settings.kubernetes_version, today(), allow_extended_support=settings.allow_extended_support)


class RdsSettings(DatabaseSettings):
    """RDS PostgreSQL for MLflow: private, encrypted, reachable from the cluster only."""

    renamed_keys: ClassVar[Mapping[str, str]] = {
        "allocated_storage": "storage_gb", "max_allocated_storage": "max_storage_gb", "multi_az": "high_availability",
    }

    instance_class: str = "db.t4g.small"
    storage_gb: int = Field(20, ge=20, le=65536)
    max_storage_gb: int = Field(100, ge=20, le=65536, description="Storage autoscaling ceiling.")

    @model_validator(mode="after")
    def _ceiling(self) -> RdsSettings:
        if self.max_storage_gb < self.storage_gb:
            raise ValueError(f"need storage_gb <= max_storage_gb (got {self.storage_gb}, {self.max_storage_gb})")
        return self


class AwsArgs(WithMlflow):
    """The AwsMlopsStack's args, composed of its components' own models.

    `provisioner recipe describe aws` shows them resolved per env.
    """

    renamed_keys: ClassVar[Mapping[str, str]] = {
        "vpc_cidr": "network.cidr", "az_count": "network.az_count", "nat_gateways": "network.nat_gateways",
        "vpc_id": "network.vpc_id", "public_subnet_ids": "network.public_subnet_ids",
        "private_subnet_ids": "network.private_subnet_ids", "kubernetes_version": "cluster.kubernetes_version",
        "control_plane_logging": "cluster.control_plane_logging", "node_instance_type": "cluster.nodes.instance_type",
        "node_desired": "cluster.nodes.desired", "node_min": "cluster.nodes.min", "node_max": "cluster.nodes.max",
        "node_capacity_type": "cluster.nodes.spot", "gpu_nodes": "cluster.gpu_nodes",
        "bucket_versioning": "bucket.versioning", "force_destroy": "bucket.force_destroy",
        "ecr_untagged_expiry_days": "registry.untagged_expiry_days", "ecr_tag_mutability": "registry.immutable_tags",
    }

    network: NetworkSettings = Field(default_factory=NetworkSettings)
    cluster: EksClusterSettings = Field(default_factory=EksClusterSettings)
    bucket: BucketSettings = Field(default_factory=BucketSettings)
    registry: ContainerRegistrySettings = Field(default_factory=ContainerRegistrySettings)
    database: RdsSettings = Field(default_factory=RdsSettings)
    protect_data: bool = Field(False, description="Pulumi protect on the bucket and the database.")
    connector_principal_arn: str = Field("", description="Who may assume the connector role (default: you).")

    database_option: ClassVar[str | None] = "database.enabled"

    def has_database(self) -> bool:
        return self.database.enabled
