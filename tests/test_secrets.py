"""The local encrypted secret store and the `provisioner secret` commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.helpers import cli, cli_json, raw_rows
from provisioner.secrets import MASK, parse_reference, resolve_references


def test_secret_values_are_masked_unless_show_secrets(store_url: str) -> None:
    assert cli("secret", "set", "--value-in-args", "slack", "token=xoxb-123", "channel=C42").exit_code == 0

    masked = cli_json("secret", "describe", "slack")
    shown = cli_json("secret", "describe", "slack", "--show-secrets")

    assert masked["values"] == {"channel": MASK, "token": MASK}
    assert shown["values"] == {"channel": "C42", "token": "xoxb-123"}
    assert "xoxb-123" not in cli("secret", "describe", "slack").stdout


def test_secret_set_merges_keys_and_stores_ciphertext_only(store_url: str) -> None:
    cli("secret", "set", "--value-in-args", "db", "user=ml")
    cli("secret", "set", "--value-in-args", "db", "password=s3cr3t-value")

    assert cli_json("secret", "describe", "db", "--show-secrets")["values"] == {
        "password": "s3cr3t-value",
        "user": "ml",
    }
    rows = raw_rows(store_url)["secrets"]
    assert rows[0]["payload"] and "s3cr3t-value" not in json.dumps(rows, default=str)


def test_secret_key_file_is_private(isolated_environ: Path) -> None:
    assert cli("secret", "set", "--value-in-args", "db", "password=x").exit_code == 0

    key_file = isolated_environ / "secrets.key"

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_secret_set_prompts_for_a_bare_key_without_echo(store_url: str) -> None:
    result = cli("secret", "set", "db", "password", input="typed-in-value\n")

    assert result.exit_code == 0, result.stderr
    assert "typed-in-value" not in result.output
    assert cli_json("secret", "describe", "db", "--show-secrets")["values"] == {"password": "typed-in-value"}


def test_secret_from_another_key_cannot_be_read(isolated_environ: Path) -> None:
    cli("secret", "set", "--value-in-args", "db", "password=x")
    (isolated_environ / "secrets.key").write_bytes(b"A" * 43 + b"=")

    result = cli("secret", "describe", "db", "--show-secrets")

    assert result.exit_code == 2
    assert "cannot be decrypted" in result.stderr


def test_references_resolve_only_when_asked() -> None:
    config = {"uri": "http://m", "password": "{{secret:mlflow.password}}"}

    assert parse_reference(config["password"]) == ("mlflow", "password")
    assert parse_reference("{{secret:mlflow}}") is None
    assert resolve_references(config, lambda name, key: f"{name}/{key}") == {
        "uri": "http://m",
        "password": "mlflow/password",
    }


def test_a_value_on_the_command_line_is_refused_before_anything_is_stored(store_url: str) -> None:
    before = raw_rows(store_url)

    result = cli("secret", "set", "db", "user", "password=hunter2-in-argv", input="ml\n")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: password=...: a secret value on the command line is visible to `ps` and kept in shell history; "
        "give password alone to be asked, password=@FILE to read it from a file, or add --value-in-args\n"
    )
    assert "hunter2" not in result.output
    assert raw_rows(store_url) == before


def test_a_value_read_from_a_file_is_stored_without_its_final_newline(store_url: str, tmp_path: Path) -> None:
    value_file = tmp_path / "password"
    value_file.write_text("from-a-file\n", encoding="utf-8")

    result = cli("secret", "set", "db", f"password=@{value_file}")

    assert result.exit_code == 0, result.stderr
    assert cli_json("secret", "describe", "db", "--show-secrets")["values"] == {"password": "from-a-file"}


def test_a_value_file_that_cannot_be_read_exits_2_and_stores_nothing(store_url: str, tmp_path: Path) -> None:
    before = raw_rows(store_url)

    result = cli("secret", "set", "db", "user", f"password=@{tmp_path / 'missing'}", input="ml\n")

    assert result.exit_code == 2
    assert result.stderr == f"error: cannot read the value of 'password' from '{tmp_path / 'missing'}': No such file or directory\n"
    assert raw_rows(store_url) == before


def test_a_key_to_ask_with_nothing_on_stdin_exits_2_and_stores_nothing(store_url: str) -> None:
    before = raw_rows(store_url)

    closed = cli("secret", "set", "db", "password", input="")
    empty = cli("secret", "set", "db", "password", input="\n")

    assert (closed.exit_code, closed.stderr) == (
        2, "error: no value for db.password: standard input has no line for it (or give KEY=@FILE)\n"
    )
    assert (empty.exit_code, empty.stderr) == (2, "error: an empty value for db.password\n")
    assert raw_rows(store_url) == before
