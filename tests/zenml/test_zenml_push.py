"""`provisioner stack push` into a real local ZenML 0.98.0 server, and its removal by destroy-stack."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers import cli, deploy_cli, destroy_cli, registry_rows
from tests.zenml.conftest import AuthServer, ZenMLServer

pytestmark = pytest.mark.zenml

AWS_STAGING = {
    "stacks": ["aws-staging"],
    "components": sorted(f"aws-staging-{n}" for n in ("artifacts", "builder", "models", "orchestrator", "registry", "sagemaker", "tracker")),
    "service_connectors": ["aws-staging-aws"],
    "secrets": ["component-aws-staging-tracker"],
}


def _deploy_aws_staging() -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate")
    assert deployed.exit_code == 0, deployed.output


def _push(server: ZenMLServer, *extra: str) -> dict:
    result = cli("stack", "push", "aws-staging", "--zenml-url", server.url, "--output", "json", *extra)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_pushed_stack_is_whole_in_zenml_linked_to_its_connector_and_a_second_push_changes_nothing(
    zenml_clean: ZenMLServer,
) -> None:
    _deploy_aws_staging()

    first = _push(zenml_clean)
    second = _push(zenml_clean)
    seen = zenml_clean.zenml.client(
        "stack = client.get_stack('aws-staging')\n"
        "result = {t.value: [c.name, c.connector.name if c.connector else None, c.connector_resource_id]"
        " for t, [c] in stack.components.items()}"
    )

    described = cli("stack", "describe", "aws-staging")
    assert zenml_clean.names() == AWS_STAGING
    assert f"Pushed to ZenML at {zenml_clean.url} (project 'default') by " in described.stderr
    assert described.stderr.rstrip().endswith(": 10 objects.")
    assert (len(first["created"]), first["changed"]) == (10, True)
    assert (second["changed"], second["created"], second["updated"], len(second["unchanged"])) == (False, [], [], 10)
    bucket = next(c["config"]["path"] for c in json.loads(cli("component", "list", "--output", "json").stdout)
                  if c["name"] == "aws-staging-artifacts")
    assert seen == {
        "artifact_store": ["aws-staging-artifacts", "aws-staging-aws", bucket],
        "container_registry": ["aws-staging-registry", "aws-staging-aws", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"],
        "experiment_tracker": ["aws-staging-tracker", None, None],
        "image_builder": ["aws-staging-builder", "aws-staging-aws", None],
        "model_registry": ["aws-staging-models", None, None],
        "orchestrator": ["aws-staging-orchestrator", "aws-staging-aws", "aws-staging"],
        "step_operator": ["aws-staging-sagemaker", "aws-staging-aws", None],
    }


def test_a_changed_component_is_updated_in_place_and_destroy_stack_removes_everything_pushed(zenml_clean: ZenMLServer) -> None:
    _deploy_aws_staging()
    _push(zenml_clean)
    ids_before = zenml_clean.zenml.client("result = sorted(str(c.id) for c in client.list_stack_components(size=100).items)")

    assert cli("component", "update", "aws-staging-tracker", "-c", "tracking_username=ops").exit_code == 0
    changed = _push(zenml_clean)
    username = zenml_clean.zenml.client("result = client.get_stack_component('experiment_tracker', 'aws-staging-tracker').configuration['tracking_username']")
    ids_after = zenml_clean.zenml.client("result = sorted(str(c.id) for c in client.list_stack_components(size=100).items)")
    destroyed = destroy_cli("aws", "--env", "staging", "--simulate", "--yes")

    assert (changed["created"], changed["updated"]) == ([], ["component 'aws-staging-tracker'"])
    assert username == "ops" and ids_after == ids_before
    assert destroyed.exit_code == 0, destroyed.output
    assert "Removed from ZenML: stack 'aws-staging'" in destroyed.output
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert registry_rows()["zenml_pushes"] == []


def test_a_same_named_object_someone_else_made_in_zenml_is_never_touched(zenml_clean: ZenMLServer) -> None:
    _deploy_aws_staging()
    theirs = zenml_clean.zenml.client(
        "from zenml.enums import StackComponentType\n"
        "c = client.create_stack_component('aws-staging-tracker', 'mlflow', StackComponentType.EXPERIMENT_TRACKER,"
        " {'tracking_uri': 'https://theirs.example.com', 'tracking_username': 'x', 'tracking_password': 'y'})\n"
        "result = str(c.id)"
    )

    refused = cli("stack", "push", "aws-staging", "--zenml-url", zenml_clean.url)

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: ZenML at {zenml_clean.url} already has component 'aws-staging-tracker', not pushed from this registry: "
        "nothing was changed (rename or remove it there)"
    ]
    assert zenml_clean.names() == {"stacks": [], "components": ["aws-staging-tracker"], "service_connectors": [], "secrets": []}
    kept = zenml_clean.zenml.client("c = client.get_stack_component('experiment_tracker', 'aws-staging-tracker')\n"
                                    "result = [str(c.id), c.configuration['tracking_uri']]")
    assert kept == [theirs, "https://theirs.example.com"]
    assert registry_rows()["zenml_pushes"] == []


def test_an_unreachable_zenml_is_refused_in_one_line_and_leaves_no_record(zenml_clean: ZenMLServer) -> None:
    _deploy_aws_staging()

    refused = cli("stack", "push", "aws-staging", "--zenml-url", "http://127.0.0.1:9")

    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: cannot reach the ZenML server at http://127.0.0.1:9")
    assert registry_rows()["zenml_pushes"] == []


def test_a_failure_midway_removes_what_the_push_created(zenml_clean: ZenMLServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stack's own creation fails (after its secret, connector and components were created in ZenML):
    all of them are deleted again, and the registry keeps no push record."""
    from provisioner.zenml.client import ZenMLClient, ZenMLFailedError

    _deploy_aws_staging()
    real_create = ZenMLClient.create

    def create(self: ZenMLClient, kind: str, body: dict) -> str:
        if kind == "stack":
            raise ZenMLFailedError("ZenML answered 500 to creating stack 'aws-staging': injected")
        return real_create(self, kind, body)

    monkeypatch.setattr(ZenMLClient, "create", create)
    failed = cli("stack", "push", "aws-staging", "--zenml-url", zenml_clean.url)

    assert failed.exit_code == 1, failed.output
    assert failed.stderr.strip().splitlines()[-1] == "error: ZenML answered 500 to creating stack 'aws-staging': injected"
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert registry_rows()["zenml_pushes"] == []


