"""Monthly cost estimates from the price tables kept in provisioner/data (source and date inside)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=4)
def price_table(cloud: str = "aws") -> dict[str, Any]:
    """The price table of a cloud, as recorded in ``provisioner/data/<cloud>_prices.yaml``."""
    import yaml

    text = resources.files("provisioner.data").joinpath(f"{cloud}_prices.yaml").read_text()
    table: dict[str, Any] = yaml.safe_load(text)
    return table


def monthly(hourly: float, table: dict[str, Any]) -> float:
    return round(hourly * float(table["hours_per_month"]), 2)


def aws_monthly_cost(kind: str, table: dict[str, Any] | None = None, **details: Any) -> float | None:
    """Estimated USD per month of one AWS resource; None when the table has no price for it."""
    table = table or price_table("aws")
    hourly = table["hourly"]
    per_gb = table["per_gb_month"]
    if kind == "eks-cluster":
        return monthly(hourly["eks_cluster"], table)
    if kind == "nat-gateway":
        return monthly(hourly["nat_gateway"] + hourly["public_ipv4"], table)
    if kind in ("load-balancer", "classic-load-balancer"):
        return monthly(hourly["load_balancer"], table)
    if kind == "elastic-ip":
        return monthly(hourly["public_ipv4"], table)
    if kind == "ec2-instance":
        rate = table["ec2_instance_hourly"].get(details.get("instance_type", ""))
        return None if rate is None else monthly(rate, table)
    if kind == "eks-nodegroup":
        rate = table["ec2_instance_hourly"].get(details.get("instance_type", ""))
        if rate is None:
            return None
        factor = table["spot_discount"] if details.get("capacity_type") == "SPOT" else 1.0
        return monthly(rate * factor * int(details.get("count", 1)), table)
    if kind == "ebs-volume":
        return round(per_gb["ebs_gp3"] * float(details.get("size_gb", 0)), 2)
    if kind == "rds-instance":
        rate = table["rds_instance_hourly"].get(details.get("instance_class", ""))
        if rate is None:
            return None
        factor = table["multi_az_factor"] if details.get("multi_az") else 1.0
        return round(monthly(rate * factor, table) + per_gb["rds_storage_gp2"] * float(details.get("storage_gb", 0)), 2)
    if kind == "rds-snapshot":
        return round(per_gb["rds_snapshot"] * float(details.get("size_gb", 0)), 2)
    if kind == "s3-bucket":
        return round(per_gb["s3_standard"] * float(details.get("size_gb", 0)), 2)
    if kind == "ecr-repository":
        return round(per_gb["ecr_storage"] * float(details.get("size_gb", 0)), 2)
    if kind in FREE_KINDS:
        return 0.0
    return None


FREE_KINDS = frozenset(
    {
        "vpc", "subnet", "route-table", "internet-gateway", "security-group", "network-interface",
        "iam-role", "oidc-provider", "rds-subnet-group",
    }
)
