"""Secrets stay on the server: a member gets 15-minute credentials scoped to his stack's bucket, minted by the
server against a moto server; disabling the connector stops the next issue at once."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import boto3

from tests.connectors.test_aws_connector import EXTERNAL_ID, OTHER_BUCKET, REGION, TEAM_BUCKET, aws_world  # noqa: F401
from tests.helpers import cli, cli_json
from tests.server.conftest import start_server, stop_server

AMBIENT = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


def test_a_member_gets_short_lived_credentials_for_his_bucket_until_the_connector_is_disabled(
    aws_world: dict[str, str], tmp_path: Path  # noqa: F811
) -> None:
    server = start_server(f"sqlite:///{tmp_path / 'server.db'}", tmp_path / "server-home")  # the deployer's keys are the server's
    try:
        server.use(server.admin_token)
        steps = [
            ("connector", "register", "team-s3", "-t", "aws", "-a", "iam-role", "-c", f"region={REGION}",
             "-c", f"role_arn={aws_world['broad-role']}", "--value-in-args", "-c", f"external_id={EXTERNAL_ID}", "-r", "s3-bucket"),
            ("component", "register", "team-orch", "-t", "orchestrator", "-f", "local"),
            ("component", "register", "team-art", "-t", "artifact_store", "-f", "s3", "-c", f"path=s3://{TEAM_BUCKET}",
             "--connector", "team-s3"),
            ("stack", "register", "team", "-c", "team-orch", "-c", "team-art"),
            ("stack", "grant", "team", "bob"),
        ]
        bob = json.loads(cli("user", "add", "bob", "--output", "json").stdout)["token"]
        for step in steps:
            result = cli(*step)
            assert result.exit_code == 0, (step, result.stderr)
        for name in AMBIENT:  # bob holds no AWS credentials at all
            os.environ.pop(name, None)
        server.use(bob)

        issued = cli_json("connector", "credentials", "team-s3", "--resource-id", TEAM_BUCKET, "--show-secrets")
        lifetime = datetime.fromisoformat(issued["expires_at"]).replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
        s3 = boto3.Session(
            aws_access_key_id=issued["env"]["AWS_ACCESS_KEY_ID"], aws_secret_access_key=issued["env"]["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=issued["env"]["AWS_SESSION_TOKEN"], region_name=REGION,
        ).client("s3")

        assert 14 * 60 < lifetime.total_seconds() <= 15 * 60
        assert issued["env"]["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # an STS session, not the connector's keys
        assert [s["Resource"] for s in issued["session_policy"]["Statement"]] == [
            f"arn:aws:s3:::{TEAM_BUCKET}", f"arn:aws:s3:::{TEAM_BUCKET}/*"
        ]
        assert s3.get_object(Bucket=TEAM_BUCKET, Key="hello.txt")["Body"].read() == b"hello"
        assert OTHER_BUCKET not in json.dumps(issued)

        server.use(server.admin_token)
        assert cli("connector", "disable", "team-s3").exit_code == 0
        server.use(bob)
        refused = cli("connector", "credentials", "team-s3", "--resource-id", TEAM_BUCKET)

        assert (refused.exit_code, refused.stderr.strip()) == (
            2, "error: connector 'team-s3' is disabled by an admin: it verifies and issues nothing"
        )
        server.use(server.admin_token)
        issues = [(e["user"], e["action"], e["target"], e["result"]) for e in cli_json("audit", "--user", "bob")]
        assert issues == [
            ("bob", "connector.credentials", f"team-s3:{TEAM_BUCKET}", "ok"),
            ("bob", "connector.credentials", f"team-s3:{TEAM_BUCKET}", "denied"),
        ]
    finally:
        stop_server(server)
