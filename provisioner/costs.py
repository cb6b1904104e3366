"""Monthly cost estimates of a plan, from the price table in provisioner/data (its source and date inside)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

from provisioner.engine.base import Op, ResourceRecord
from provisioner.pricing import aws_monthly_cost, price_table

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Mi|Gi|Ti)$")
_GIB = {"Mi": 1 / 1024, "Gi": 1.0, "Ti": 1024.0}


class CostItem(BaseModel):
    resource_type: str
    name: str
    description: str
    monthly_usd: float


class CostEstimate(BaseModel):
    """What the planned resources cost per month, by the price table; 'not_priced' lists what has no price."""

    total_monthly_usd: float
    items: list[CostItem] = Field(default_factory=list)
    not_priced: list[str] = Field(default_factory=list)
    source: str
    recorded: str
    note: str = "on-demand list prices, 730 hours a month; data transfer, storage growth and requests are not included"


def _gib(quantity: str) -> float:
    match = _QUANTITY.match(str(quantity))
    return float(match.group(1)) * _GIB[match.group(2)] if match else 0.0


def _priced(record: ResourceRecord, table: dict[str, Any]) -> tuple[str, float | None] | None:
    """(description, monthly USD) of one planned resource; None when it costs nothing by itself."""
    inputs = record.inputs or {}
    kind = record.type
    if kind == "aws:eks/cluster:Cluster":
        return "EKS control plane", aws_monthly_cost("eks-cluster", table)
    if kind == "aws:eks/nodeGroup:NodeGroup":
        instance = (inputs.get("instanceTypes") or [""])[0]
        count = int((inputs.get("scalingConfig") or {}).get("desiredSize", 1))
        capacity = inputs.get("capacityType", "ON_DEMAND")
        return f"{count} x {instance} ({capacity.lower()})", aws_monthly_cost(
            "eks-nodegroup", table, instance_type=instance, count=count, capacity_type=capacity
        )
    if kind == "aws:ec2/natGateway:NatGateway":
        return "NAT gateway with its public IPv4", aws_monthly_cost("nat-gateway", table)
    if kind == "aws:rds/instance:Instance":
        klass = inputs.get("instanceClass", "")
        multi_az = bool(inputs.get("multiAz"))
        storage = float(inputs.get("allocatedStorage", 0))
        return f"RDS {klass}{' multi-AZ' if multi_az else ''}, {storage:.0f} GiB", aws_monthly_cost(
            "rds-instance", table, instance_class=klass, multi_az=multi_az, storage_gb=storage
        )
    if kind == "kubernetes:core/v1:Service" and (inputs.get("spec") or {}).get("type") == "LoadBalancer":
        return "load balancer (Kubernetes LoadBalancer service)", aws_monthly_cost("load-balancer", table)
    if kind == "kubernetes:core/v1:PersistentVolumeClaim":
        size = _gib(((inputs.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "0Gi"))
        return f"{size:.0f} GiB volume", aws_monthly_cost("ebs-volume", table, size_gb=size)
    if kind.startswith(("gcp:container/cluster", "gcp:container/nodePool", "gcp:sql/databaseInstance")):
        return "GCP resource", None  # no GCP price table yet
    return None


def estimate(records: Iterable[ResourceRecord], table: dict[str, Any] | None = None) -> CostEstimate:
    """The monthly estimate of every resource a plan would create or keep."""
    table = table or price_table("aws")
    items: list[CostItem] = []
    not_priced: list[str] = []
    for record in records:
        if record.op is Op.DELETE:
            continue
        priced = _priced(record, table)
        if priced is None:
            continue
        description, monthly = priced
        if monthly is None:
            not_priced.append(f"{record.type} {record.name}")
            continue
        items.append(CostItem(resource_type=record.type, name=record.name, description=description, monthly_usd=monthly))
    total = round(sum(item.monthly_usd for item in items), 2)
    return CostEstimate(
        total_monthly_usd=total, items=items, not_priced=not_priced, source=str(table["source"]), recorded=str(table["recorded"])
    )
