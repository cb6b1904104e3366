"""Secret settings of components and connectors never have to be on the command line (`ps`, shell history)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import cli, cli_json, raw_rows

TRACKER = ("component", "register", "tracker", "-t", "experiment_tracker", "-f", "mlflow",
           "-c", "tracking_uri=https://mlflow.example.com", "-c", "tracking_username=admin")


def _stored_password() -> str:
    return str(cli_json("component", "describe", "tracker", "--show-secrets")["config"]["tracking_password"])


def test_a_plain_secret_setting_is_refused_before_anything_is_written(store_url: str) -> None:
    before = raw_rows(store_url)

    result = cli(*TRACKER, "-c", "tracking_password=hunter2-in-argv")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: -c tracking_password=...: a secret value on the command line is visible to `ps` and kept in shell "
        "history; give -c tracking_password alone to be asked, -c tracking_password=@FILE to read it from a file, "
        "or add --value-in-args\n"
    )
    assert "hunter2" not in result.output
    assert raw_rows(store_url) == before


def test_a_secret_setting_given_alone_is_asked_without_echo(store_url: str) -> None:
    result = cli(*TRACKER, "-c", "tracking_password", input="typed-password\n")

    assert result.exit_code == 0, result.stderr
    assert "typed-password" not in result.output
    assert _stored_password() == "typed-password"


def test_a_secret_setting_read_from_a_file(store_url: str, tmp_path: Path) -> None:
    password_file = tmp_path / "mlflow-password"
    password_file.write_text("from-the-file\n", encoding="utf-8")

    assert cli(*TRACKER, "-c", f"tracking_password=@{password_file}").exit_code == 0
    assert _stored_password() == "from-the-file"


def test_a_reference_and_an_explicit_flag_are_taken_as_given(store_url: str) -> None:
    assert cli("secret", "set", "--value-in-args", "mlflow", "password=kept-in-the-store").exit_code == 0

    assert cli(*TRACKER, "-c", "tracking_password={{secret:mlflow.password}}").exit_code == 0
    assert cli_json("component", "describe", "tracker")["config"]["tracking_password"] == "{{secret:mlflow.password}}"

    updated = cli("component", "update", "tracker", "--value-in-args", "-c", "tracking_password=rotated")
    assert updated.exit_code == 0, updated.stderr
    assert _stored_password() == "rotated"


def test_update_refuses_a_plain_secret_setting_and_keeps_the_component(store_url: str) -> None:
    assert cli(*TRACKER, "-c", "tracking_password", input="first\n").exit_code == 0
    before = raw_rows(store_url)

    result = cli("component", "update", "tracker", "-c", "tracking_password=second")

    assert result.exit_code == 2
    assert result.stderr.startswith("error: -c tracking_password=...: a secret value on the command line")
    assert raw_rows(store_url) == before


def test_a_connectors_secret_keys_are_refused_in_args_and_asked_alone(store_url: str, tmp_path: Path) -> None:
    key_id = tmp_path / "key-id"
    key_id.write_text("AKIAEXAMPLEEXAMPLE12\n", encoding="utf-8")
    register = ("connector", "register", "aws-keys", "-t", "aws", "-a", "secret-key", "-c", "region=eu-west-1")
    before = raw_rows(store_url)

    refused = cli(*register, "-c", f"aws_access_key_id=@{key_id}", "-c", "aws_secret_access_key=plain-secret")

    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: -c aws_secret_access_key=...: a secret value on the command line")
    assert raw_rows(store_url) == before

    asked = cli(*register, "-c", f"aws_access_key_id=@{key_id}", "-c", "aws_secret_access_key", input="typed-secret\n")
    assert asked.exit_code == 0, asked.stderr
    shown = cli_json("connector", "describe", "aws-keys", "--show-secrets")["configuration"]
    assert (shown["aws_access_key_id"], shown["aws_secret_access_key"]) == ("AKIAEXAMPLEEXAMPLE12", "typed-secret")


def test_a_setting_that_is_not_secret_still_needs_a_value(store_url: str) -> None:
    result = cli("component", "register", "tracker", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri")

    assert result.exit_code == 2
    assert result.stderr == "error: --config must be KEY=VALUE (got 'tracking_uri')\n"


def test_deploy_stack_takes_a_secret_setting_only_from_a_file(isolated_environ: Path, tmp_path: Path) -> None:
    from tests.helpers import deploy_cli

    uri = "postgresql://mlflow:db-password-in-argv@db.internal:5432/mlflow"
    refused = deploy_cli("kubernetes", "--env", "dev", "--simulate", "--plan", "--set", f"mlflow.backend_store_uri={uri}")

    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: --set mlflow.backend_store_uri=...: a secret setting on the command line is visible to `ps` and kept in "
        "shell history; give --set mlflow.backend_store_uri=@FILE to read it from a file, or put it in the --file config\n"
    )
    assert "db-password-in-argv" not in refused.output

    uri_file = tmp_path / "mlflow-db"
    uri_file.write_text(uri + "\n", encoding="utf-8")
    planned = deploy_cli("kubernetes", "--env", "dev", "--simulate", "--plan", "--output", "json",
                         "--set", f"mlflow.backend_store_uri=@{uri_file}", "--set", "mlflow.replicas=2")
    assert planned.exit_code == 0, planned.stderr  # two replicas need a database: the file's URI was taken
    assert "db-password-in-argv" not in planned.output  # a secret setting is masked in the plan
