"""Every taggable resource carries its deployment's id and URN; old stacks get an id on their next deploy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3
import pytest

from provisioner.engine.simulated_state import SimulatedStackState
from provisioner.recipe_api import TAG_URN
from tests.helpers import cli_json, deploy_cli, destroy_cli
from tests.scenarios.inventory import tagged_resources

pytestmark = pytest.mark.usefixtures("aws_endpoint")
TAGGED_TYPES = {
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:s3/bucket:Bucket",
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:rds/instance:Instance", "aws:ecr/repository:Repository",
    "aws:iam/role:Role", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
}


def _state_path() -> Path:
    return Path(os.environ["PROVISIONER_HOME"]) / "simulated" / "provisioner-aws" / "dev.json"


def _state() -> SimulatedStackState:
    return SimulatedStackState.model_validate_json(_state_path().read_text())


def test_every_taggable_resource_carries_the_deployment_id_the_state_and_registry_hold() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    state = _state()
    (stack,) = cli_json("stack", "list")

    tagged = {resource_id for resource_id, deployment in tagged_resources() if deployment == state.deployment_id}

    assert stack["labels"]["deployment"] == state.deployment_id
    assert {r.id for r in state.resources if r.type in TAGGED_TYPES} <= tagged
    vpc = next(r for r in state.resources if r.type == "aws:ec2/vpc:Vpc")
    tags = {t["Key"]: t["Value"] for t in boto3.client("ec2").describe_vpcs(VpcIds=[vpc.id])["Vpcs"][0]["Tags"]}
    assert tags[TAG_URN] == "urn:pulumi:dev::provisioner-aws::provisioner:aws:MlopsStack$provisioner:aws:Network$aws:ec2/vpc:Vpc::aws-dev-network-vpc"


def test_a_redeploy_keeps_the_deployment_id() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    first = _state().deployment_id

    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0

    assert _state().deployment_id == first


def _as_before_deployment_ids() -> str:
    """Make the stack look deployed before deployment ids existed: no id in its state or on its VPC."""
    state = json.loads(_state_path().read_text())
    state.pop("deployment_id")
    _state_path().write_text(json.dumps(state))
    vpc = next(r for r in state["resources"] if r["type"] == "aws:ec2/vpc:Vpc")["id"]
    boto3.client("ec2").delete_tags(Resources=[vpc], Tags=[{"Key": "provisioner:deployment"}])
    return str(vpc)


def test_a_stack_from_before_deployment_ids_gets_one_on_its_next_deploy_and_is_retagged_in_place() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    vpc = _as_before_deployment_ids()

    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0

    state = _state()
    assert state.deployment_id is not None and len(state.deployment_id) == 26
    assert next(r for r in state.resources if r.type == "aws:ec2/vpc:Vpc").id == vpc  # updated in place, not replaced
    tags = {t["Key"]: t["Value"] for t in boto3.client("ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Tags"]}
    assert tags["provisioner:deployment"] == state.deployment_id


def test_a_stack_from_before_deployment_ids_is_destroyed_by_its_state_alone() -> None:
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0
    _as_before_deployment_ids()
    ec2 = boto3.client("ec2")
    # Same stack tag, no deployment id: without an id to prove ownership, the sweep must not take it.
    stray = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "provisioner:stack", "Value": "aws-dev"}]}])["Vpc"]["VpcId"]

    result = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "carrying deployment id (none: deployed before deployment ids, state only)" in result.stdout
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [stray]}])["Vpcs"] != []
    assert not _state_path().exists()
