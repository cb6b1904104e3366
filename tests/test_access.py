"""Users and roles, stack access, environment guardrails, and the audit log that records every denial."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import cli, cli_json, deploy_cli, destroy_cli, raw_rows, registry_rows

ADMIN, MEMBER, OTHER = "alice", "bob", "carol"


def as_user(name: str) -> None:
    os.environ["PROVISIONER_USER"] = name


@pytest.fixture()
def team(store_url: str) -> str:
    """alice (the first user, so admin) adds bob and carol as members; a staging and a prod setup exist."""
    as_user(ADMIN)
    steps = [
        ("user", "set", MEMBER, "member"),
        ("user", "set", OTHER, "member"),
        ("connector", "register", "aws-staging", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1", "--env", "staging"),
        ("connector", "register", "aws-prod", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1", "--env", "prod"),
        ("component", "register", "orch", "-t", "orchestrator", "-f", "local", "--env", "prod"),
        ("component", "register", "prod-bucket", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://prod", "--connector", "aws-prod", "--env", "prod"),
        ("stack", "register", "prod", "-c", "orch", "-c", "prod-bucket", "--env", "prod"),
        ("secret", "set", "--value-in-args", "slack", "token=xoxb-1"),
    ]
    for step in steps:
        result = cli(*step)
        assert result.exit_code == 0, (step, result.stderr)
    return store_url


def _denied(args: tuple[str, ...], store_url: str, message: str) -> None:
    """The command is refused (exit 2, nothing written) and exactly one new denial, with this message,
    is audited for the user who ran it."""
    user = os.environ["PROVISIONER_USER"]
    seen = {row["id"] for row in raw_rows(store_url, include_audit=True)["audit_log"]}
    before = raw_rows(store_url)
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert raw_rows(store_url) == before  # nothing written
    new_rows = sorted((r for r in raw_rows(store_url, include_audit=True)["audit_log"] if r["id"] not in seen), key=lambda r: r["id"])
    denials = [row for row in new_rows if row["result"] == "denied"]
    assert [(row["user"], message in row["detail"]) for row in denials] == [(user, True)], new_rows


def test_the_first_user_of_a_new_registry_is_admin(store_url: str) -> None:
    as_user("dana")

    users = cli_json("user", "list")

    assert users == [{"name": "dana", "role": "admin", "disabled": False}]


ADMIN_ONLY = [
    pytest.param(("connector", "register", "c2", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1"), "registering connectors", id="register-connector"),
    pytest.param(("connector", "delete", "aws-staging"), "deleting connectors", id="delete-connector"),
    pytest.param(("secret", "set", "--value-in-args", "db", "password=x"), "storing secrets", id="set-secret"),
    pytest.param(("secret", "delete", "slack"), "deleting secrets", id="delete-secret"),
    pytest.param(("secret", "describe", "slack", "--show-secrets"), "admin role", id="read-secret"),
    pytest.param(("user", "set", MEMBER, "admin"), "changing roles", id="change-role"),
    pytest.param(("user", "set", "eve", "member"), "adding users", id="add-user"),
    pytest.param(("stack", "grant", "prod", MEMBER), "restricting stacks", id="grant"),
    pytest.param(("secret", "backend", "aws-secrets-manager", "-O", "region=eu-west-1"), "secret backend", id="secret-backend"),
]


@pytest.mark.parametrize(("args", "message"), ADMIN_ONLY)
def test_members_are_refused_admin_actions_and_each_denial_is_audited(team: str, args: tuple[str, ...], message: str) -> None:
    as_user(MEMBER)

    _denied(args, team, message)


def test_admins_may_do_what_members_may_not(team: str) -> None:
    as_user(ADMIN)

    assert cli("connector", "register", "c2", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1").exit_code == 0
    assert cli("secret", "describe", "slack", "--show-secrets").exit_code == 0


def test_members_use_connectors_in_components_and_stacks(team: str) -> None:
    as_user(MEMBER)

    assert cli("component", "register", "stg-orch", "-t", "orchestrator", "-f", "local", "--env", "staging").exit_code == 0
    linked = cli("component", "register", "stg-bucket", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://stg", "--connector", "aws-staging", "--env", "staging")
    assert linked.exit_code == 0, linked.stderr
    assert cli("stack", "register", "staging", "-c", "stg-orch", "-c", "stg-bucket", "--env", "staging").exit_code == 0


def test_a_restricted_stack_refuses_other_members_but_not_the_granted_one(team: str) -> None:
    as_user(ADMIN)
    assert cli("stack", "grant", "prod", MEMBER).exit_code == 0

    as_user(OTHER)
    _denied(("stack", "set-active", "prod"), team, "restricted to bob")
    as_user(OTHER)
    _denied(("stack", "describe", "prod", "--show-secrets"), team, "restricted to bob")
    as_user(OTHER)
    _denied(("component", "register", "x", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://x", "--connector", "aws-prod"), team, "restricted stack(s) prod")
    as_user(OTHER)
    _denied(("connector", "credentials", "aws-prod", "--resource-id", "prod", "--resource-type", "s3-bucket"), team, "restricted stack(s) prod")
    as_user(OTHER)
    _denied(("connector", "verify", "aws-prod"), team, "restricted stack(s) prod")
    as_user(OTHER)
    _denied(("component", "describe", "prod-bucket", "--show-secrets"), team, "showing secrets: stack 'prod' is restricted to bob")
    as_user(OTHER)
    _denied(("connector", "describe", "aws-prod", "--show-secrets"), team, "showing a connector's secrets needs the admin role; 'carol' is a member")
    as_user(OTHER)
    _denied(("component", "update", "prod-bucket", "-l", "team=x"), team, "updating component 'prod-bucket': stack 'prod' is restricted to bob")
    as_user(MEMBER)
    assert cli("stack", "set-active", "prod").exit_code == 0
    as_user(ADMIN)
    assert cli("stack", "revoke", "prod", MEMBER).exit_code == 0
    as_user(OTHER)
    assert cli("stack", "set-active", "prod").exit_code == 0


def test_a_restricted_stack_cannot_be_deployed_or_destroyed_by_others(demo_recipe: object, aws_endpoint: str) -> None:
    as_user(ADMIN)
    assert deploy_cli("demo", "--env", "staging", "--simulate").exit_code == 0
    assert cli("stack", "grant", "demo-staging", ADMIN).exit_code == 0
    before = registry_rows()

    as_user(OTHER)
    deployed = deploy_cli("demo", "--env", "staging", "--simulate")
    destroyed = destroy_cli("demo", "--env", "staging", "--simulate", "--yes")

    assert deployed.exit_code == 2 and "restricted to alice" in deployed.stderr
    assert destroyed.exit_code == 2 and "restricted to alice" in destroyed.stderr
    assert registry_rows() == before
    as_user(ADMIN)
    actions = {(e["action"], e["result"]) for e in cli_json("audit", "--user", OTHER)}
    assert ("deploy", "denied") in actions and ("destroy", "denied") in actions


def test_a_prod_connector_in_a_staging_stack_is_refused_naming_both(team: str) -> None:
    as_user(ADMIN)
    assert cli("component", "register", "stg-orch", "-t", "orchestrator", "-f", "local", "--env", "staging").exit_code == 0

    result = cli("stack", "register", "staging", "-c", "stg-orch", "-c", "prod-bucket", "--env", "staging")

    assert result.exit_code == 2
    assert "stack 'staging' is staging" in result.stderr and ("prod-bucket" in result.stderr or "aws-prod" in result.stderr)
    errors = [e for e in cli_json("audit") if e["action"] == "stack.register" and e["result"] == "error"]
    assert errors and "mixes environments" in errors[-1]["detail"]


def test_a_staging_component_cannot_link_a_prod_connector(team: str) -> None:
    as_user(ADMIN)

    result = cli("component", "register", "b", "-t", "artifact_store", "-f", "s3", "-c", "path=s3://b", "--connector", "aws-prod", "--env", "staging")

    assert result.exit_code == 2
    assert "component 'b' (env staging) cannot use connector 'aws-prod' (env prod)" in result.stderr


def test_deploying_prod_needs_the_typed_name_or_yes(demo_recipe: object, aws_endpoint: str) -> None:
    refused = deploy_cli("demo", "--env", "prod", "--simulate", input="prod\n")
    assert refused.exit_code == 2 and "does not match" in refused.stderr
    assert all(rows == [] for rows in registry_rows().values())

    typed = deploy_cli("demo", "--env", "prod", "--simulate", input="demo-prod\n")
    assert typed.exit_code == 0, typed.stderr


def test_audit_log_filters_by_user_and_time_and_never_holds_secret_values(team: str) -> None:
    as_user(ADMIN)

    everything = cli_json("audit")
    recent = cli_json("audit", "--since", "1h")
    future = cli_json("audit", "--since", "2999-01-01T00:00:00")

    assert {"user.set", "connector.register", "component.register", "stack.register", "secret.set"} <= {e["action"] for e in everything}
    assert len(recent) == len(everything) and future == []
    assert all(e["user"] == ADMIN for e in cli_json("audit", "--user", ADMIN))
    assert "xoxb-1" not in json.dumps(everything)
    assert cli("audit", "--since", "yesterday").exit_code == 2


def test_a_members_deploy_that_would_register_a_connector_exits_2_before_anything_is_deployed(aws_endpoint: str) -> None:
    from pathlib import Path

    from tests.helpers import s3_buckets

    as_user(ADMIN)
    assert cli("user", "set", MEMBER, "member").exit_code == 0
    as_user(MEMBER)

    result = deploy_cli("aws", "--env", "dev", "--simulate")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == "error: registering connectors needs the admin role; 'bob' is a member (ask an admin)"
    assert s3_buckets() == [] and not (Path(os.environ["PROVISIONER_HOME"]) / "simulated").exists()  # nothing deployed
    as_user(ADMIN)
    denials = [(e["user"], e["action"], e["detail"]) for e in cli_json("audit", "--user", MEMBER) if e["result"] == "denied"]
    assert denials == [(MEMBER, "deploy", "registering connectors needs the admin role; 'bob' is a member (ask an admin)")]
    as_user(ADMIN)
    assert deploy_cli("aws", "--env", "dev", "--simulate").exit_code == 0  # the admin's deploy registers it


def test_a_member_cannot_reach_an_admin_secret_through_a_reference(team: str) -> None:
    as_user(MEMBER)
    message = "reading secret values needs the admin role; 'bob' is a member"

    _denied(
        ("component", "register", "mine", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=http://a.example",
         "-c", "tracking_password={{secret:slack.token}}"),
        team, message,
    )
    assert cli("component", "register", "mine", "-t", "experiment_tracker", "-f", "mlflow", "-c", "tracking_uri=http://a.example").exit_code == 0
    _denied(("component", "update", "mine", "-c", "tracking_password={{secret:slack.token}}"), team, message)
    as_user(ADMIN)
    assert cli("component", "update", "mine", "-c", "tracking_password={{secret:slack.token}}").exit_code == 0
    assert cli("component", "register", "o", "-t", "orchestrator", "-f", "local").exit_code == 0
    assert cli("component", "register", "a", "-t", "artifact_store", "-f", "local", "-c", "path=/tmp/a").exit_code == 0
    assert cli("stack", "register", "mine", "-c", "o", "-c", "a", "-c", "mine").exit_code == 0
    as_user(MEMBER)  # an admin put the secret there: the member still may not read it
    _denied(("component", "describe", "mine", "--show-secrets"), team, message)
    _denied(("stack", "describe", "mine", "--show-secrets"), team, message)
    assert "xoxb-1" not in cli("component", "describe", "mine").stdout


def test_listing_stacks_costs_the_same_sql_statements_for_ten_stacks_as_for_sixty(team: str) -> None:
    """Members and components load in a fixed number of queries and the gate reads each user once,
    whatever the number of stacks (it was two lazy loads and a role read per stack)."""
    from sqlalchemy import event

    def statements_to_list() -> tuple[int, int]:
        from provisioner.registry.service import Registry

        registry = Registry.open()
        engine = registry.store._engine  # noqa: SLF001 - counting what the database is asked
        seen: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            count = len(registry.list_stacks())
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return count, len(seen)

    for i in range(9):
        assert cli("stack", "register", f"s{i}", "-c", "orch", "-c", "prod-bucket").exit_code == 0
    few = statements_to_list()
    for i in range(9, 59):
        assert cli("stack", "register", f"s{i}", "-c", "orch", "-c", "prod-bucket").exit_code == 0
    many = statements_to_list()

    assert (few[0], many[0]) == (10, 60)
    assert few[1] == many[1]


def test_a_member_does_not_see_a_stack_restricted_to_others_and_reading_it_is_refused_and_audited(team: str) -> None:
    as_user(ADMIN)
    assert cli("component", "register", "open-art", "-t", "artifact_store", "-f", "local", "-c", "path=/tmp/open").exit_code == 0
    assert cli("stack", "register", "open", "-c", "orch", "-c", "open-art").exit_code == 0
    assert cli("stack", "grant", "prod", MEMBER).exit_code == 0

    as_user(OTHER)
    listed = [s["name"] for s in cli_json("stack", "list")]
    as_user(MEMBER)
    granted = [s["name"] for s in cli_json("stack", "list")]

    assert (listed, granted) == (["open"], ["open", "prod"])
    as_user(OTHER)
    _denied(("stack", "describe", "prod"), team, "reading stacks: stack 'prod' is restricted to bob; 'carol' may not use it")


def test_a_member_reads_only_their_own_audit_entries_and_an_admin_reads_all(team: str) -> None:
    as_user(OTHER)
    assert cli("stack", "set-active", "prod").exit_code == 0  # an entry of carol's
    as_user(MEMBER)
    assert cli("component", "register", "bobs", "-t", "orchestrator", "-f", "local").exit_code == 0

    own = {(e["user"], e["action"]) for e in cli_json("audit")}
    asked_for_others = cli_json("audit", "--user", ADMIN)
    as_user(ADMIN)
    everyone = {e["user"] for e in cli_json("audit")}

    assert (own, asked_for_others) == ({(MEMBER, "component.register")}, [])
    assert {ADMIN, OTHER} <= everyone
