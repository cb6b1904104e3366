"""The plan's deploy-time estimate: the critical path through the graph the program declares, with no false dependencies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.estimate import TABLE, critical_path
from tests.helpers import deploy_cli

pytestmark = pytest.mark.usefixtures("aws_endpoint")


def _plan(env: str) -> dict[str, Any]:
    result = deploy_cli("aws", "--env", env, "--simulate", "--plan", "--output", "json", *(("--yes",) if env == "prod" else ()))
    assert result.exit_code == 0, result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    return plan


def _upstream(plan: dict[str, Any], name: str) -> set[str]:
    """Every resource ``name`` waits for, directly or not."""
    by_urn = {r["urn"]: r for r in plan["resources"]}
    by_name = {r["name"]: r for r in plan["resources"]}
    seen: set[str] = set()
    pending = list(by_name[name]["dependencies"])
    while pending:
        urn = pending.pop()
        if urn in by_urn and by_urn[urn]["name"] not in seen:
            seen.add(by_urn[urn]["name"])
            pending.extend(by_urn[urn]["dependencies"])
    return seen


def test_the_database_waits_for_neither_the_cluster_nor_its_nodes_and_mlflow_waits_for_both_nodes_and_database() -> None:
    plan = _plan("staging")

    database = _upstream(plan, "aws-staging-mlflow-db-postgres")
    mlflow = _upstream(plan, "aws-staging-mlflow-server")

    assert "aws-staging-cluster-eks" not in database and "aws-staging-cluster-general-nodes" not in database
    assert {"aws-staging-cluster-general-nodes", "aws-staging-mlflow-db-postgres"} <= mlflow
    assert "aws-staging-builder-project" not in mlflow and "aws-staging-images" not in mlflow


def test_aws_staging_critical_path_is_the_longest_chain_of_true_dependencies() -> None:
    plan = _plan("staging")

    assert plan["deploy_estimate"] == {
        # VPC 5 s, subnet 5, EKS 600, nodes 240, EBS CSI add-on 90, StorageClass 5 (resource_durations.yaml).
        "seconds": 945,
        "path": ["aws-staging-network-vpc", "aws-staging-network-private-eu-west-1a", "aws-staging-cluster-eks",
                 "aws-staging-cluster-general-nodes", "aws-staging-cluster-ebs-csi", "aws-staging-storage-class"],
        "as_of": "2026-12-06", "measured": [],
    }


def test_aws_prod_critical_path_runs_through_the_multi_az_database() -> None:
    plan = _plan("prod")

    assert plan["deploy_estimate"] == {
        # VPC 5, subnet 5, DB subnet group 5, Multi-AZ RDS 900, auth Secret 5, MLflow Deployment 90.
        "seconds": 1010,
        "path": ["aws-prod-network-vpc", "aws-prod-network-private-eu-west-1a", "aws-prod-mlflow-db-subnets",
                 "aws-prod-mlflow-db-postgres", "aws-prod-mlflow-auth", "aws-prod-mlflow-server"],
        "as_of": "2026-12-06", "measured": [],
    }


def test_an_unchanged_stack_takes_no_time_and_a_node_change_only_the_node_groups() -> None:
    assert deploy_cli("aws", "--env", "staging", "--simulate").exit_code == 0

    same = deploy_cli("aws", "--env", "staging", "--simulate", "--plan", "--output", "json")
    nodes = deploy_cli("aws", "--env", "staging", "--simulate", "--plan", "--set", "cluster.nodes.desired=3", "--output", "json")

    assert json.loads(same.stdout)["deploy_estimate"]["seconds"] == 0
    assert json.loads(nodes.stdout)["deploy_estimate"] == {
        "seconds": 300, "path": ["aws-staging-cluster-general-nodes"], "as_of": "2026-12-06", "measured": [],
    }


def test_the_durations_table_names_its_sources_and_date() -> None:
    text = TABLE.read_text()

    assert 'as_of: "2026-12-06"' in text and "docs.aws.amazon.com/eks" in text and "cloud.google.com/sql" in text
    assert critical_path([]).seconds == 0


def test_nodes_wait_for_their_nat_egress_and_the_control_plane_does_not() -> None:
    plan = _plan("staging")

    nodes = _upstream(plan, "aws-staging-cluster-general-nodes")
    control_plane = _upstream(plan, "aws-staging-cluster-eks")

    assert {"aws-staging-network-nat-eu-west-1a", "aws-staging-network-private-eu-west-1a-default",
            "aws-staging-network-private-eu-west-1b-default", "aws-staging-network-private-eu-west-1b-assoc"} <= nodes
    assert "aws-staging-network-nat-eu-west-1a" not in control_plane
