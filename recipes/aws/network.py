"""Network: a VPC with public and private subnets across AZs, or an existing one passed in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from recipes.aws.policies import subnet_cidrs
from recipes.aws.settings import NetworkSettings, check_private_subnets
from recipes.aws.tags import tagged


@dataclass
class NetworkWiring:
    """Where the new VPC goes: the AZs to span, and the cluster its subnets are tagged for."""

    availability_zones: Sequence[str]
    cluster_name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    """VPC, internet gateway, NAT gateway(s), route tables, public and private subnets."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(
        self, name: str, settings: NetworkSettings, wiring: NetworkWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("provisioner:aws:Network", name, None, opts)
        self._name = name
        self._settings = settings
        self._args = wiring
        self._routes: list[aws.ec2.Route] = []
        zones = list(wiring.availability_zones)
        public_cidrs, private_cidrs = subnet_cidrs(settings.cidr, len(zones))
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=tagged(wiring.tags, f"{name}-vpc"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags=tagged(wiring.tags, f"{name}-igw"), opts=pulumi.ResourceOptions(parent=self)
        )
        public = [self._create_subnet(vpc, zone, cidr, public=True) for zone, cidr in zip(zones, public_cidrs)]
        private = [self._create_subnet(vpc, zone, cidr, public=False) for zone, cidr in zip(zones, private_cidrs)]
        public_table = self._create_route_table(vpc, "public", gateway_id=gateway.id)
        for zone, subnet in zip(zones, public):
            self._associate(f"{name}-public-{zone}", subnet, public_table)
        nat_count = len(zones) if settings.nat_gateways == "per_az" else 1
        nats = [self._create_nat(f"{name}-nat-{zones[index]}", public[index]) for index in range(nat_count)]
        egress: list[pulumi.Output[str]] = []
        for index, (zone, subnet) in enumerate(zip(zones, private)):
            table = self._create_route_table(vpc, f"private-{zone}", nat_gateway_id=nats[index % nat_count].id)
            egress.append(self._associate(f"{name}-private-{zone}", subnet, table).id)
            egress.append(self._routes[-1].id)
        self.vpc_id = vpc.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private])
        # The same ids, available only once each private subnet routes out through its NAT gateway: nodes
        # need that egress to join the cluster, so a node group waits for it (the control plane does not).
        self.node_subnet_ids = pulumi.Output.all(*[s.id for s in private], *egress).apply(lambda ids: ids[: len(private)])
        self.register_outputs(
            {"vpc_id": self.vpc_id, "public_subnet_ids": self.public_subnet_ids, "private_subnet_ids": self.private_subnet_ids}
        )

    def _create_subnet(self, vpc: aws.ec2.Vpc, zone: str, cidr: str, *, public: bool) -> aws.ec2.Subnet:
        kind = "public" if public else "private"
        role = {"kubernetes.io/role/elb": "1"} if public else {"kubernetes.io/role/internal-elb": "1"}
        cluster = {f"kubernetes.io/cluster/{self._args.cluster_name}": "shared"} if self._args.cluster_name else {}
        name = f"{self._name}-{kind}-{zone}"
        return aws.ec2.Subnet(
            name,
            vpc_id=vpc.id,
            cidr_block=cidr,
            availability_zone=zone,
            map_public_ip_on_launch=False,
            tags=tagged(self._args.tags, name, **role, **cluster),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_route_table(self, vpc: aws.ec2.Vpc, kind: str, **target: pulumi.Input[str]) -> aws.ec2.RouteTable:
        table = aws.ec2.RouteTable(
            f"{self._name}-{kind}-rt", vpc_id=vpc.id, tags=tagged(self._args.tags, f"{self._name}-{kind}-rt"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._routes.append(aws.ec2.Route(
            f"{self._name}-{kind}-default",
            route_table_id=table.id,
            destination_cidr_block="0.0.0.0/0",
            opts=pulumi.ResourceOptions(parent=self),
            **target,  # type: ignore[arg-type]
        ))
        return table

    def _associate(self, name: str, subnet: aws.ec2.Subnet, table: aws.ec2.RouteTable) -> aws.ec2.RouteTableAssociation:
        return aws.ec2.RouteTableAssociation(
            f"{name}-assoc", subnet_id=subnet.id, route_table_id=table.id, opts=pulumi.ResourceOptions(parent=self)
        )

    def _create_nat(self, name: str, subnet: aws.ec2.Subnet) -> aws.ec2.NatGateway:
        address = aws.ec2.Eip(f"{name}-eip", domain="vpc", tags=tagged(self._args.tags, f"{name}-eip"), opts=pulumi.ResourceOptions(parent=self))
        # Its Elastic IP can be associated with one NAT gateway at a time: a replacement (new subnet) must
        # delete the old gateway first, or AWS refuses the new one with Resource.AlreadyAssociated.
        return aws.ec2.NatGateway(
            name, allocation_id=address.id, subnet_id=subnet.id, tags=tagged(self._args.tags, name),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )


class ExistingNetwork:
    """Bring-your-own VPC: the given ids, and nothing created."""

    def __init__(self, vpc_id: pulumi.Input[str], public_subnet_ids: Sequence[pulumi.Input[str]], private_subnet_ids: Sequence[pulumi.Input[str]]) -> None:
        check_private_subnets(len(private_subnet_ids))
        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.public_subnet_ids = pulumi.Output.all(*public_subnet_ids)
        self.private_subnet_ids = pulumi.Output.all(*private_subnet_ids)
        self.node_subnet_ids = self.private_subnet_ids  # their routes are the owner's to provide
