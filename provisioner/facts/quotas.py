"""AWS default quotas: the limit preflight assumes when Service Quotas cannot be read (moto knows few)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from provisioner.facts import Source

SOURCES: tuple[Source, ...] = (
    Source(
        title="Amazon VPC user guide: Amazon VPC quotas (VPCs per Region, NAT gateways per Availability Zone)",
        url="https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html",
        recorded=date(2026, 12, 1),
    ),
    Source(
        title="Amazon EC2 user guide: Elastic IP address quota",
        url="https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit",
        recorded=date(2026, 12, 1),
    ),
    Source(
        title="Amazon EKS user guide: Amazon EKS service quotas",
        url="https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html",
        recorded=date(2026, 12, 1),
    ),
    Source(
        title="Amazon RDS user guide: Quotas in Amazon RDS",
        url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Limits.html",
        recorded=date(2026, 12, 1),
    ),
)


class DefaultQuota(BaseModel):
    """One quota: its Service Quotas address and AWS's default value."""

    model_config = ConfigDict(frozen=True)

    name: str
    service_code: str
    quota_code: str
    default: int
    source: Source


VPCS = DefaultQuota(name="VPCs", service_code="vpc", quota_code="L-F678F1CE", default=5, source=SOURCES[0])
NAT_GATEWAYS_PER_AZ = DefaultQuota(
    name="NAT gateways per AZ", service_code="vpc", quota_code="L-FE5A380F", default=5, source=SOURCES[0]
)
ELASTIC_IPS = DefaultQuota(name="Elastic IPs", service_code="ec2", quota_code="L-0263D0A3", default=5, source=SOURCES[1])
EKS_CLUSTERS = DefaultQuota(name="EKS clusters", service_code="eks", quota_code="L-1194D53C", default=100, source=SOURCES[2])
RDS_INSTANCES = DefaultQuota(name="RDS DB instances", service_code="rds", quota_code="L-7B6409FD", default=40, source=SOURCES[3])
