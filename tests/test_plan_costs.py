"""--plan shows resource counts and a monthly cost computed from the price table in the repository."""

from __future__ import annotations

import copy
import json

import pytest

from provisioner.costs import estimate
from provisioner.engine.base import Op, ResourceRecord
from provisioner.pricing import price_table
from tests.helpers import deploy_cli, registry_rows, s3_buckets

pytestmark = pytest.mark.usefixtures("aws_endpoint")


def test_prod_plan_json_carries_resource_counts_and_a_cost_estimate() -> None:
    result = deploy_cli("aws", "--env", "prod", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["resource_counts"]["create"] == len(outcome["resources"]) > 50
    cost = outcome["cost_estimate"]
    assert cost["total_monthly_usd"] == pytest.approx(sum(item["monthly_usd"] for item in cost["items"]))
    assert cost["source"].startswith("AWS public pricing pages") and cost["recorded"]
    kinds = {item["resource_type"] for item in cost["items"]}
    assert {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/natGateway:NatGateway", "aws:rds/instance:Instance"} <= kinds
    assert "inputs" not in outcome["resources"][0]  # planned inputs can hold secrets: never printed
    assert s3_buckets() == [] and all(rows == [] for rows in registry_rows().values())


def test_prod_costs_more_than_staging_and_staging_more_than_dev() -> None:
    result = deploy_cli("aws", "--plan", "--compare-envs", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    envs = json.loads(result.stdout)["envs"]
    totals = {env: envs[env]["cost_estimate"]["total_monthly_usd"] for env in ("dev", "staging", "prod")}
    assert totals["prod"] > totals["staging"] > totals["dev"] > 0


def _records() -> list[ResourceRecord]:
    return [
        ResourceRecord(urn="u1", type="aws:eks/cluster:Cluster", name="eks", op=Op.CREATE, inputs={}),
        ResourceRecord(urn="u2", type="aws:ec2/natGateway:NatGateway", name="nat", op=Op.CREATE, inputs={}),
        ResourceRecord(
            urn="u3", type="aws:eks/nodeGroup:NodeGroup", name="nodes", op=Op.CREATE,
            inputs={"instanceTypes": ["t3.xlarge"], "scalingConfig": {"desiredSize": 2}, "capacityType": "ON_DEMAND"},
        ),
    ]


def test_the_estimate_follows_the_price_table() -> None:
    table = copy.deepcopy(price_table("aws"))
    before = estimate(_records(), table).total_monthly_usd

    table["hourly"]["nat_gateway"] *= 2
    table["ec2_instance_hourly"]["t3.xlarge"] = 1.0
    after = estimate(_records(), table).total_monthly_usd

    nat_delta = price_table("aws")["hourly"]["nat_gateway"] * 730
    node_delta = (1.0 - price_table("aws")["ec2_instance_hourly"]["t3.xlarge"]) * 2 * 730
    assert after - before == pytest.approx(nat_delta + node_delta, abs=0.05)


def test_deleted_resources_cost_nothing_and_unknown_types_are_listed_not_guessed() -> None:
    records = [
        ResourceRecord(urn="u", type="aws:eks/cluster:Cluster", name="old", op=Op.DELETE, inputs={}),
        ResourceRecord(urn="v", type="aws:eks/nodeGroup:NodeGroup", name="odd", op=Op.CREATE,
                       inputs={"instanceTypes": ["x9.unknown"], "scalingConfig": {"desiredSize": 1}}),
    ]

    cost = estimate(records)

    assert cost.total_monthly_usd == 0 and cost.not_priced == ["aws:eks/nodeGroup:NodeGroup odd"]
