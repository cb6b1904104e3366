"""Helpers for CLI tests: run a command in-process and read the registry's raw rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import MetaData, create_engine, select
from typer.testing import CliRunner, Result

from provisioner.cli.main import app


def cli(*args: str, input: str | None = None) -> Result:
    """Run ``provisioner ARGS`` in-process."""
    return CliRunner().invoke(app, list(args), input=input)


def cli_json(*args: str) -> Any:
    """Run a command with ``--output json`` and decode its stdout."""
    result = cli(*args, "--output", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


AUDIT_TABLES = frozenset({"audit_log", "audit_head", "deployment_runs"})  # the audit trail (rows, chain head) and the run history


def raw_rows(url: str, *, include_audit: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every row of every registry table, as plain dicts, straight from the database.

    The audit trail (log and chain head) and the deployment history are left out unless asked for:
    they record every attempt, failed ones included, and outlive what they describe.
    """
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {
            table.name: [dict(row._mapping) for row in connection.execute(select(table))]
            for table in metadata.sorted_tables
            if include_audit or table.name not in AUDIT_TABLES
        }
    engine.dispose()
    return rows


def deploy_cli(*args: str, input: str | None = None) -> Result:
    """Run ``deploy-stack ARGS`` in-process."""
    from provisioner.cli.deploy import deploy_app

    return CliRunner().invoke(deploy_app, list(args), input=input)


def destroy_cli(*args: str, input: str | None = None) -> Result:
    """Run ``destroy-stack ARGS`` in-process."""
    from provisioner.cli.deploy import destroy_app

    return CliRunner().invoke(destroy_app, list(args), input=input)


def registry_rows(*, include_audit: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Raw rows of the registry of the current PROVISIONER_HOME / PROVISIONER_STORE_URL (no users, no audit)."""
    from provisioner.paths import store_url

    rows = raw_rows(store_url(), include_audit=include_audit)
    rows.pop("users", None)  # the first user becomes admin on first use
    rows.pop("alembic_version", None)  # the schema's revision, written on first use
    if "settings" in rows:
        rows["settings"] = [row for row in rows["settings"] if row["key"] != "schema"]
    return rows


def s3_buckets() -> list[str]:
    """Bucket names in the emulator boto3 is pointed at."""
    import boto3

    return sorted(b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"])
