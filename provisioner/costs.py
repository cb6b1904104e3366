"""Monthly cost estimate of a plan in its own cloud and region, from the dated price facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from provisioner.engine.base import Op, ResourceRecord
from provisioner.facts import today
from provisioner.facts.prices import AwsPriceTable, GcpPriceTable, aws_table, gcp_table
from provisioner.pricing import aws_monthly_cost, eks_cluster_hourly, gcp_monthly_cost

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Mi|Gi|Ti)$")
_GIB = {"Mi": 1 / 1024, "Gi": 1.0, "Ti": 1024.0}
_PRICED_TYPES = (
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/natGateway:NatGateway", "aws:rds/instance:Instance",
    "gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", "gcp:sql/databaseInstance:DatabaseInstance",
    "kubernetes:core/v1:PersistentVolumeClaim",
)


class CostItem(BaseModel):
    resource_type: str
    name: str
    description: str
    monthly_usd: float


class CostEstimate(BaseModel):
    """What the planned resources cost per month in the plan's region; 'not_priced' lists what has no price there."""

    total_monthly_usd: float
    cloud: str | None
    region: str | None
    items: list[CostItem] = Field(default_factory=list)
    not_priced: list[str] = Field(default_factory=list)
    source: str
    recorded: str
    note: str = "on-demand list prices, 730 hours a month; data transfer, storage growth and requests are not included"


def _gib(quantity: str) -> float:
    match = _QUANTITY.match(str(quantity))
    return float(match.group(1)) * _GIB[match.group(2)] if match else 0.0


def _is_load_balancer(record: ResourceRecord) -> bool:
    return record.type == "kubernetes:core/v1:Service" and ((record.inputs or {}).get("spec") or {}).get("type") == "LoadBalancer"


