"""Real diffs in the simulated engine: same, update, replace (per the dated table), delete, against the recorded state.

The AWS emulator is a moto server (aws_endpoint), so what one deploy creates is still there for the next.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from provisioner.engine.diff import replace_table
from tests.helpers import deploy_cli

pytestmark = pytest.mark.usefixtures("aws_endpoint")

STAGING = ("aws", "--env", "staging", "--simulate", "--output", "json")


def _run(*args: str) -> dict[str, Any]:
    result = deploy_cli(*STAGING, *args)
    assert result.exit_code == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


def _changes(outcome: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {r["name"]: (r["op"], r["message"]) for r in outcome["resources"] if r["op"] != "same"}


def test_a_redeploy_with_identical_inputs_leaves_every_resource_the_same() -> None:
    first = _run()

    again = _run()

    assert again["resource_counts"] == {"same": first["resource_counts"]["create"]}


def test_more_nodes_plans_exactly_one_update_the_node_group() -> None:
    _run()

    plan = _run("--plan", "--set", "cluster.nodes.desired=3")

    assert _changes(plan) == {"aws-staging-cluster-general-nodes": ("update", None)}
    assert plan["resource_counts"] == {"same": 65, "update": 1}


NETWORK_REPLACED = {
    "aws-staging-network-vpc": ("replace", "cidrBlock changed: replaced"),
    **{f"aws-staging-network-{tier}-{zone}": ("replace", "vpcId changed: replaced")
       for tier in ("public", "private") for zone in ("eu-west-1a", "eu-west-1b")},
    **{name: ("replace", "vpcId changed: replaced") for name in (
        "aws-staging-network-public-rt", "aws-staging-network-private-eu-west-1a-rt",
        "aws-staging-network-private-eu-west-1b-rt", "aws-staging-mlflow-db-sg")},
    **{f"aws-staging-network-{tier}-{zone}-assoc": ("replace", "subnetId changed: replaced")
       for tier in ("public", "private") for zone in ("eu-west-1a", "eu-west-1b")},
    "aws-staging-network-nat-eu-west-1a": ("replace", "subnetId changed: replaced"),
    **{name: ("replace", "routeTableId changed: replaced") for name in (
        "aws-staging-network-public-default", "aws-staging-network-private-eu-west-1a-default",
        "aws-staging-network-private-eu-west-1b-default")},
    "aws-staging-cluster-general-nodes": ("replace", "subnetIds changed: replaced"),
    "aws-staging-mlflow-db-from-cluster": ("replace", "securityGroupId changed: replaced"),
    # In place: an internet gateway moves to the new VPC, the subnet group and the cluster take the new
    # subnets, the database its new security group (none of these properties forces a replacement).
    "aws-staging-network-igw": ("update", None),
    "aws-staging-mlflow-db-subnets": ("update", None),
    "aws-staging-cluster-eks": ("update", None),
    "aws-staging-mlflow-db-postgres": ("update", None),
}


def test_a_new_vpc_cidr_replaces_the_vpc_and_what_depends_on_it_then_converges() -> None:
    _run()

    plan = _run("--plan", "--set", "network.cidr=10.50.0.0/16")
    applied = _run("--set", "network.cidr=10.50.0.0/16")
    again = _run("--set", "network.cidr=10.50.0.0/16")

    assert _changes(plan) == NETWORK_REPLACED
    assert _changes(applied) == NETWORK_REPLACED
    vpcs = boto3.client("ec2", region_name="eu-west-1").describe_vpcs(Filters=[{"Name": "tag:provisioner:stack", "Values": ["aws-staging"]}])
    assert [vpc["CidrBlock"] for vpc in vpcs["Vpcs"]] == ["10.50.0.0/16"]  # the old VPC is gone
    assert set(again["resource_counts"]) == {"same"}


def test_the_replacement_table_names_its_sources_and_date() -> None:
    from provisioner.engine.diff import TABLE

    text = TABLE.read_text()

    assert 'as_of: "2026-12-06"' in text and "pulumi.com/registry/packages/aws" in text
    assert replace_table()["aws:ec2/vpc:Vpc"][0] == "cidrBlock"
    assert "kubernetes:apps/v1:Deployment" in replace_table()
