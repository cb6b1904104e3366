"""A team's existing Pulumi program: its own VPC, with provisioner's AWS MLOps stack embedded in it.

The program owns the network (one VPC, two public and two private subnets in two zones, an internet
gateway, one NAT gateway, route tables) and hands the VPC and subnet ids to ``AwsMlopsStack``, which
then creates no network of its own. It exports what ``provisioner register --from-stack`` reads.

Stack config (all optional):
    aws:region                    the region (default eu-west-1)
    embed-aws:env                 env label on every resource (default: the Pulumi stack name)
    embed-aws:cluster_name        EKS cluster and component name (default: PROJECT-STACK)
    embed-aws:node_instance_type  node instance type (default t3.large)
    embed-aws:mlflow_service_type ClusterIP (default) or LoadBalancer
    embed-aws:mlflow_source_ranges CIDRs the load balancer admits, e.g. '["203.0.113.0/24"]' (default: any)
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from provisioner.recipe_api import RecipeContext
from recipes.aws import AwsArgs, AwsMlopsStack
from recipes.aws.defaults import DEFAULT_REGION
from recipes.aws.network import ExistingNetwork
from recipes.aws.recipe import export_stack_outputs
from recipes.aws.settings import EksClusterSettings, NodePoolSettings
from recipes.kubernetes.settings import MlflowSettings

VPC_CIDR = "10.42.0.0/16"
PUBLIC_CIDRS = ("10.42.0.0/20", "10.42.16.0/20")
PRIVATE_CIDRS = ("10.42.128.0/19", "10.42.160.0/19")  # pods take their IPs from here (VPC CNI)


@dataclass
class TeamNetwork:
    """The team's VPC; ``private_subnet_ids`` resolve only once the subnets route through the NAT."""

    vpc: aws.ec2.Vpc
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]


def team_network(name: str, cluster_name: str, tags: dict[str, str]) -> TeamNetwork:
    """A small, plain VPC for EKS: 2 public + 2 private subnets in 2 zones, an IGW, one NAT gateway."""
    zones = aws.get_availability_zones(state="available").names[:2]
    cluster_tag = {f"kubernetes.io/cluster/{cluster_name}": "shared"}
    vpc = aws.ec2.Vpc(
        f"{name}-vpc", cidr_block=VPC_CIDR, enable_dns_hostnames=True, enable_dns_support=True,
        tags={**tags, "Name": f"{name}-vpc"},
    )
    gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-igw"})
    public = [
        aws.ec2.Subnet(
            f"{name}-public-{index}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zone,
            tags={**tags, **cluster_tag, "Name": f"{name}-public-{zone}", "kubernetes.io/role/elb": "1"},
        )
        for index, (zone, cidr) in enumerate(zip(zones, PUBLIC_CIDRS))
    ]
    private = [
        aws.ec2.Subnet(
            f"{name}-private-{index}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=zone,
            tags={**tags, **cluster_tag, "Name": f"{name}-private-{zone}", "kubernetes.io/role/internal-elb": "1"},
        )
        for index, (zone, cidr) in enumerate(zip(zones, PRIVATE_CIDRS))
    ]

    public_table = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-public-rt"})
    aws.ec2.Route(f"{name}-public-default", route_table_id=public_table.id, destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id)
    for index, subnet in enumerate(public):
        aws.ec2.RouteTableAssociation(f"{name}-public-{index}-rt", subnet_id=subnet.id, route_table_id=public_table.id)

    address = aws.ec2.Eip(f"{name}-nat-eip", domain="vpc", tags={**tags, "Name": f"{name}-nat-eip"})
    nat = aws.ec2.NatGateway(f"{name}-nat", allocation_id=address.id, subnet_id=public[0].id, tags={**tags, "Name": f"{name}-nat"})
    private_table = aws.ec2.RouteTable(f"{name}-private-rt", vpc_id=vpc.id, tags={**tags, "Name": f"{name}-private-rt"})
    nat_route = aws.ec2.Route(
        f"{name}-private-default", route_table_id=private_table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id
    )
    private_ids = []
    for index, subnet in enumerate(private):
        association = aws.ec2.RouteTableAssociation(f"{name}-private-{index}-rt", subnet_id=subnet.id, route_table_id=private_table.id)
        # Nodes in a private subnet need the NAT route to join the cluster: hand the id over only after it.
        private_ids.append(pulumi.Output.all(subnet.id, association.id, nat_route.id).apply(lambda ids: ids[0]))
    return TeamNetwork(vpc=vpc, public_subnet_ids=[subnet.id for subnet in public], private_subnet_ids=private_ids)


def main() -> None:
    """The whole program: the team's network, then the embedded stack, then the outputs registration reads."""
    config = pulumi.Config()
    region = pulumi.Config("aws").get("region") or DEFAULT_REGION
    env = config.get("env") or pulumi.get_stack()
    cluster_name = config.get("cluster_name") or f"{pulumi.get_project()}-{pulumi.get_stack()}"
    tags = RecipeContext("aws", env, cluster_name, region).tags

    network = team_network("team", cluster_name, tags)
    args = AwsArgs(
        cluster=EksClusterSettings(
            nodes=NodePoolSettings(instance_type=config.get("node_instance_type") or "t3.large", desired=2, min=1, max=3)
        ),
        mlflow=MlflowSettings(
            service_type=config.get("mlflow_service_type") or "ClusterIP",
            source_ranges=config.get_object("mlflow_source_ranges") or [],
        ),
    )
    stack = AwsMlopsStack(
        cluster_name,
        args,
        region=region,
        tags=tags,
        existing_network=ExistingNetwork(network.vpc.id, network.public_subnet_ids, network.private_subnet_ids),
    )
    export_stack_outputs(stack, region, args.mlflow)
    pulumi.export("public_subnet_ids", pulumi.Output.all(*network.public_subnet_ids))
    pulumi.export("private_subnet_ids", pulumi.Output.all(*network.private_subnet_ids))
