"""deploy-stack / destroy-stack end to end with --simulate, on a moto server, with the demo recipe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import cli_json, deploy_cli, destroy_cli, registry_rows, s3_buckets

pytestmark = pytest.mark.usefixtures("demo_recipe", "aws_endpoint")


def _secret_value(name: str) -> str:
    return cli_json("secret", "describe", name, "--show-secrets")["values"]["tracking_password"]


def test_deploy_list_destroy_leaves_nothing_in_registry_or_emulator() -> None:
    deployed = deploy_cli("demo", "--env", "dev", "--simulate")
    assert deployed.exit_code == 0, deployed.stderr
    assert "SIMULATION" in deployed.stderr
    assert [s["name"] for s in cli_json("stack", "list")] == ["demo-dev"]
    assert len(s3_buckets()) == 1

    destroyed = destroy_cli("demo", "--env", "dev", "--simulate", "--yes")

    assert destroyed.exit_code == 0, destroyed.stderr
    assert s3_buckets() == []
    assert all(rows == [] for rows in registry_rows().values())
    again = destroy_cli("demo", "--env", "dev", "--simulate", "--yes")
    assert again.exit_code == 0
    assert "Nothing to destroy" in again.stdout


def test_second_deploy_with_same_inputs_registers_nothing_twice() -> None:
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0
    first_rows = registry_rows()
    first_password = _secret_value("component-demo-dev-tracker")

    second = deploy_cli("demo", "--env", "dev", "--simulate")

    assert second.exit_code == 0, second.stderr
    rows = registry_rows()
    for table in ("components", "stacks", "stack_members", "secrets"):
        assert len(rows[table]) == len(first_rows[table]), table
    assert len(s3_buckets()) == 1
    assert _secret_value("component-demo-dev-tracker") == first_password
    assert "Deployed demo-dev (recipe demo, env dev, region eu-west-1): 2 same." in second.stdout.splitlines()


def test_an_unchanged_resource_deleted_behind_our_back_is_made_again() -> None:
    import boto3

    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0
    (bucket,) = s3_buckets()
    boto3.client("s3").delete_bucket(Bucket=bucket)

    again = deploy_cli("demo", "--env", "dev", "--simulate", "--output", "json")

    assert again.exit_code == 0, again.stderr
    resources = {(r["type"], r["op"]) for r in json.loads(again.stdout)["resources"]}
    assert resources == {("aws:s3/bucket:Bucket", "create"), ("random:index/randomPassword:RandomPassword", "same")}
    assert len(s3_buckets()) == 1


def test_changing_one_setting_updates_exactly_the_resource_it_reaches() -> None:
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0

    changed = deploy_cli("demo", "--env", "dev", "--simulate", "--set", "force_destroy=false", "--output", "json")

    assert changed.exit_code == 0, changed.stderr
    resources = {(r["type"], r["op"]) for r in json.loads(changed.stdout)["resources"]}
    assert resources == {("aws:s3/bucket:Bucket", "update"), ("random:index/randomPassword:RandomPassword", "same")}


def test_deploy_json_masks_secret_outputs_and_show_secrets_reveals_them() -> None:
    result = deploy_cli("demo", "--env", "staging", "--simulate", "--output", "json")
    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    password = _secret_value("component-demo-staging-tracker")

    assert outcome["simulated"] is True and outcome["stack"] == "demo-staging"
    assert outcome["outputs"]["tracking_password"] == {"value": "********", "secret": True}
    assert outcome["registered"]["components"] == [
        "demo-staging-orchestrator", "demo-staging-artifacts", "demo-staging-tracker"
    ]
    assert password not in result.stdout + result.stderr
    assert password not in json.dumps(registry_rows(), default=str)
    shown = deploy_cli("demo", "--env", "staging", "--simulate", "--output", "json", "--show-secrets")
    assert json.loads(shown.stdout)["outputs"]["tracking_password"]["value"] == password


def test_registered_config_points_at_the_emulated_bucket() -> None:
    assert deploy_cli("demo", "--env", "staging", "--simulate").exit_code == 0

    stack = cli_json("stack", "describe", "demo-staging")

    path = stack["components"]["artifact_store"]["config"]["path"]
    assert path == f"s3://{s3_buckets()[0]}"
    import boto3

    tags = boto3.client("s3").get_bucket_tagging(Bucket=s3_buckets()[0])["TagSet"]
    assert {"Key": "provisioner:env", "Value": "staging"} in tags


def test_plan_lists_resources_and_creates_nothing() -> None:
    result = deploy_cli("demo", "--env", "prod", "--plan", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["preview"] is True
    assert {(r["type"], r["op"]) for r in outcome["resources"]} == {
        ("aws:s3/bucket:Bucket", "create"),
        ("random:index/randomPassword:RandomPassword", "create"),
    }
    assert s3_buckets() == []
    assert all(rows == [] for rows in registry_rows().values())


def test_failed_deploy_registers_nothing_and_destroy_recovers() -> None:
    os.environ["PROVISIONER_SIMULATE_FAIL"] = "demo-dev-tracker-password"

    failed = deploy_cli("demo", "--env", "dev", "--simulate")

    assert failed.exit_code == 1
    assert "demo-dev-tracker-password" in failed.stderr and "injected failure" in failed.stderr
    assert all(rows == [] for rows in registry_rows().values())
    assert len(s3_buckets()) == 1  # the bucket was created before the failure
    del os.environ["PROVISIONER_SIMULATE_FAIL"]
    destroyed = destroy_cli("demo", "--env", "dev", "--simulate", "--yes")
    assert destroyed.exit_code == 0, destroyed.stderr
    assert s3_buckets() == []


def test_prod_destroy_needs_the_typed_stack_name() -> None:
    deployed = deploy_cli("demo", "--env", "prod", "--simulate", "--yes")
    assert deployed.exit_code == 0, deployed.stderr

    wrong = destroy_cli("demo", "--env", "prod", "--simulate", input="demo-staging\n")
    assert wrong.exit_code == 2
    assert [s["name"] for s in cli_json("stack", "list")] == ["demo-prod"]

    right = destroy_cli("demo", "--env", "prod", "--simulate", input="demo-prod\n")
    assert right.exit_code == 0, right.stderr
    assert cli_json("stack", "list") == []


def test_deploying_into_another_envs_stack_is_refused() -> None:
    assert deploy_cli("demo", "--env", "prod", "--simulate", "--yes").exit_code == 0
    before = registry_rows()

    result = deploy_cli("demo", "--env", "staging", "--name", "demo-prod", "--simulate")

    assert result.exit_code == 2
    assert "its state says stack 'demo-prod' is env 'prod', not 'staging': refusing to deploy it" in result.stderr
    assert registry_rows() == before


def test_config_file_defines_a_new_env_on_top_of_a_preset(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("envs:\n  qa:\n    extends: staging\n    args:\n      extra_tags: {team: ml}\n")

    result = deploy_cli("demo", "--env", "qa", "-f", str(config), "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert cli_json("stack", "describe", "demo-qa")["labels"]["env"] == "qa"
    import boto3

    tags = boto3.client("s3").get_bucket_tagging(Bucket=s3_buckets()[0])["TagSet"]
    assert {"Key": "team", "Value": "ml"} in tags


BAD_INPUTS = [
    pytest.param(["nosuch", "--env", "dev"], None, "unknown recipe 'nosuch'", id="unknown-recipe"),
    pytest.param(["demo", "--env", "qa"], None, "unknown env 'qa'", id="unknown-env"),
    pytest.param(["demo", "--set", "tracker.colour=red"], None, "unknown setting 'colour'", id="unknown-set-path"),
    pytest.param(["demo", "--set", "versioning.deep=1"], None, "'versioning' has no sub-settings", id="set-below-a-scalar"),
    pytest.param(["demo", "--set", "tracker.replicas=many"], None, "tracker.replicas", id="set-wrong-type"),
    pytest.param(["demo", "--set", "tracker.replicas=9"], None, "tracker.replicas", id="set-out-of-range"),
    pytest.param(["demo"], "args: [unclosed\n", "not valid YAML", id="malformed-yaml"),
    pytest.param(["demo"], "colour: red\n", "field 'colour': unknown field", id="unknown-file-key"),
    pytest.param(["demo"], "args:\n  colour: red\n", "field 'colour': unknown field", id="unknown-args-key"),
    pytest.param(["demo"], "recipe: aws\n", "config file is for recipe 'aws'", id="file-for-another-recipe"),
    pytest.param(["demo", "--name", "Bad Name"], None, "invalid stack name", id="bad-stack-name"),
]


@pytest.mark.parametrize(("args", "file_text", "message"), BAD_INPUTS)
def test_bad_deploy_input_exits_2_with_nothing_created(
    tmp_path: Path, args: list[str], file_text: str | None, message: str
) -> None:
    if file_text is not None:
        config = tmp_path / "config.yaml"
        config.write_text(file_text)
        args = [*args, "-f", str(config)]

    result = deploy_cli(*args, "--simulate")

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert s3_buckets() == []
    assert all(rows == [] for rows in registry_rows().values())
    assert not (Path(os.environ["PROVISIONER_HOME"]) / "simulated").exists()


def test_without_an_endpoint_the_simulation_runs_on_in_process_moto(demo_recipe: Path) -> None:
    os.environ.pop("AWS_ENDPOINT_URL", None)

    result = deploy_cli("demo", "--env", "dev", "--simulate", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert "in-process moto" in json.loads(result.stdout)["emulator"]
    assert [s["name"] for s in cli_json("stack", "list")] == ["demo-dev"]
    assert destroy_cli("demo", "--env", "dev", "--simulate", "--yes").exit_code == 0
    assert cli_json("stack", "list") == []
