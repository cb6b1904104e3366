"""List prices per cloud and region, from provisioner/data/<cloud>_prices.yaml (sources and date inside).

A region or item with no recorded price has none here: estimates say "not priced here" rather than
borrow another region's figure.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from provisioner.facts import Source
from provisioner.facts.eks import PRICING_SOURCE as EKS_PRICING_SOURCE

Cloud = Literal["aws", "gcp"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PricePage(_Frozen):
    """One public pricing page a table was transcribed from."""

    title: str
    url: str


class AwsRegionPrices(_Frozen):
    """USD list prices of one AWS region; None (or a missing key) means not recorded."""

    nat_gateway_hourly: float | None = None
    public_ipv4_hourly: float | None = None
    network_load_balancer_hourly: float | None = None
    classic_load_balancer_hourly: float | None = None
    ec2_hourly: dict[str, float] = Field(default_factory=dict)
    rds_postgres_hourly: dict[str, float] = Field(default_factory=dict)
    ebs_gp3_gb_month: float | None = None
    rds_gp3_gb_month: float | None = None
    rds_backup_gb_month: float | None = None
    s3_standard_gb_month: float | None = None
    ecr_gb_month: float | None = None


class GcpRegionPrices(_Frozen):
    """USD list prices of one Google Cloud region; None (or a missing key) means not recorded."""

    gke_cluster_hourly: float | None = None
    e2_hourly: dict[str, float] = Field(default_factory=dict)
    cloudsql_enterprise_vcpu_hourly: float | None = None
    cloudsql_enterprise_memory_gb_hourly: float | None = None
    cloudsql_ssd_gb_month: float | None = None
    gcs_standard_gb_month: float | None = None


class _Table(_Frozen):
    title: str
    recorded: date
    sources: tuple[PricePage, ...]
    hours_per_month: int

    def source_facts(self) -> tuple[Source, ...]:
        return tuple(Source(title=page.title, url=page.url, recorded=self.recorded) for page in self.sources)


class AwsPriceTable(_Table):
    """The AWS price table: per-region prices plus the few assumptions an estimate needs."""

    cloud: Literal["aws"]
    spot_share_of_on_demand: float
    multi_az_factor: float
    regions: dict[str, AwsRegionPrices]


class GcpPriceTable(_Table):
    """The Google Cloud price table."""

    cloud: Literal["gcp"]
    regional_factor: float
    default_regional_zones: int
    regions: dict[str, GcpRegionPrices]


@lru_cache(maxsize=2)
def aws_table() -> AwsPriceTable:
    """The recorded AWS price table."""
    return AwsPriceTable.model_validate(_load("aws"))


@lru_cache(maxsize=2)
def gcp_table() -> GcpPriceTable:
    """The recorded Google Cloud price table."""
    return GcpPriceTable.model_validate(_load("gcp"))


def _load(cloud: Cloud) -> object:
    import yaml

    return yaml.safe_load(resources.files("provisioner.data").joinpath(f"{cloud}_prices.yaml").read_text())


# Every page the prices were read from, with its date; `provisioner facts check` ages them.
SOURCES: tuple[Source, ...] = (EKS_PRICING_SOURCE, *aws_table().source_facts(), *gcp_table().source_facts())
