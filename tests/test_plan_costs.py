"""--plan shows resource counts and a monthly cost in the plan's own cloud and region, from the dated price facts."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest

from provisioner.costs import estimate
from provisioner.engine.base import Op, ResourceRecord
from provisioner.facts import eks
from provisioner.facts.prices import aws_table
from tests.helpers import deploy_cli, registry_rows, s3_buckets

pytestmark = pytest.mark.usefixtures("aws_endpoint")


def test_prod_plan_json_carries_resource_counts_and_a_cost_estimate() -> None:
    result = deploy_cli("aws", "--env", "prod", "--region", "us-east-1", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["resource_counts"]["create"] == len(outcome["resources"]) > 50
    cost = outcome["cost_estimate"]
    assert cost["total_monthly_usd"] == pytest.approx(sum(item["monthly_usd"] for item in cost["items"]))
    assert cost["source"].startswith("AWS public pricing pages") and cost["recorded"]
    kinds = {item["resource_type"] for item in cost["items"]}
    assert {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/natGateway:NatGateway", "aws:rds/instance:Instance"} <= kinds
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
    table = aws_table()
    region = table.regions["us-east-1"]
    before = estimate(_records(), cloud="aws", region="us-east-1", table=table).total_monthly_usd

    changed = region.model_copy(update={"nat_gateway_hourly": region.nat_gateway_hourly * 2, "ec2_hourly": {"t3.xlarge": 1.0}})
    after = estimate(
        _records(), cloud="aws", region="us-east-1", table=table.model_copy(update={"regions": {"us-east-1": changed}})
    ).total_monthly_usd

    nat_delta = region.nat_gateway_hourly * 730
    node_delta = (1.0 - region.ec2_hourly["t3.xlarge"]) * 2 * 730
    assert after - before == pytest.approx(nat_delta + node_delta, abs=0.05)


def test_deleted_resources_cost_nothing_and_unknown_types_are_listed_not_guessed() -> None:
    records = [
        ResourceRecord(urn="u", type="aws:eks/cluster:Cluster", name="old", op=Op.DELETE, inputs={}),
        ResourceRecord(urn="v", type="aws:eks/nodeGroup:NodeGroup", name="odd", op=Op.CREATE,
                       inputs={"instanceTypes": ["x9.unknown"], "scalingConfig": {"desiredSize": 1}}),
    ]

    cost = estimate(records, cloud="aws", region="us-east-1")

    assert cost.total_monthly_usd == 0 and cost.not_priced == ["aws:eks/nodeGroup:NodeGroup odd"]


def _staging_cost(*args: str) -> dict:
    result = deploy_cli("aws", "--env", "staging", *args, "--plan", "--simulate", "--output", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["cost_estimate"]


def _by_type(cost: dict) -> dict[str, float]:
    return {item["resource_type"]: item["monthly_usd"] for item in cost["items"]}


def test_aws_staging_in_us_east_1_costs_what_its_table_says() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2026-12-02"

    cost = _staging_cost("--region", "us-east-1")

    assert _by_type(cost) == {
        "aws:eks/cluster:Cluster": 73.0,  # 0.10 x 730
        "aws:eks/nodeGroup:NodeGroup": 242.94,  # 2 x t3.xlarge 0.1664 x 730
        "aws:ec2/natGateway:NatGateway": 36.5,  # (0.045 + IPv4 0.005) x 730
        "aws:rds/instance:Instance": 25.66,  # db.t4g.small 0.032 x 730 + 20 GiB x 0.115
        "kubernetes:core/v1:Service": 16.43,  # NLB 0.0225 x 730
    }
    assert (cost["total_monthly_usd"], cost["cloud"], cost["region"], cost["not_priced"]) == (394.53, "aws", "us-east-1", [])


def test_aws_staging_in_eu_west_1_costs_what_its_table_says_and_lists_what_it_has_no_price_for() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2026-12-02"

    cost = _staging_cost()  # the default region, eu-west-1

    assert _by_type(cost) == {
        "aws:eks/cluster:Cluster": 73.0,
        "aws:eks/nodeGroup:NodeGroup": 266.3,  # 2 x t3.xlarge 0.1824 x 730
        "aws:ec2/natGateway:NatGateway": 38.69,  # (0.048 + 0.005) x 730
        "kubernetes:core/v1:Service": 18.4,  # NLB 0.0252 x 730
    }
    assert cost["total_monthly_usd"] == 396.39 and cost["region"] == "eu-west-1"
    assert cost["not_priced"] == ["aws:rds/instance:Instance aws-staging-mlflow-db-postgres"]  # no Irish RDS rate recorded


def test_a_region_without_prices_prices_nothing_and_says_not_priced_here() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2026-12-02"
    cost = _staging_cost("--region", "ap-south-1")

    assert cost["items"] == [] and cost["total_monthly_usd"] == 0
    assert sorted(cost["not_priced"]) == [
        "aws:ec2/natGateway:NatGateway aws-staging-network-nat-ap-south-1a",
        "aws:eks/cluster:Cluster aws-staging-cluster-eks",
        "aws:eks/nodeGroup:NodeGroup aws-staging-cluster-general-nodes",
        "aws:rds/instance:Instance aws-staging-mlflow-db-postgres",
        "kubernetes:core/v1:Service aws-staging-mlflow-svc",
    ]
    table = deploy_cli("aws", "--env", "staging", "--region", "ap-south-1", "--plan", "--simulate")
    assert table.exit_code == 0, table.stderr
    assert (
        "Not priced here (aws ap-south-1): aws:ec2/natGateway:NatGateway aws-staging-network-nat-ap-south-1a, "
        "aws:eks/cluster:Cluster aws-staging-cluster-eks, aws:eks/nodeGroup:NodeGroup aws-staging-cluster-general-nodes, "
        "aws:rds/instance:Instance aws-staging-mlflow-db-postgres, kubernetes:core/v1:Service aws-staging-mlflow-svc"
    ) in table.stdout.splitlines()


def test_gcp_staging_plan_has_a_gcp_estimate_in_its_region() -> None:
    result = deploy_cli("gcp", "--env", "staging", "--region", "us-central1", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    cost = json.loads(result.stdout)["cost_estimate"]
    assert (cost["cloud"], cost["region"]) == ("gcp", "us-central1")
    assert cost["source"].startswith("Google Cloud public pricing pages")
    assert _by_type(cost) == {
        "gcp:container/cluster:Cluster": 73.0,  # GKE fee 0.10 x 730
        "gcp:container/nodePool:NodePool": 195.66,  # 2 x e2-standard-4 0.134012 x 730
        "gcp:sql/databaseInstance:DatabaseInstance": 52.71,  # (1 x 0.0413 + 3.75 GB x 0.007) x 730 + 20 GB x 0.17
    }
    assert cost["total_monthly_usd"] == 321.37
    assert cost["not_priced"] == ["kubernetes:core/v1:Service gcp-staging-mlflow-svc"]  # no GCP load balancer rate recorded


def test_gcp_regional_prod_bills_the_node_pool_in_each_zone_and_the_database_twice() -> None:
    result = deploy_cli("gcp", "--env", "prod", "--region", "us-central1", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    cost = _by_type(json.loads(result.stdout)["cost_estimate"])
    assert cost["gcp:container/nodePool:NodePool"] == 586.97  # 1 per zone x 3 zones x e2-standard-8 0.268024 x 730
    assert cost["gcp:sql/databaseInstance:DatabaseInstance"] == 231.25  # regional: 2 x ((2 x 0.0413 + 7.5 x 0.007) x 730 + 100 x 0.17)


def _cluster(version: str) -> list[ResourceRecord]:
    return [ResourceRecord(urn="c", type="aws:eks/cluster:Cluster", name="eks", op=Op.CREATE, inputs={"version": version})]


@pytest.mark.parametrize(
    ("version", "on", "monthly"),
    [
        pytest.param("1.33", date(2026, 12, 2), 438.0, id="extended"),  # 1.33 left standard support on 2026-07-29
        pytest.param("1.33", date(2026, 7, 29), 73.0, id="standard-on-its-last-day"),
        pytest.param("1.35", date(2026, 12, 2), 73.0, id="standard"),
    ],
)
def test_an_eks_version_in_extended_support_on_the_plan_date_is_billed_at_the_extended_rate(
    version: str, on: date, monthly: float
) -> None:
    cost = estimate(_cluster(version), cloud="aws", region="eu-west-1", on=on)

    assert cost.items[0].monthly_usd == monthly
    assert monthly in (eks.STANDARD_HOURLY_USD * 730, eks.EXTENDED_HOURLY_USD * 730)


def test_a_staging_plan_pinned_to_a_version_in_extended_support_bills_the_extended_rate() -> None:
    os.environ["PROVISIONER_FACTS_AS_OF"] = "2026-12-02"

    cost = _staging_cost(
        "--region", "us-east-1", "--set", "cluster.kubernetes_version=1.33", "--set", "cluster.allow_extended_support=true"
    )

    cluster = next(item for item in cost["items"] if item["resource_type"] == "aws:eks/cluster:Cluster")
    assert (cluster["description"], cluster["monthly_usd"]) == ("EKS control plane 1.33, extended support", 438.0)
    assert cost["total_monthly_usd"] == 759.53  # 394.53 with the cluster at 0.60 instead of 0.10 an hour


@pytest.mark.parametrize(
    ("region", "monthly"),
    [
        pytest.param("us-east-1", 36.5, id="us-east-1"),
        pytest.param("eu-central-1", 41.61, id="eu-central-1"),  # (0.052 + 0.005) x 730
        pytest.param("ap-south-1", None, id="no-table"),
    ],
)
def test_a_leftover_is_priced_in_its_own_region(region: str, monthly: float | None) -> None:
    from provisioner.pricing import aws_monthly_cost

    assert aws_monthly_cost("nat-gateway", region=region) == monthly


def test_a_cluster_only_plan_has_no_price_table_and_lists_its_items_as_not_priced() -> None:
    result = deploy_cli("kubernetes", "--env", "staging", "--context", "kind-dev", "--plan", "--simulate")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "No prices: the cluster's cloud is not known, so no price table applies." in lines
    assert (
        "Not priced here (no cloud): kubernetes:core/v1:PersistentVolumeClaim kubernetes-staging-mlflow-data, "
        "kubernetes:core/v1:PersistentVolumeClaim kubernetes-staging-s3store-data, "
        "kubernetes:core/v1:Service kubernetes-staging-mlflow-svc"
    ) in lines
