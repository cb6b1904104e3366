"""GcpNetwork: a VPC network, a subnet with secondary ranges for pods and services, private services access."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from recipes.gcp import defaults

PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass
class GcpNetworkArgs:
    project: str
    region: str
    subnet_cidr: str = defaults.SUBNET_CIDR
    pods_cidr: str = defaults.PODS_CIDR
    services_cidr: str = defaults.SERVICES_CIDR
    private_services: bool = True
    labels: Mapping[str, str] = field(default_factory=dict)


class GcpNetwork(pulumi.ComponentResource):
    """Network, subnet, and (for Cloud SQL private IP) a peering range with Google's services."""

    network_id: pulumi.Output[str]
    network_name: pulumi.Output[str]
    subnet_name: pulumi.Output[str]
    private_services: pulumi.Resource | None

    def __init__(self, name: str, args: GcpNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        network = gcp.compute.Network(f"{name}-vpc", project=args.project, auto_create_subnetworks=False, opts=child)
        subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            project=args.project,
            region=args.region,
            network=network.id,
            ip_cidr_range=args.subnet_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=args.pods_cidr),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=SERVICES_RANGE, ip_cidr_range=args.services_cidr),
            ],
            opts=child,
        )
        self.private_services = None
        if args.private_services:
            peering = gcp.compute.GlobalAddress(
                f"{name}-services-range",
                project=args.project,
                purpose="VPC_PEERING",
                address_type="INTERNAL",
                prefix_length=16,
                network=network.id,
                labels=dict(args.labels),
                opts=child,
            )
            self.private_services = gcp.servicenetworking.Connection(
                f"{name}-services-peering",
                network=network.id,
                service="servicenetworking.googleapis.com",
                reserved_peering_ranges=[peering.name],
                opts=child,
            )
        self.network_id = network.id
        self.network_name = network.name
        self.subnet_name = subnet.name
        self.register_outputs({"network_id": self.network_id, "subnet_name": self.subnet_name})