def test_zenml_verifies_the_pushed_aws_connector_against_the_emulator(zenml_clean: ZenMLServer, aws_endpoint: str) -> None:
    """The ZenML server was started with AWS_ENDPOINT_URL at the moto server this stack was deployed to,
    and implicit auth enabled: it assumes the connector's role and finds each resource."""
    _deploy_aws_staging()
    _push(zenml_clean)
    bucket = next(c["config"]["path"] for c in json.loads(cli("component", "list", "--output", "json").stdout)
                  if c["name"] == "aws-staging-artifacts")

    verified = zenml_clean.zenml.run("service-connector", "verify", "aws-staging-aws")

    text = " ".join((verified.stdout + verified.stderr).split())
    assert "Service connector 'aws-staging-aws' is correctly configured with valid credentials" in text
    for resource in (bucket, "aws-staging", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1"):
        assert resource in text


def test_a_rerun_after_a_kill_adopts_what_the_killed_push_created(zenml_clean: ZenMLServer) -> None:
    """A push killed after ZenML created objects but before the registry recorded them: the objects carry the
    push's id as a label, which the registry holds, so the rerun takes them over instead of refusing them."""
    from provisioner.registry.service import Registry

    _deploy_aws_staging()
    _push(zenml_clean)
    registry = Registry.open()
    record = registry.zenml_push("aws-staging")
    assert record is not None
    secrets_only = [o for o in record["objects"] if o["kind"] == "secret"]
    registry.record_zenml_push("aws-staging", record["url"], record["project"], record["push_id"], secrets_only)

    rerun = _push(zenml_clean)

    assert rerun["created"] == [] and len(rerun["updated"]) == 9
    assert zenml_clean.names() == AWS_STAGING
    assert [o["kind"] for o in registry.zenml_push("aws-staging")["objects"]].count("component") == 7


def test_an_untested_zenml_release_is_refused_before_anything_is_written(zenml_clean: ZenMLServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from provisioner.zenml import client

    _deploy_aws_staging()
    monkeypatch.setattr(client, "TESTED_SERIES", "0.99.")

    refused = cli("stack", "push", "aws-staging", "--zenml-url", zenml_clean.url)

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: the ZenML server at {zenml_clean.url} runs 0.98.0; stack push is tested with 0.99.x "
        "(--allow-untested-zenml to push anyway)"
    ]
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert registry_rows()["zenml_pushes"] == []


def test_a_wrong_password_is_refused_and_an_api_key_pushes(zenml_auth_server: AuthServer) -> None:
    import httpx

    deployed = deploy_cli("kubernetes", "--env", "dev", "--simulate", "--context", "kind-dev")
    assert deployed.exit_code == 0, deployed.output
    os.environ.update({"ZENML_STORE_USERNAME": "admin", "ZENML_STORE_PASSWORD": "not-the-password"})
    refused = cli("stack", "push", "kubernetes-dev", "--zenml-url", zenml_auth_server.url)
    for name in ("ZENML_STORE_USERNAME", "ZENML_STORE_PASSWORD"):
        os.environ.pop(name)
    os.environ["ZENML_STORE_API_KEY"] = zenml_auth_server.api_key
    pushed = cli("stack", "push", "kubernetes-dev", "--zenml-url", zenml_auth_server.url, "--output", "json")
    with httpx.Client(base_url=f"{zenml_auth_server.url}/api/v1") as http:
        token = http.post("/login", data={"password": zenml_auth_server.api_key}).json()["access_token"]
        stacks = http.get("/stacks", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    unpushed = cli("stack", "unpush", "kubernetes-dev")

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [f"error: the ZenML server at {zenml_auth_server.url} refused the credentials"]
    assert pushed.exit_code == 0, pushed.stderr
    assert len(json.loads(pushed.stdout)["created"]) == 8
    assert sorted(s["name"] for s in stacks) == ["default", "kubernetes-dev"]
    assert unpushed.exit_code == 0, unpushed.stderr
    assert zenml_auth_server.api_key not in pushed.stdout + pushed.stderr


def test_gcp_impersonation_needs_a_source_key_and_pushes_with_one(zenml_clean: ZenMLServer) -> None:
    deployed = deploy_cli("gcp", "--env", "staging", "--simulate")
    assert deployed.exit_code == 0, deployed.output

    refused = cli("stack", "push", "gcp-staging", "--zenml-url", zenml_clean.url)
    empty_after_refusal = zenml_clean.names()
    key = json.dumps({"type": "service_account", "project_id": "provisioner-simulated", "client_email": "ci@example.iam.gserviceaccount.com"})
    assert cli("secret", "set", "gcp-source", "service_account_json", input=f"{key}\n").exit_code == 0
    pushed = cli("stack", "push", "gcp-staging", "--zenml-url", zenml_clean.url, "--zenml-source-secret", "gcp-source")
    connector = zenml_clean.zenml.client(
        "c = client.get_service_connector('gcp-staging-gcp')\n"
        "result = [c.auth_method, c.configuration.get('target_principal'), sorted(c.resource_types)]"
    )

    assert refused.exit_code == 2
    assert "needs a source key for that: --zenml-source-secret NAME" in refused.stderr
    assert empty_after_refusal == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert pushed.exit_code == 0, pushed.stderr
    assert connector == ["impersonation", "gcp-staging-connector@provisioner-simulated.iam.gserviceaccount.com",
                         ["docker-registry", "gcp-generic", "gcs-bucket", "kubernetes-cluster"]]


def test_deploy_stack_push_zenml_pushes_after_registration(zenml_clean: ZenMLServer) -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate", "--push-zenml", "--zenml-url", zenml_clean.url)

    assert deployed.exit_code == 0, deployed.output
    assert f"Pushed to ZenML at {zenml_clean.url} (project 'default'): 10 created." in " ".join(deployed.output.split())
    assert zenml_clean.names() == AWS_STAGING


def test_deploy_stack_push_zenml_to_an_unreachable_server_deploys_nothing() -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate", "--push-zenml", "--zenml-url", "http://127.0.0.1:9")

    assert deployed.exit_code == 2
    assert deployed.stderr.strip().splitlines()[-1].startswith("error: cannot reach the ZenML server at http://127.0.0.1:9")
    assert registry_rows().get("stacks", []) == []  # nothing registered (no registry was even opened)


def test_destroy_with_zenml_unreachable_keeps_the_record_and_unpush_finishes_later(zenml_clean: ZenMLServer) -> None:
    from provisioner.registry.service import Registry

    _deploy_aws_staging()
    _push(zenml_clean)
    registry = Registry.open()
    record = registry.zenml_push("aws-staging")
    assert record is not None
    registry.record_zenml_push("aws-staging", "http://127.0.0.1:9", record["project"], record["push_id"], record["objects"])

    destroyed = destroy_cli("aws", "--env", "staging", "--simulate", "--yes")
    kept = registry.zenml_push("aws-staging")
    registry.record_zenml_push("aws-staging", zenml_clean.url, record["project"], record["push_id"], record["objects"])
    unpushed = cli("stack", "unpush", "aws-staging")

    assert destroyed.exit_code == 0, destroyed.output
    said = " ".join(destroyed.output.split())
    assert "cannot reach the ZenML server at http://127.0.0.1:9" in said
    assert "kept the ZenML push record; retry with: provisioner stack unpush aws-staging" in said
    assert kept is not None and len(kept["objects"]) == 10
    assert registry_rows()["stacks"] == []  # the stack itself is unregistered
    assert unpushed.exit_code == 0, unpushed.stderr
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert registry_rows()["zenml_pushes"] == []


def test_a_project_the_zenml_server_lacks_is_refused_before_anything_is_written(zenml_clean: ZenMLServer) -> None:
    _deploy_aws_staging()

    refused = cli("stack", "push", "aws-staging", "--zenml-url", zenml_clean.url, "--zenml-project", "no-such-project")

    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: ZenML answered 404 to finding the project 'no-such-project'")
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
    assert registry_rows()["zenml_pushes"] == []


def test_a_client_of_the_registry_server_pushes_and_destroy_removes_it(zenml_clean: ZenMLServer, tmp_path: Path) -> None:
    """Client mode (provisioner login): the registry is the server's; the push record is kept there too."""
    from tests.server.conftest import start_server, stop_server

    home = tmp_path / "server-home"
    running = start_server(f"sqlite:///{tmp_path / 'server.db'}", home)
    try:
        running.use(running.admin_token)
        _deploy_aws_staging()
        pushed = _push(zenml_clean)
        record = cli("stack", "describe", "aws-staging")
        destroyed = destroy_cli("aws", "--env", "staging", "--simulate", "--yes")
    finally:
        stop_server(running)

    assert len(pushed["created"]) == 10
    assert f"Pushed to ZenML at {zenml_clean.url} (project 'default') by admin" in record.stderr
    assert destroyed.exit_code == 0, destroyed.output
    assert zenml_clean.names() == {"stacks": [], "components": [], "service_connectors": [], "secrets": []}
