"""Monthly list-price costs of single resources, by cloud and region, from the dated price facts.

Each function returns None when the region (or the item) has no recorded price: the caller says
"not priced here" instead of guessing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from provisioner.facts import eks, today
from provisioner.facts.prices import AwsPriceTable, GcpPriceTable, aws_table, gcp_table

_CUSTOM_TIER = re.compile(r"^db-custom-(\d+)-(\d+)$")

FREE_KINDS = frozenset(
    {
        "vpc", "subnet", "route-table", "internet-gateway", "security-group", "network-interface",
        "iam-role", "oidc-provider", "rds-subnet-group",
    }
)


def _monthly(hourly: float | None, hours: int, factor: float = 1.0) -> float | None:
    return None if hourly is None else round(hourly * factor * hours, 2)


def _storage(per_gb: float | None, size_gb: Any, factor: float = 1.0) -> float | None:
    return None if per_gb is None else round(per_gb * float(size_gb or 0) * factor, 2)


def eks_cluster_hourly(version: str | None, on: date) -> float:
    """The EKS cluster-hour rate of ``version`` at ``on``: extended support costs more."""
    known = eks.find(version) if version else None
    if known is not None and known.support(on) == "extended":
        return eks.EXTENDED_HOURLY_USD
    return eks.STANDARD_HOURLY_USD


def aws_monthly_cost(
    kind: str, *, region: str | None, table: AwsPriceTable | None = None, on: date | None = None, **details: Any
) -> float | None:
    """Estimated USD per month of one AWS resource in ``region``; None when not priced there.

    Args:
        kind: the sweep's resource kind ("eks-cluster", "nat-gateway", "rds-instance", ...).
        region: the AWS region; a region with no recorded prices prices nothing but free kinds.
        table: the price table (the recorded one by default).
        on: the date that decides an EKS version's support (the facts' as-of date by default).
        details: the kind's sizes: instance_type, count, capacity_type, instance_class, multi_az,
            storage_gb, size_gb, version.
    """
    if kind in FREE_KINDS:
        return 0.0
    table = table or aws_table()
    prices = table.regions.get(region or "")
    if prices is None:
        return None
    hours = table.hours_per_month
    if kind == "eks-cluster":
        return _monthly(eks_cluster_hourly(details.get("version"), on or today()), hours)
    if kind == "nat-gateway":
        if prices.nat_gateway_hourly is None or prices.public_ipv4_hourly is None:
            return None
        return _monthly(prices.nat_gateway_hourly + prices.public_ipv4_hourly, hours)
    if kind == "load-balancer":
        return _monthly(prices.network_load_balancer_hourly, hours)
    if kind == "classic-load-balancer":
        return _monthly(prices.classic_load_balancer_hourly, hours)
    if kind == "elastic-ip":
        return _monthly(prices.public_ipv4_hourly, hours)
    if kind == "ec2-instance":
        return _monthly(prices.ec2_hourly.get(details.get("instance_type", "")), hours)
    if kind == "eks-nodegroup":
        spot = table.spot_share_of_on_demand if details.get("capacity_type") == "SPOT" else 1.0
        rate = prices.ec2_hourly.get(details.get("instance_type", ""))
        return _monthly(rate, hours, spot * int(details.get("count", 1)))
    if kind == "ebs-volume":
        return _storage(prices.ebs_gp3_gb_month, details.get("size_gb"))
    if kind == "rds-instance":
        factor = table.multi_az_factor if details.get("multi_az") else 1.0
        compute = _monthly(prices.rds_postgres_hourly.get(details.get("instance_class", "")), hours, factor)
        storage = _storage(prices.rds_gp3_gb_month, details.get("storage_gb"), factor)
        return None if compute is None or storage is None else round(compute + storage, 2)
    if kind == "rds-snapshot":
        return _storage(prices.rds_backup_gb_month, details.get("size_gb"))
    if kind == "s3-bucket":
        return _storage(prices.s3_standard_gb_month, details.get("size_gb"))
    if kind == "ecr-repository":
        return _storage(prices.ecr_gb_month, details.get("size_gb"))
    return None


def gcp_monthly_cost(kind: str, *, region: str | None, table: GcpPriceTable | None = None, **details: Any) -> float | None:
    """Estimated USD per month of one Google Cloud resource in ``region``; None when not priced there.

    Args:
        kind: "gke-cluster", "gke-nodepool", "cloudsql-instance" or "gcs-bucket".
        region: the Google Cloud region.
        table: the price table (the recorded one by default).
        details: machine_type, count, spot, tier, regional, storage_gb, size_gb.
    """
    table = table or gcp_table()
    prices = table.regions.get(region or "")
    if prices is None:
        return None
    hours = table.hours_per_month
    if kind == "gke-cluster":
        return _monthly(prices.gke_cluster_hourly, hours)
    if kind == "gke-nodepool":
        if details.get("spot"):
            return None  # spot VM prices move; none are recorded
        return _monthly(prices.e2_hourly.get(details.get("machine_type", "")), hours, int(details.get("count", 1)))
    if kind == "cloudsql-instance":
        return _cloudsql(prices, hours, table.regional_factor if details.get("regional") else 1.0, **details)
    if kind == "gcs-bucket":
        return _storage(prices.gcs_standard_gb_month, details.get("size_gb"))
    return None


def _cloudsql(prices: Any, hours: int, factor: float, **details: Any) -> float | None:
    """A custom-tier Enterprise instance: vCPUs and memory (the tier's MiB) by the hour, SSD by the GB."""
    match = _CUSTOM_TIER.match(str(details.get("tier", "")))
    vcpu_rate, memory_rate = prices.cloudsql_enterprise_vcpu_hourly, prices.cloudsql_enterprise_memory_gb_hourly
    storage = _storage(prices.cloudsql_ssd_gb_month, details.get("storage_gb"), factor)
    if match is None or vcpu_rate is None or memory_rate is None or storage is None:
        return None
    hourly = int(match.group(1)) * vcpu_rate + int(match.group(2)) / 1024 * memory_rate
    return round(hourly * factor * hours + storage, 2)
