"""The registry through the CLI, on SQLite and on PostgreSQL: register, describe, refuse bad input."""

from __future__ import annotations

import json

import pytest

from tests.helpers import cli, cli_json, raw_rows

SECRET_KEY_VALUE = "wJalrXUtnFEMI-not-a-real-key-7Q"
MLFLOW_PASSWORD = "correct-horse-battery-staple"


def _register_example(store_url: str) -> None:
    """A connector with a secret, three components (one linked, one with a secret) and a stack."""
    steps = [
        ("connector", "register", "aws-staging", "--type", "aws", "--auth-method", "secret-key",
         "-c", "region=eu-west-1", "--value-in-args", "-c", "aws_access_key_id=AKIAEXAMPLE",
         "--value-in-args", "-c", f"aws_secret_access_key={SECRET_KEY_VALUE}", "--env", "staging"),
        ("component", "register", "k8s", "-t", "orchestrator", "-f", "kubernetes",
         "-c", "kubernetes_context=staging", "-c", "namespace=pipelines", "--connector", "aws-staging"),
        ("component", "register", "bucket", "-t", "artifact_store", "-f", "s3",
         "-c", "path=s3://team-artifacts", "--connector", "aws-staging", "-l", "env=staging"),
        ("component", "register", "tracker", "-t", "experiment_tracker", "-f", "mlflow",
         "-c", "tracking_uri=https://mlflow.example.com", "-c", "tracking_username=admin",
         "--value-in-args", "-c", f"tracking_password={MLFLOW_PASSWORD}"),
        ("stack", "register", "staging", "-c", "k8s", "-c", "bucket", "-c", "tracker"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.stderr)


def test_stack_describe_shows_components_connectors_and_only_secret_references(store_url: str) -> None:
    _register_example(store_url)

    stack = cli_json("stack", "describe", "staging")

    assert set(stack["components"]) == {"orchestrator", "artifact_store", "experiment_tracker"}
    bucket = stack["components"]["artifact_store"]
    assert bucket["config"]["path"] == "s3://team-artifacts"
    assert bucket["connector"]["name"] == "aws-staging"
    assert bucket["connector"]["env"] == "staging"
    assert bucket["connector"]["configuration"]["aws_secret_access_key"] == (
        "{{secret:connector-aws-staging.aws_secret_access_key}}"
    )
    tracker = stack["components"]["experiment_tracker"]
    assert tracker["config"]["tracking_password"] == "{{secret:component-tracker.tracking_password}}"
    text = json.dumps(stack)
    assert SECRET_KEY_VALUE not in text
    assert MLFLOW_PASSWORD not in text


def test_stack_describe_show_secrets_resolves_references(store_url: str) -> None:
    _register_example(store_url)

    stack = cli_json("stack", "describe", "staging", "--show-secrets")

    assert stack["components"]["experiment_tracker"]["config"]["tracking_password"] == MLFLOW_PASSWORD
    connector = stack["components"]["artifact_store"]["connector"]
    assert connector["configuration"]["aws_secret_access_key"] == SECRET_KEY_VALUE


def test_raw_rows_hold_no_secret_value(store_url: str) -> None:
    _register_example(store_url)
    assert cli("secret", "set", "--value-in-args", "slack", f"token={MLFLOW_PASSWORD}-slack").exit_code == 0

    dumped = json.dumps(raw_rows(store_url, include_audit=True), default=str)

    assert "tracking_password" in dumped  # the rows were really read
    for value in (SECRET_KEY_VALUE, MLFLOW_PASSWORD, f"{MLFLOW_PASSWORD}-slack"):
        assert value not in dumped


def test_list_commands_show_what_was_registered(store_url: str) -> None:
    _register_example(store_url)

    assert [c["name"] for c in cli_json("component", "list")] == ["bucket", "k8s", "tracker"]
    assert [c["name"] for c in cli_json("component", "list", "--type", "artifact_store")] == ["bucket"]
    assert [c["name"] for c in cli_json("connector", "list")] == ["aws-staging"]
    assert [s["name"] for s in cli_json("stack", "list")] == ["staging"]
    secrets = {s["name"]: s for s in cli_json("secret", "list")}
    assert secrets["component-tracker"]["owner"] == "component:tracker"
    assert "values" not in secrets["component-tracker"]


def test_table_output_lists_components(store_url: str) -> None:
    _register_example(store_url)

    result = cli("component", "list")

    assert result.exit_code == 0
    assert "bucket" in result.stdout and "s3" in result.stdout
    assert MLFLOW_PASSWORD not in cli("component", "describe", "tracker").stdout


BAD_INPUTS = [
    pytest.param(("component", "register", "x", "-t", "warehouse", "-f", "s3"), "unknown value 'warehouse'", id="unknown-type"),
    pytest.param(("component", "register", "x", "-t", "artifact_store", "-f", "azure"), "unknown flavor 'azure'", id="unknown-flavor"),
    pytest.param(("component", "register", "x", "-t", "artifact_store", "-f", "s3", "-c", "path=/tmp/x"), "field 'path'", id="config-fails-schema"),
    pytest.param(("component", "register", "x", "-t", "artifact_store", "-f", "s3"), "field 'path': required", id="config-missing-field"),
    pytest.param(("component", "register", "x", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://b", "-c", "colour=red"), "field 'colour': unknown field", id="config-unknown-field"),
    pytest.param(("component", "register", "bucket", "-t", "artifact_store", "-f", "local"), "component 'bucket' already exists", id="duplicate-component"),
    pytest.param(("connector", "register", "aws-staging", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1"), "connector 'aws-staging' already exists", id="duplicate-connector"),
    pytest.param(("stack", "register", "staging", "-c", "k8s", "-c", "bucket"), "stack 'staging' already exists", id="duplicate-stack"),
    pytest.param(("stack", "register", "s2", "-c", "bucket"), "needs a component of type orchestrator", id="stack-without-orchestrator"),
    pytest.param(("stack", "register", "s2", "-c", "k8s"), "needs a component of type artifact_store", id="stack-without-artifact-store"),
    pytest.param(("stack", "register", "s2", "-c", "k8s", "-c", "bucket", "-c", "local-store"), "one artifact_store, got two", id="two-of-one-type"),
    pytest.param(("stack", "register", "s2", "-c", "k8s", "-c", "ghost"), "component 'ghost' does not exist", id="unknown-component"),
    pytest.param(("component", "register", "x", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://b", "--connector", "ghost"), "connector 'ghost' does not exist", id="unknown-connector"),
    pytest.param(("component", "register", "x", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=http://m", "-c", "tracking_password={{secret:ghost.password}}"), "secret 'ghost', which does not exist", id="unknown-secret-reference"),
    pytest.param(("component", "register", "x", "-t", "orchestrator", "-f", "local", "--connector", "aws-staging"), "cannot use a service connector", id="flavor-without-connector"),
    pytest.param(("connector", "register", "c2", "-t", "aws", "-a", "password"), "unknown auth method 'password'", id="unknown-auth-method"),
    pytest.param(("connector", "register", "c2", "-t", "kubernetes", "-a", "token", "-c", "server=https://k", "--value-in-args", "-c", "token=t", "-r", "s3-bucket"), "not offered by kubernetes", id="wrong-resource-type"),
    pytest.param(("component", "delete", "bucket"), "used by stack(s) staging", id="delete-component-in-use"),
    pytest.param(("connector", "delete", "aws-staging"), "used by component(s) bucket, k8s", id="delete-connector-in-use"),
    pytest.param(("secret", "delete", "component-tracker"), "referenced by component 'tracker'", id="delete-secret-in-use"),
    pytest.param(("component", "register", "Bad Name", "-t", "orchestrator", "-f", "local"), "field 'name'", id="invalid-name"),
    pytest.param(("component", "update", "ghost", "-c", "a=b"), "component 'ghost' does not exist", id="update-unknown"),
    pytest.param(("component", "register", "x", "-t", "orchestrator", "-f", "local", "-c", "novalue"), "must be KEY=VALUE", id="malformed-pair"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUTS)
def test_bad_input_exits_2_names_the_problem_and_leaves_registry_unchanged(
    store_url: str, args: tuple[str, ...], message: str
) -> None:
    _register_example(store_url)
    assert cli("component", "register", "local-store", "-t", "artifact_store", "-f", "local").exit_code == 0
    before = raw_rows(store_url)

    result = cli(*args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert raw_rows(store_url) == before


def test_component_update_revalidates_and_moves_secret_values(store_url: str) -> None:
    _register_example(store_url)

    result = cli("component", "update", "tracker", "--value-in-args", "-c", "tracking_password=rotated-value", "-l", "team=ml")

    assert result.exit_code == 0, result.stderr
    described = cli_json("component", "describe", "tracker", "--show-secrets")
    assert described["config"]["tracking_password"] == "rotated-value"
    assert described["labels"] == {"team": "ml"}
    assert "rotated-value" not in json.dumps(raw_rows(store_url), default=str)
    bad = cli("component", "update", "tracker", "-c", "tracking_uri=ftp://nope")
    assert bad.exit_code == 2 and "tracking_uri" in bad.stderr


def test_deleting_a_component_removes_its_managed_secret(store_url: str) -> None:
    _register_example(store_url)
    assert cli("stack", "delete", "staging").exit_code == 0

    assert cli("component", "delete", "tracker").exit_code == 0

    assert "component-tracker" not in {s["name"] for s in cli_json("secret", "list")}
    assert cli("component", "describe", "tracker").exit_code == 2


def test_set_active_makes_describe_default_to_that_stack(store_url: str) -> None:
    _register_example(store_url)
    assert cli("stack", "describe").exit_code == 2

    assert cli("stack", "set-active", "staging").exit_code == 0

    stack = cli_json("stack", "describe")
    assert stack["name"] == "staging" and stack["active"] is True