def _aws_item(record: ResourceRecord, region: str | None, table: AwsPriceTable, on: date) -> tuple[str, float | None]:
    inputs = record.inputs or {}
    if record.type == "aws:eks/cluster:Cluster":
        version = inputs.get("version")
        extended = eks_cluster_hourly(version, on) > eks_cluster_hourly(None, on)
        what = f"EKS control plane{f' {version}' if version else ''}{', extended support' if extended else ''}"
        return what, aws_monthly_cost("eks-cluster", region=region, table=table, on=on, version=version)
    if record.type == "aws:eks/nodeGroup:NodeGroup":
        instance = (inputs.get("instanceTypes") or [""])[0]
        count = int((inputs.get("scalingConfig") or {}).get("desiredSize", 1))
        capacity = inputs.get("capacityType", "ON_DEMAND")
        return f"{count} x {instance} ({capacity.lower()})", aws_monthly_cost(
            "eks-nodegroup", region=region, table=table, instance_type=instance, count=count, capacity_type=capacity
        )
    if record.type == "aws:ec2/natGateway:NatGateway":
        return "NAT gateway with its public IPv4", aws_monthly_cost("nat-gateway", region=region, table=table)
    if record.type == "aws:rds/instance:Instance":
        klass = inputs.get("instanceClass", "")
        multi_az = bool(inputs.get("multiAz"))
        storage = float(inputs.get("allocatedStorage", 0))
        return f"RDS {klass}{' multi-AZ' if multi_az else ''}, {storage:.0f} GiB gp3", aws_monthly_cost(
            "rds-instance", region=region, table=table, instance_class=klass, multi_az=multi_az, storage_gb=storage
        )
    if _is_load_balancer(record):
        return "Network Load Balancer (Kubernetes LoadBalancer service)", aws_monthly_cost("load-balancer", region=region, table=table)
    size = _gib(((inputs.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0Gi"))
    return f"{size:.0f} GiB gp3 volume", aws_monthly_cost("ebs-volume", region=region, table=table, size_gb=size)


def _gcp_item(
    record: ResourceRecord, region: str | None, table: GcpPriceTable, zones: dict[str, int]
) -> tuple[str, float | None]:
    inputs = record.inputs or {}
    if record.type == "gcp:container/cluster:Cluster":
        return "GKE cluster management fee", gcp_monthly_cost("gke-cluster", region=region, table=table)
    if record.type == "gcp:container/nodePool:NodePool":
        config = inputs.get("nodeConfig") or {}
        machine, spot = config.get("machineType", ""), bool(config.get("spot"))
        count = int(inputs.get("nodeCount") or (inputs.get("autoscaling") or {}).get("minNodeCount", 1))
        count *= zones.get(str(inputs.get("cluster", "")), 1)
        return f"{count} x {machine}{' (spot)' if spot else ''}", gcp_monthly_cost(
            "gke-nodepool", region=region, table=table, machine_type=machine, count=count, spot=spot
        )
    if record.type == "gcp:sql/databaseInstance:DatabaseInstance":
        settings = inputs.get("settings") or {}
        tier, regional = settings.get("tier", ""), settings.get("availabilityType") == "REGIONAL"
        storage = float(settings.get("diskSize", 10))
        return f"Cloud SQL {tier}{' regional' if regional else ''}, {storage:.0f} GB SSD", gcp_monthly_cost(
            "cloudsql-instance", region=region, table=table, tier=tier, regional=regional, storage_gb=storage
        )
    what = "load balancer (Kubernetes LoadBalancer service)" if _is_load_balancer(record) else "persistent disk"
    return what, None  # no GCP load balancer or disk prices are recorded


def _zones_per_cluster(records: list[ResourceRecord], table: GcpPriceTable) -> dict[str, int]:
    """Zones each GKE cluster's node pools run in: one for a zonal cluster, its node locations for a regional one."""
    zones: dict[str, int] = {}
    for record in records:
        inputs = record.inputs or {}
        if record.type == "gcp:container/cluster:Cluster":
            location, listed = str(inputs.get("location", "")), inputs.get("nodeLocations") or []
            regional = location.count("-") == 1  # europe-west1 is a region, europe-west1-b a zone
            zones[str(inputs.get("name", ""))] = (len(listed) or table.default_regional_zones) if regional else 1
    return zones


def estimate(
    records: Iterable[ResourceRecord],
    *,
    cloud: str | None,
    region: str | None,
    on: date | None = None,
    table: AwsPriceTable | GcpPriceTable | None = None,
) -> CostEstimate:
    """The monthly estimate of every resource a plan would create or keep, at ``region``'s list prices.

    Args:
        records: the plan's resources.
        cloud: "aws" or "gcp"; any other (a cluster-only recipe) prices nothing.
        region: the request's region; one with no recorded prices lists its items as not priced.
        on: the date that decides an EKS version's support (the facts' as-of date by default).
        table: a price table to use instead of the recorded one (tests, what-ifs).
    """
    on = on or today()
    planned = [r for r in records if r.op is not Op.DELETE and (r.type in _PRICED_TYPES or _is_load_balancer(r))]
    chosen: Any = table or (aws_table() if cloud == "aws" else gcp_table() if cloud == "gcp" else None)
    zones = _zones_per_cluster(planned, chosen) if isinstance(chosen, GcpPriceTable) else {}
    items: list[CostItem] = []
    not_priced: list[str] = []
    for record in planned:
        if isinstance(chosen, AwsPriceTable):
            description, monthly = _aws_item(record, region, chosen, on)
        elif isinstance(chosen, GcpPriceTable):
            description, monthly = _gcp_item(record, region, chosen, zones)
        else:
            description, monthly = record.type, None
        if monthly is None:
            not_priced.append(f"{record.type} {record.name}")
            continue
        items.append(CostItem(resource_type=record.type, name=record.name, description=description, monthly_usd=monthly))
    return CostEstimate(
        total_monthly_usd=round(sum(item.monthly_usd for item in items), 2),
        cloud=cloud,
        region=region,
        items=items,
        not_priced=sorted(not_priced),  # resources register concurrently: a stable order
        source=chosen.title if chosen else "the cluster's cloud is not known, so no price table applies",
        recorded=str(chosen.recorded) if chosen else "",
    )
