"""The settings vocabulary every cloud shares: node pools, bucket, container registry, database.

A recipe's component takes one of these (or a subclass adding what only its cloud has) as its
args model, and the recipe's CLI-facing args are composed of the components' models. Each rule
between fields lives here, once, on the model that owns the fields.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from provisioner.recipe_api import RecipeArgs


class NodeRange(RecipeArgs):
    """How many nodes a pool runs: ``desired`` to start, scaled between ``min`` and ``max``."""

    desired: int = Field(2, ge=0)
    min: int = Field(1, ge=0)
    max: int = Field(3, ge=1)
    spot: bool = Field(False, description="Spot (preemptible) capacity: cheaper, may be reclaimed.")

    # The cloud's ceiling on nodes per pool, and how the cloud words it (each cloud's pool model sets both).
    node_limit: ClassVar[int | None] = None
    node_limit_rule: ClassVar[str] = ""

    @field_validator("desired", "min", "max", mode="before")
    @classmethod
    def _within_cloud_limit(cls, value: Any) -> Any:
        # Before the int check, so 1e20 is named as too many nodes rather than as too big an integer.
        try:
            count = float(value)
        except (TypeError, ValueError):
            return value  # not a number: the int check says so
        if cls.node_limit is not None and count > cls.node_limit:
            raise ValueError(f"{value} nodes is more than {cls.node_limit_rule} ({cls.node_limit})")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> NodeRange:
        if not self.min <= self.desired <= self.max:
            raise ValueError(f"need min <= desired <= max (got {self.min}, {self.desired}, {self.max})")
        return self


class BucketSettings(RecipeArgs):
    """The artifact bucket: always private and encrypted; these are the choices left."""

    versioning: bool = False
    force_destroy: bool = Field(False, description="Delete the bucket with its objects on destroy (dev only).")


class ContainerRegistrySettings(RecipeArgs):
    """The container registry: untagged images expire; tags may be made immutable."""

    untagged_expiry_days: int = Field(14, ge=1, le=365)
    immutable_tags: bool = False


class DatabaseSettings(RecipeArgs):
    """MLflow's database; disabled means SQLite on a volume, which serves one MLflow replica."""

    enabled: bool = False
    storage_gb: int = Field(20, ge=10, le=65536)
    backup_retention_days: int = Field(7, ge=1, le=35)
    high_availability: bool = Field(False, description="A standby in another zone (RDS Multi-AZ, Cloud SQL REGIONAL).")
    deletion_protection: bool = False
