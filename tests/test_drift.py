"""Drift: what changed in the emulator behind the tool's back shows in `stack drift` (exit 1), and a deploy restores it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from tests.helpers import cli, cli_json, deploy_cli

pytestmark = pytest.mark.usefixtures("aws_endpoint")


def _bucket(outcome: dict[str, Any]) -> str:
    [bucket] = [r["inputs"]["bucket"] for r in outcome["resources"] if r["type"] == "aws:s3/bucketPolicy:BucketPolicy"]
    return str(bucket)


def test_a_bucket_policy_deleted_by_hand_is_drift_and_a_redeploy_restores_it() -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate", "--output", "json")
    assert deployed.exit_code == 0, deployed.stderr
    bucket = _bucket(json.loads(deployed.stdout))
    s3 = boto3.client("s3", region_name="eu-west-1")
    clean = cli("stack", "drift", "aws-staging", "--simulate")

    s3.delete_bucket_policy(Bucket=bucket)
    drifted = cli("stack", "drift", "aws-staging", "--simulate", "--output", "json")
    plan = deploy_cli("aws", "--env", "staging", "--simulate", "--plan", "--refresh", "--output", "json")
    restored = deploy_cli("aws", "--env", "staging", "--simulate", "--output", "json")
    after = cli("stack", "drift", "aws-staging", "--simulate")

    assert (clean.exit_code, clean.stdout.strip()) == (0, "No drift: aws-staging is as the last deploy left it.")
    assert drifted.exit_code == 1
    assert [(d["type"], d["name"], d["kind"]) for d in json.loads(drifted.stdout)["drift"]] == [
        ("aws:s3/bucketPolicy:BucketPolicy", "aws-staging-artifacts-tls-only", "deleted"),
    ]
    assert plan.exit_code == 1
    assert [d["name"] for d in json.loads(plan.stdout)["drift"]] == ["aws-staging-artifacts-tls-only"]
    assert restored.exit_code == 0, restored.stderr
    assert {r["name"]: r["op"] for r in json.loads(restored.stdout)["resources"] if r["op"] != "same"} == {
        "aws-staging-artifacts-tls-only": "create",
    }
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert after.exit_code == 0
    # Each check is kept in the stack's history (the dashboard shows the newest), newest first.
    history = [(r["kind"], r["counts"]) for r in cli_json("stack", "history", "aws-staging")]
    assert history == [("drift", {"drifted": 0}), ("deploy", {"create": 1, "same": 65}), ("drift", {"drifted": 1}),
                       ("drift", {"drifted": 1}), ("drift", {"drifted": 0}), ("deploy", {"create": 66})]


def test_a_policy_changed_by_hand_is_drift_naming_the_property() -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate", "--output", "json")
    bucket = _bucket(json.loads(deployed.stdout))
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))

    drifted = cli("stack", "drift", "aws-staging", "--simulate", "--output", "json")

    assert drifted.exit_code == 1
    [item] = json.loads(drifted.stdout)["drift"]
    assert (item["name"], item["kind"], item["property"]) == ("aws-staging-artifacts-tls-only", "changed", "policy")
    assert item["actual"]["Statement"][0]["Principal"] == "*"


def test_drift_with_in_process_moto_is_refused_rather_than_reporting_everything_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    assert deploy_cli("aws", "--env", "staging", "--simulate").exit_code == 0
    monkeypatch.delenv("AWS_ENDPOINT_URL")

    refused = cli("stack", "drift", "aws-staging", "--simulate")

    assert refused.exit_code == 2
    assert "in-process moto starts empty every run" in refused.stderr


def test_destroy_counts_what_was_already_gone_apart_from_what_it_deleted() -> None:
    deployed = deploy_cli("aws", "--env", "dev", "--simulate", "--output", "json")
    bucket = _bucket(json.loads(deployed.stdout))
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.delete_bucket_policy(Bucket=bucket)  # removed by hand

    from tests.helpers import destroy_cli

    destroyed = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert destroyed.exit_code == 0, destroyed.output
    said = " ".join(destroyed.output.split())
    total = json.loads(deployed.stdout)["resource_counts"]["create"]
    assert f"Deleted {total - 1} stack resource(s)" in said
    assert "1 more were already gone (removed from the state only)." in said
