"""`provisioner register --from-stack` with a fake Pulumi CLI: same registration as deploy-stack, idempotent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from provisioner import from_stack
from provisioner.engine.pulumi import INSTALL_HINT
from provisioner.errors import ProvisionerError
from provisioner.from_stack import register_from_stack
from provisioner.recipe_api import RecipeContext
from provisioner.registry.service import Registry
from pulumi.automation import CommandResult
from recipes.aws.recipe import AwsOutputs, aws_registration
from tests.fakes.pulumi_cli import FakePulumiCommand
from tests.helpers import cli, registry_rows

PASSWORD = "mlflow-pw-from-the-embedding-stack"
AWS_OUTPUTS: dict[str, Any] = {
    "region": "eu-west-1",
    "vpc_id": "vpc-0team",
    "cluster_name": "embed-aws-dev",
    "kubernetes_version": "1.34",
    "cluster_arn": "arn:aws:eks:eu-west-1:123456789012:cluster/embed-aws-dev",
    "oidc_issuer": "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC",
    "kubeconfig": "{}",
    "bucket_name": "embed-aws-dev-artifacts-1a2b3c4",
    "repository_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/embed-aws-dev",
    "pipelines_namespace": "ml-pipelines",
    "pipelines_role_arn": "arn:aws:iam::123456789012:role/embed-aws-dev-pipelines",
    "mlflow_role_arn": "arn:aws:iam::123456789012:role/embed-aws-dev-mlflow",
    "sagemaker_role_arn": "arn:aws:iam::123456789012:role/embed-aws-dev-sagemaker",
    "connector_role_arn": "arn:aws:iam::123456789012:role/embed-aws-dev-connector",
    "image_builder_project": "embed-aws-dev-builder-project-1a2b3c",
    "database_address": "",
    "mlflow_service_type": "ClusterIP",
    "mlflow_open_to_all": False,
    "mlflow_tracking_uri": "http://embed-aws-dev-mlflow.mlflow.svc.cluster.local:5000",
    "mlflow_internal_uri": "http://embed-aws-dev-mlflow.mlflow.svc.cluster.local:5000",
    "mlflow_port_forward": "kubectl -n mlflow port-forward svc/embed-aws-dev-mlflow 5000:5000",
    "mlflow_username": "admin",
    "mlflow_password": PASSWORD,
}
S3_SECRET = "s3-secret-from-the-embedding-stack"
KUBERNETES_OUTPUTS: dict[str, Any] = {
    "kube_context": "kind-team",
    "pipelines_namespace": "ml-pipelines",
    "pipelines_service_account": "pipeline-runner",
    "artifact_path": "s3://pipeline-artifacts",
    "s3_endpoint": "http://s3store.mlflow.svc.cluster.local:8333",
    "s3_access_key": "S3ACCESSKEYEXAMPLE",
    "s3_secret_key": S3_SECRET,
    "mlflow_service_type": "ClusterIP",
    "mlflow_tracking_uri": "http://mlflow.mlflow.svc.cluster.local:5000",
    "mlflow_internal_uri": "http://mlflow.mlflow.svc.cluster.local:5000",
    "mlflow_port_forward": "kubectl -n mlflow port-forward svc/mlflow 5000:5000",
    "mlflow_username": "admin",
    "mlflow_password": PASSWORD,
    "mlflow_open_to_all": False,
}


def _fake(outputs: dict[str, Any], stack: str = "dev", secrets: set[str] | None = None) -> FakePulumiCommand:
    fake = FakePulumiCommand(existing_stacks={stack}, secret_outputs=secrets or {"mlflow_password", "s3_secret_key"})
    fake.stack_outputs[stack] = dict(outputs)
    return fake


def _project(tmp_path: Path, name: str = "embed-aws") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    return folder


def _open_registry() -> Registry:
    """Open the registry so its tables exist: 'writes nothing' is then checked on real, empty tables."""
    return Registry.open()


def _normalised(data: Any) -> Any:
    """Describe output without timestamps, so two registries can be compared."""
    if isinstance(data, dict):
        return {k: _normalised(v) for k, v in data.items() if not k.endswith("_at")}
    if isinstance(data, list):
        return [_normalised(item) for item in data]
    return data


def _describe(stack: str, *, show_secrets: bool = False) -> Any:
    args = ["stack", "describe", stack, "--output", "json"] + (["--show-secrets"] if show_secrets else [])
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    return _normalised(json.loads(result.stdout))


def test_a_project_folder_registers_what_deploy_stack_registers_for_the_same_outputs(tmp_path: Path) -> None:
    fake = _fake(AWS_OUTPUTS)

    outcome = register_from_stack(str(_project(tmp_path)), env="staging", stack="dev", pulumi_command=fake)

    assert (outcome.recipe, outcome.stack, outcome.pulumi_project, outcome.pulumi_stack) == ("aws", "aws-staging", "embed-aws", "dev")
    context = RecipeContext("aws", "staging", "aws-staging")
    plan = aws_registration(AwsOutputs.read(AWS_OUTPUTS), context)
    assert outcome.registered.components == [c.name for c in plan.components]
    assert outcome.registered.connectors == ["aws-staging-aws"]
    from_stack_view = (_describe("aws-staging", show_secrets=True), _describe("aws-staging"))
    from_stack_connector = json.loads(cli("connector", "describe", "aws-staging-aws", "--output", "json").stdout)

    # What deploy-stack does after `pulumi up`, in a registry of its own.
    os.environ["PROVISIONER_HOME"] = str(tmp_path / "deploy-stack-home")
    Registry.open().apply_deployment(plan, context)
    assert (_describe("aws-staging", show_secrets=True), _describe("aws-staging")) == from_stack_view
    deployed_connector = json.loads(cli("connector", "describe", "aws-staging-aws", "--output", "json").stdout)
    assert _normalised(deployed_connector) == _normalised(from_stack_connector)
    tracker = from_stack_view[0]["components"]["experiment_tracker"]
    assert tracker["config"]["tracking_password"] == PASSWORD
    assert from_stack_view[0]["labels"] == {"stack": "aws-staging", "env": "staging", "recipe": "aws", "managed-by": "deploy-stack"}


def test_secret_outputs_become_secret_references_and_stay_out_of_the_rows(tmp_path: Path) -> None:
    register_from_stack(str(_project(tmp_path)), stack="dev", pulumi_command=_fake(AWS_OUTPUTS))

    tracker = _describe("aws-dev")["components"]["experiment_tracker"]
    assert tracker["config"]["tracking_password"].startswith("{{secret:")
    assert PASSWORD not in json.dumps(registry_rows(include_audit=True), default=str)


def test_outputs_are_read_with_stack_select_then_stack_output_show_secrets(tmp_path: Path) -> None:
    fake = _fake(AWS_OUTPUTS)
    folder = _project(tmp_path)

    register_from_stack(str(folder), stack="dev", pulumi_command=fake)

    assert fake.argvs() == [
        ["--non-interactive", "stack", "select", "--stack", "dev"],
        ["--non-interactive", "stack", "output", "--json", "--stack", "dev"],
        ["--non-interactive", "stack", "output", "--json", "--show-secrets", "--stack", "dev"],
    ]
    assert all(call.cwd == str(folder) for call in fake.calls)
    assert all(call.env["PULUMI_CONFIG_PASSPHRASE"] for call in fake.calls)
    assert (folder / "Pulumi.yaml").read_text() == "name: embed-aws\nruntime: python\n"  # the project is not rewritten


def test_rerunning_updates_in_place_and_registers_nothing_twice(tmp_path: Path) -> None:
    folder = str(_project(tmp_path))
    register_from_stack(folder, stack="dev", pulumi_command=_fake(AWS_OUTPUTS))
    first = registry_rows()

    changed = {**AWS_OUTPUTS, "repository_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/renamed"}
    register_from_stack(folder, stack="dev", pulumi_command=_fake(changed))
    second = registry_rows()

    assert {table: len(rows) for table, rows in second.items()} == {table: len(rows) for table, rows in first.items()}
    assert len(second["components"]) == 7 and len(second["connectors"]) == 1 and len(second["stacks"]) == 1
    registry = _describe("aws-dev")["components"]["container_registry"]
    assert registry["config"]["uri"].endswith("/renamed")


def test_the_current_stack_is_read_when_no_stack_is_given(tmp_path: Path) -> None:
    class WithStackList(FakePulumiCommand):
        def _dispatch(self, key: str, args: list[str]) -> CommandResult:
            if key == "stack ls":
                return CommandResult(json.dumps([{"name": "prod", "current": False}, {"name": "dev", "current": True}]), "", 0)
            return super()._dispatch(key, args)

    fake = WithStackList(existing_stacks={"dev", "prod"}, secret_outputs={"mlflow_password"})
    fake.stack_outputs["dev"] = dict(AWS_OUTPUTS)

    outcome = register_from_stack(str(_project(tmp_path)), pulumi_command=fake)

    assert outcome.pulumi_stack == "dev"
    assert fake.argvs()[0] == ["--non-interactive", "stack", "ls", "--json"]


def test_the_cli_registers_a_kubernetes_project_guessed_from_its_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(KUBERNETES_OUTPUTS)
    monkeypatch.setattr(from_stack, "make_pulumi_command", lambda: fake)
    folder = _project(tmp_path, "embed-kubernetes")

    result = cli("register", "--from-stack", str(folder), "--stack", "dev", "--name", "team-ml", "--output", "json")

    assert result.exit_code == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["recipe"] == "kubernetes" and outcome["stack"] == "team-ml"
    assert outcome["outputs"]["mlflow_password"] == {"value": "********", "secret": True}
    assert len(outcome["registered"]["components"]) == 5
    artifacts = _describe("team-ml")["components"]["artifact_store"]["config"]
    assert artifacts["aws_secret_access_key"].startswith("{{secret:")
    rows = json.dumps(registry_rows(include_audit=True), default=str)
    assert S3_SECRET not in rows and PASSWORD not in rows
    assert S3_SECRET not in result.stdout and PASSWORD not in result.stdout

    again = cli("register", "--from-stack", str(folder), "--stack", "dev", "--name", "team-ml")
    assert again.exit_code == 0, again.stderr
    assert "Registered stack team-ml" in again.stdout
    assert len(registry_rows()["components"]) == 5


@pytest.mark.parametrize(
    ("outputs", "extra", "message"),
    [
        pytest.param({"website_url": "https://example.com", "bucket": "b"}, [], "fit no installed recipe's outputs model: pass --recipe", id="unknown-outputs"),
        pytest.param({**AWS_OUTPUTS, "kube_context": "kind-x"}, [], "the closest is aws, and these outputs have extra kube_context", id="aws-plus-an-extra-output"),
        pytest.param(
            {k: v for k, v in AWS_OUTPUTS.items() if k not in ("bucket_name", "connector_role_arn")}, [],
            "the closest is aws, and these outputs lack bucket_name, connector_role_arn", id="aws-outputs-missing-keys",
        ),
        pytest.param(
                KUBERNETES_OUTPUTS, ["--recipe", "aws"],
                "lack bucket_name, cluster_arn, cluster_name, connector_role_arn, database_address, image_builder_project, kubeconfig, "
                "kubernetes_version, mlflow_role_arn, oidc_issuer, pipelines_role_arn, region, repository_url, sagemaker_role_arn, vpc_id, "
                "which the aws recipe's Outputs model requires",
                id="wrong-recipe",
            ),
        pytest.param({}, [], "has no outputs", id="never-deployed"),
    ],
)
def test_outputs_it_cannot_map_exit_2_naming_the_problem_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: dict[str, Any], extra: list[str], message: str
) -> None:
    monkeypatch.setattr(from_stack, "make_pulumi_command", lambda: _fake(outputs))
    _open_registry()

    result = cli("register", "--from-stack", str(_project(tmp_path)), "--stack", "dev", *extra)

    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    rows = registry_rows()
    assert rows and all(table_rows == [] for table_rows in rows.values())


@pytest.mark.parametrize(
    ("source", "extra", "message"),
    [
        pytest.param("staging", [], "needs --recipe", id="bare-stack-without-recipe"),
        pytest.param("provisioner-aws/staging", ["--recipe", "gcp"], "not --recipe gcp", id="project-and-recipe-disagree"),
        pytest.param("a/b/c", [], "no such folder, and not [PROJECT/]STACK", id="neither"),
        pytest.param("provisioner-aws/qa", [], "no stack 'qa'", id="unknown-stack"),
    ],
)
def test_bad_sources_exit_2(monkeypatch: pytest.MonkeyPatch, source: str, extra: list[str], message: str) -> None:
    monkeypatch.setattr(from_stack, "make_pulumi_command", lambda: _fake(AWS_OUTPUTS, stack="staging"))

    result = cli("register", "--from-stack", source, *extra)

    assert result.exit_code == 2, result.stderr
    assert message in result.stderr


def test_a_folder_without_pulumi_yaml_or_an_unknown_stack_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(from_stack, "make_pulumi_command", lambda: _fake(AWS_OUTPUTS))

    no_project = cli("register", "--from-stack", str(tmp_path))
    unknown_stack = cli("register", "--from-stack", str(_project(tmp_path)), "--stack", "qa")

    assert no_project.exit_code == 2 and "has no Pulumi.yaml" in no_project.stderr
    assert unknown_stack.exit_code == 2 and "no stack 'qa'" in unknown_stack.stderr


def test_a_stack_of_provisioners_workspace_is_read_as_the_pulumi_engine_sets_it_up(isolated_environ: Path) -> None:
    fake = _fake(AWS_OUTPUTS, stack="staging")

    outcome = register_from_stack("provisioner-aws/staging", env="staging", pulumi_command=fake)

    assert (outcome.recipe, outcome.stack, outcome.pulumi_project) == ("aws", "aws-staging", "provisioner-aws")
    assert all(call.cwd == str(isolated_environ / "pulumi" / "provisioner-aws") for call in fake.calls)
    passphrase = (isolated_environ / "pulumi-passphrase").read_text().strip()
    assert all(call.env["PULUMI_CONFIG_PASSPHRASE"] == passphrase for call in fake.calls)
    assert f"file://{isolated_environ / 'state'}" in (isolated_environ / "pulumi" / "provisioner-aws" / "Pulumi.yaml").read_text()
    assert ["--non-interactive", "stack", "select", "--stack", "staging"] in fake.argvs()


def test_a_registered_stack_of_another_env_is_not_overwritten(tmp_path: Path) -> None:
    folder = str(_project(tmp_path))
    register_from_stack(folder, env="prod", name="team-ml", stack="dev", pulumi_command=_fake(AWS_OUTPUTS))
    before = registry_rows()

    with pytest.raises(ProvisionerError, match="belongs to env 'prod'") as caught:
        register_from_stack(folder, env="staging", name="team-ml", stack="dev", pulumi_command=_fake(AWS_OUTPUTS))

    assert caught.value.exit_code == 2
    assert registry_rows() == before


def test_without_the_pulumi_cli_it_exits_2_with_the_install_hint(tmp_path: Path) -> None:
    os.environ["PATH"] = str(tmp_path / "empty")  # no pulumi binary anywhere
    _open_registry()

    result = cli("register", "--from-stack", str(_project(tmp_path)))

    assert result.exit_code == 2
    assert INSTALL_HINT in " ".join(result.stderr.split())
    assert all(rows == [] for rows in registry_rows().values())


def test_a_plugin_recipe_is_recognised_from_its_outputs_model(tmp_path: Path, demo_recipe: object) -> None:
    outputs = {"bucket_name": "team-bucket", "tracking_uri": "https://mlflow.team.example.com", "tracking_username": "admin",
               "tracking_password": "pw-from-the-stack"}
    fake = _fake(outputs, secrets={"tracking_password"})

    outcome = register_from_stack(str(_project(tmp_path, "team-demo")), env="dev", stack="dev", pulumi_command=fake)

    assert (outcome.recipe, outcome.stack) == ("demo", "demo-dev")
    assert outcome.registered.components == ["demo-dev-orchestrator", "demo-dev-artifacts", "demo-dev-tracker"]
    assert "pw-from-the-stack" not in json.dumps(registry_rows(), default=str)
