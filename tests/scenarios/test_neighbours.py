"""Teardown never touches what another home, another stack or another tool made on the same moto server."""

from __future__ import annotations

import boto3
import pytest

from tests.scenarios.conftest import Home
from tests.scenarios.inventory import REGION, deployment_id, resources_by_deployment

pytestmark = pytest.mark.scenario


def _unrelated_cluster() -> tuple[str, list[str]]:
    """An EKS cluster somebody made by hand, with two subnets tagged only for Kubernetes."""
    ec2 = boto3.client("ec2", region_name=REGION)
    tag = [{"Key": "kubernetes.io/cluster/ml-platform", "Value": "shared"}]
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{i}.0/24", AvailabilityZone=f"{REGION}{zone}",
                          TagSpecifications=[{"ResourceType": "subnet", "Tags": tag}])["Subnet"]["SubnetId"]
        for i, zone in enumerate("ab")
    ]
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="ml-platform-eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(name="ml-platform", roleArn=role, resourcesVpcConfig={"subnetIds": subnets}, tags={"kubernetes.io/cluster/ml-platform": "owned"})
    eks.create_nodegroup(clusterName="ml-platform", nodegroupName="workers", subnets=subnets, nodeRole=role)
    return "ml-platform", subnets


def _exists(cluster: str, subnets: list[str]) -> bool:
    clusters = boto3.client("eks", region_name=REGION).list_clusters()["clusters"]
    found = boto3.client("ec2", region_name=REGION).describe_subnets(Filters=[{"Name": "subnet-id", "Values": subnets}])["Subnets"]
    groups = boto3.client("eks", region_name=REGION).list_nodegroups(clusterName=cluster)["nodegroups"] if cluster in clusters else []
    return cluster in clusters and len(found) == len(subnets) and groups == ["workers"]


def test_a_fresh_home_destroys_nothing_of_another_homes_stacks(homes: dict[str, Home]) -> None:
    a, b = homes["a"], homes["b"]
    assert a.run("deploy-stack", "aws", "--env", "dev", "--simulate").returncode == 0
    assert a.run("deploy-stack", "aws", "--env", "prod", "--simulate", "--yes").returncode == 0
    ids = {deployment_id(a.state_file("aws", "dev")), deployment_id(a.state_file("aws", "prod"))}
    before = resources_by_deployment()
    assert set(before) == ids and min(before.values()) > 20
    cluster, subnets = _unrelated_cluster()

    dev = b.run("destroy-stack", "aws", "--env", "dev", "--simulate", "--yes")
    prod = b.run("destroy-stack", "aws", "--env", "prod", "--simulate", "--yes", "--delete-data")
    unrelated = [home.run("destroy-stack", "aws", "--env", "dev", "--name", "ml-platform", "--simulate", "--yes") for home in (a, b)]

    for result in (dev, prod, *unrelated):
        assert result.returncode == 0, result.stderr
        assert "Nothing to destroy here" in result.stdout
    assert "deployment id" in dev.stdout and deployment_id(a.state_file("aws", "dev")) in dev.stdout
    assert resources_by_deployment() == before
    assert _exists(cluster, subnets)


def test_destroying_one_stack_leaves_every_resource_of_another_on_the_same_server(homes: dict[str, Home]) -> None:
    a = homes["a"]
    assert a.run("deploy-stack", "aws", "--env", "dev", "--simulate").returncode == 0
    assert a.run("deploy-stack", "aws", "--env", "staging", "--simulate").returncode == 0
    dev, staging = deployment_id(a.state_file("aws", "dev")), deployment_id(a.state_file("aws", "staging"))
    before = resources_by_deployment()

    result = a.run("destroy-stack", "aws", "--env", "staging", "--simulate", "--yes")

    assert result.returncode == 0, result.stderr
    after = resources_by_deployment()
    assert after[dev] == before[dev] and staging not in after
    assert a.run("destroy-stack", "aws", "--env", "dev", "--simulate", "--yes").returncode == 0
    assert resources_by_deployment() == {}


def test_destroying_prod_under_another_env_is_refused_and_deletes_nothing(homes: dict[str, Home]) -> None:
    a = homes["a"]
    assert a.run("deploy-stack", "aws", "--env", "prod", "--simulate", "--yes").returncode == 0
    before = resources_by_deployment()

    result = a.run("destroy-stack", "aws", "--env", "dev", "--name", "aws-prod", "--simulate", "--yes")

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: its state says stack 'aws-prod' is env 'prod', not 'dev': refusing to destroy it "
        "(use --env prod and type the stack name, or --yes)"
    ]
    assert resources_by_deployment() == before
