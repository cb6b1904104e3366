"""Roles that hold: a member talking to a real registry server is refused on every path, and audited.

The server is `provisioner server start` (uvicorn on 127.0.0.1), on SQLite and on PostgreSQL. The
member's environment also claims to be alice (PROVISIONER_USER): in client mode it means nothing.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import cli, cli_json, deploy_cli, s3_buckets
from tests.server.conftest import RunningServer

SECRETS = ("hunter2-team-db", "prod-secret-key-value-1234", "mlflow-prod-password-xyz")


def _team(server: RunningServer) -> str:
    """The admin adds alice (granted prod) and bob (member); prod holds secrets; bob has one component of his own.

    Returns bob's token.
    """
    server.use(server.admin_token)
    added = cli("user", "add", "bob", "--role", "member", "--output", "json")
    assert added.exit_code == 0, added.stderr
    bob_token = json.loads(added.stdout)["token"]
    steps = [
        ("user", "add", "alice", "--role", "member"),
        ("secret", "set", "--value-in-args", "team-db", f"password={SECRETS[0]}"),
        ("connector", "register", "prod-keys", "-t", "aws", "-a", "secret-key", "-c", "region=eu-west-1",
         "--value-in-args", "-c", "aws_access_key_id=AKIAPRODKEY", "-c", f"aws_secret_access_key={SECRETS[1]}", "--env", "prod"),
        ("component", "register", "prod-orch", "-t", "orchestrator", "-f", "local"),
        ("component", "register", "prod-art", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://prod", "--connector", "prod-keys"),
        ("component", "register", "prod-tracker", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=https://mlflow.prod",
         "-c", "tracking_username=admin", "--value-in-args", "-c", f"tracking_password={SECRETS[2]}"),
        ("stack", "register", "prod", "-c", "prod-orch", "-c", "prod-art", "-c", "prod-tracker", "--env", "prod"),
        ("stack", "grant", "prod", "alice"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.stderr)
    server.use(bob_token)
    mine = cli("component", "register", "mine", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://bobs")
    assert mine.exit_code == 0, mine.stderr
    return bob_token


RESTRICTED = "stack 'prod' is restricted to alice; 'bob' may not use it"
# Each attempt of the review, its audited action, and the refusal (one line, exit 2).
ATTEMPTS = [
    (("component", "describe", "prod-tracker", "--show-secrets"), "component.read-secrets", f"showing secrets: {RESTRICTED}"),
    (("connector", "describe", "prod-keys", "--show-secrets"), "connector.read-secrets",
     "showing a connector's secrets needs the admin role; 'bob' is a member (ask an admin)"),
    (("stack", "register", "mine", "-c", "prod-orch", "-c", "prod-art", "-c", "prod-tracker"), "stack.register",
     f"adding component 'prod-orch' to stack 'mine': {RESTRICTED}"),
    (("stack", "describe", "prod", "--show-secrets"), "stack.read-secrets", f"showing secrets: {RESTRICTED}"),
    (("component", "register", "leak", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=https://x.example",
      "-c", "tracking_password={{secret:team-db.password}}"), "component.register",
     "reading secret values needs the admin role; 'bob' is a member"),
    (("component", "update", "prod-tracker", "-c", "tracking_uri=https://attacker.example"), "component.update",
     f"updating component 'prod-tracker': {RESTRICTED}"),
    (("component", "update", "mine", "--connector", "prod-keys"), "component.update",
     "linking component 'mine': connector 'prod-keys' serves restricted stack(s) prod; 'bob' is not granted any of them"),
    (("user", "set", "bob", "admin"), "user.set", "adding users or changing roles needs the admin role; 'bob' is a member (ask an admin)"),
]


@pytest.fixture()
def team(server: RunningServer) -> tuple[RunningServer, str]:
    return server, _team(server)


def test_every_attempt_of_a_member_through_the_server_exits_2_and_is_audited_as_the_member(
    team: tuple[RunningServer, str], aws_endpoint: str
) -> None:
    server, bob = team
    server.use(bob)
    os.environ["PROVISIONER_USER"] = "alice"  # means nothing in client mode
    outputs: list[str] = []

    for args, _action, message in ATTEMPTS:
        result = cli(*args)
        outputs.append(result.output)
        assert (result.exit_code, result.stderr.strip()) == (2, f"error: {message}"), args
    deployed = deploy_cli("aws", "--env", "dev", "--simulate")
    outputs.append(deployed.output)

    assert deployed.exit_code == 2
    assert deployed.stderr.strip().splitlines()[-1] == "error: registering connectors needs the admin role; 'bob' is a member (ask an admin)"
    assert s3_buckets() == []  # nothing deployed
    assert not any(secret in text for secret in SECRETS for text in outputs)
    server.use(server.admin_token)
    denied = [(e["user"], e["action"], e["detail"]) for e in cli_json("audit", "--user", "bob") if e["result"] == "denied"]
    expected = [("bob", action, message) for _args, action, message in ATTEMPTS]
    expected.append(("bob", "deploy", "registering connectors needs the admin role; 'bob' is a member (ask an admin)"))
    assert denied == expected
    assert [e for e in cli_json("audit", "--user", "alice")] == []  # alice did nothing, whatever bob's environment said
    verified = cli("audit", "verify")
    assert (verified.exit_code, verified.stdout.startswith("Audit chain intact:")) == (0, True), verified.stderr
    assert cli_json("user", "list") == [
        {"name": "admin", "role": "admin", "disabled": False},
        {"name": "alice", "role": "member", "disabled": False},
        {"name": "bob", "role": "member", "disabled": False},
    ]


def test_the_granted_member_reads_what_the_stack_allows_but_never_connector_keys(team: tuple[RunningServer, str]) -> None:
    server, _bob = team
    server.use(server.admin_token)
    alice = json.loads(cli("user", "token", "alice", "--output", "json").stdout)["token"]
    server.use(alice)

    tracker = cli_json("component", "describe", "prod-tracker", "--show-secrets")
    keys = cli("connector", "describe", "prod-keys", "--show-secrets")

    assert tracker["config"]["tracking_password"] == SECRETS[2]
    assert keys.exit_code == 2 and SECRETS[1] not in keys.output


def test_a_bad_revoked_or_expired_token_is_refused_with_one_line_and_audited(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    server.use("pvt_not-a-token-the-server-ever-issued-000000")
    unknown = cli("stack", "list")
    server.use(server.admin_token)
    assert cli("user", "revoke-token", "bob").exit_code == 0
    server.use(bob)
    revoked = cli("stack", "list")

    assert (unknown.exit_code, unknown.stderr.strip()) == (
        2, "error: the server does not know this token: log in again with a valid one (provisioner login URL)"
    )
    assert revoked.exit_code == 2 and revoked.stderr.strip().startswith("error: token pvt_") and "was revoked" in revoked.stderr
    server.use(server.admin_token)
    auth = [(e["user"], e["action"], e["result"]) for e in cli_json("audit", "--user", "anonymous")]
    assert auth == [("anonymous", "auth", "denied"), ("anonymous", "auth", "denied")]


def test_a_disabled_user_is_refused_at_once_and_enabled_again(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    server.use(server.admin_token)
    assert cli("user", "disable", "bob").exit_code == 0
    server.use(bob)
    refused = cli("stack", "list")
    server.use(server.admin_token)
    assert cli("user", "enable", "bob").exit_code == 0
    server.use(bob)

    assert (refused.exit_code, refused.stderr.strip()) == (2, "error: user 'bob' is disabled")
    assert cli("stack", "list").exit_code == 0


def test_rotating_a_token_revokes_the_old_one(team: tuple[RunningServer, str]) -> None:
    server, bob = team
    server.use(server.admin_token)
    rotated = json.loads(cli("user", "token", "bob", "--rotate", "--output", "json").stdout)["token"]

    server.use(bob)
    old = cli("stack", "list")
    server.use(rotated)

    assert old.exit_code == 2 and "was revoked" in old.stderr
    assert cli("stack", "list").exit_code == 0


def test_the_token_file_is_private_and_login_checks_the_token(server: RunningServer, isolated_environ: object) -> None:
    from pathlib import Path

    bad = cli("login", server.url, "--token-stdin", input="pvt_wrong-token-0000000000000000000000\n")
    good = cli("login", server.url, "--token-stdin", input=server.admin_token + "\n")
    saved = Path(os.environ["PROVISIONER_HOME"]) / "login.json"

    assert bad.exit_code == 2 and not saved.exists() or good.exit_code == 0
    assert good.exit_code == 0, good.stderr
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert cli_json("user", "list")[0]["name"] == "admin"  # the saved login is used
    assert cli("logout").exit_code == 0 and not saved.exists()


def test_an_admins_deploy_and_destroy_in_client_mode_register_and_unregister_on_the_server(
    server: RunningServer, aws_endpoint: str
) -> None:
    """The engine runs here; the lock, the registration (under the client's lock) and the audit are the server's."""
    from tests.helpers import destroy_cli

    server.use(server.admin_token)
    deployed = deploy_cli("aws", "--env", "dev", "--simulate")
    stacks = [s["name"] for s in cli_json("stack", "list")]
    destroyed = destroy_cli("aws", "--env", "dev", "--simulate", "--yes")

    assert deployed.exit_code == 0, deployed.stderr
    assert stacks == ["aws-dev"]
    assert destroyed.exit_code == 0, destroyed.stderr
    assert cli_json("stack", "list") == [] and cli_json("connector", "list") == []
    trail = [(e["user"], e["action"], e["result"]) for e in cli_json("audit") if e["target"] == "aws-dev"]
    assert trail == [
        ("admin", "deployment.register", "ok"), ("admin", "deploy", "ok"),
        ("admin", "deployment.unregister", "ok"), ("admin", "destroy", "ok"),
    ]
    history = [(r["kind"], r["user"], r["result"], r["simulated"], r["timings"]) for r in cli_json("stack", "history", "aws-dev")]
    assert history == [("destroy", "admin", "succeeded", True, []), ("deploy", "admin", "succeeded", True, [])]


def test_deleting_an_audit_row_behind_the_server_is_named_by_audit_verify(team: tuple[RunningServer, str]) -> None:
    """The SQL attacks need the database URL, which members no longer have; for the one who has it, verify answers."""
    from sqlalchemy import create_engine, text

    server, _bob = team
    engine = create_engine(server.store_url)
    with engine.begin() as connection:
        seq = connection.execute(text("SELECT seq FROM audit_log WHERE action = 'secret.set'")).scalar_one()
        connection.execute(text("DELETE FROM audit_log WHERE seq = :seq"), {"seq": seq})
    engine.dispose()
    server.use(server.admin_token)

    verified = cli("audit", "verify")

    assert verified.exit_code == 1
    assert verified.stderr.strip() == f"error: audit chain broken: row {seq + 1} (seq {seq + 1}): the row before it (seq {seq}) is missing"
