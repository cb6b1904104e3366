"""The Pulumi engine through pulumi.automation, with a fake Pulumi CLI injected: exact invocations."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from provisioner.cli._deploy_common import resolve
from provisioner.engine.base import NullSink
from provisioner.engine.pulumi import INSTALL_HINT, PulumiEngine
from provisioner.errors import ProvisionerError
from provisioner.lifecycle import deploy, destroy
from provisioner.registry.service import Registry
from tests.fakes.pulumi_cli import LOCKED_STDERR, NO_CREDENTIALS_STDERR, FakePulumiCommand, resource_events
from tests.helpers import cli_json, deploy_cli, registry_rows

pytestmark = pytest.mark.usefixtures("demo_recipe")

RESOURCES = [("aws:s3/bucket:Bucket", "demo-staging-artifacts"), ("random:index/randomPassword:RandomPassword", "demo-staging-tracker-password")]
OUTPUTS = {
    "bucket_name": "demo-staging-artifacts-1a2b3c4",
    "tracking_uri": "https://mlflow.demo-staging.example.com",
    "tracking_username": "admin",
    "tracking_password": "pw-from-pulumi-state",
}


def _fake(**kwargs: object) -> FakePulumiCommand:
    return FakePulumiCommand(outputs=OUTPUTS, secret_outputs={"tracking_password"}, resources=RESOURCES, **kwargs)  # type: ignore[arg-type]


def _deploy(fake: FakePulumiCommand, *, preview: bool = False, backend: str | None = None, sets: list[str] | None = None):  # type: ignore[no-untyped-def]
    recipe, request, args = resolve("demo", "staging", config_file=None, sets=sets, region=None, name=None, backend=backend)
    engine = PulumiEngine(backend_url=request.backend, pulumi_command=fake)
    # These tests are about the Pulumi CLI's invocations; tests/test_preflight.py covers the preflight before up.
    return deploy(recipe, request, args, engine, Registry.open(), NullSink(), preview=preview, preflight=False)


def _destroy(fake: FakePulumiCommand):  # type: ignore[no-untyped-def]
    recipe, request, _ = resolve("demo", "staging", config_file=None, sets=None, region=None, name=None, backend=None)
    return destroy(recipe, request, PulumiEngine(pulumi_command=fake), Registry.open(), NullSink())


def _plugin_version(dist: str) -> str:
    from importlib.metadata import version

    return "v" + version(dist)


def test_deploy_invokes_select_init_config_plugins_up_then_reads_outputs() -> None:
    fake = _fake()

    outcome = _deploy(fake)

    p = "provisioner-demo"
    deployment_id = fake.config["staging"]["provisioner:deploymentId"][0]
    assert re.fullmatch(r"[a-z0-9]{26}", deployment_id)
    assert fake.argvs() == [
        ["--non-interactive", "stack", "select", "--stack", "staging"],  # ownership: refuses env crossing
        ["--non-interactive", "stack", "select", "--stack", "staging"],
        ["--non-interactive", "stack", "init", "staging"],
        ["--non-interactive", "config", "get", "provisioner:deploymentId", "--json", "--stack", "staging"],
        ["--non-interactive", "config", "set-all", "--stack", "staging",
         "--plaintext", f"provisioner:deploymentId={deployment_id}",
         "--plaintext", "provisioner:env=staging",
         "--plaintext", f"{p}:versioning=true",
         "--plaintext", f"{p}:force_destroy=false",
         "--plaintext", f'{p}:tracker={{"username": "admin", "replicas": 1}}',
         "--plaintext", f"{p}:extra_tags={{}}",
         "--secret", f"{p}:license_key=",
         "--plaintext", "aws:region=eu-west-1"],
        ["--non-interactive", "plugin", "install", "resource", "aws", _plugin_version("pulumi-aws")],
        ["--non-interactive", "plugin", "install", "resource", "random", _plugin_version("pulumi-random")],
        ["--non-interactive", "up", "--yes", "--skip-preview", "--color", "never", "--client=<addr>",
         "--exec-kind", "auto.inline", "--event-log", "<event-log>", "--stack", "staging"],
        ["--non-interactive", "stack", "output", "--json", "--stack", "staging"],
        ["--non-interactive", "stack", "output", "--json", "--show-secrets", "--stack", "staging"],
        ["--non-interactive", "stack", "history", "--json", "--show-secrets", "--page-size", "1", "--page", "1", "--stack", "staging"],
    ]
    assert outcome.resource_counts == {"create": 2}
    assert outcome.outputs["tracking_password"].value == "********"
    stack = cli_json("stack", "describe", "demo-staging", "--show-secrets")
    assert stack["components"]["artifact_store"]["config"]["path"] == "s3://demo-staging-artifacts-1a2b3c4"
    assert stack["components"]["experiment_tracker"]["config"]["tracking_password"] == "pw-from-pulumi-state"


def test_secret_recipe_args_are_written_as_secret_config(tmp_path: Path) -> None:
    fake = _fake()
    license_file = tmp_path / "license"  # a secret setting: --set takes it only from a file
    license_file.write_text("lk-123\n", encoding="utf-8")

    _deploy(fake, sets=["tracker.username=ops", f"license_key=@{license_file}"])

    config = fake.config["staging"]
    assert config["provisioner-demo:license_key"] == ("lk-123", True)
    assert config["provisioner-demo:tracker"] == ('{"username": "ops", "replicas": 1}', False)


def test_workspace_uses_passphrase_file_and_file_backend_in_home(isolated_environ: Path) -> None:
    fake = _fake()

    _deploy(fake)

    passphrase_file = isolated_environ / "pulumi-passphrase"
    assert stat.S_IMODE(passphrase_file.stat().st_mode) == 0o600
    assert all(call.env["PULUMI_CONFIG_PASSPHRASE"] == passphrase_file.read_text().strip() for call in fake.calls)
    project_file = (isolated_environ / "pulumi" / "provisioner-demo" / "Pulumi.yaml").read_text()
    assert f"file://{isolated_environ / 'state'}" in project_file


def test_passphrase_from_environment_and_backend_flag_win() -> None:
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = "team-passphrase"
    fake = _fake()

    _deploy(fake, backend="s3://team-pulumi-state")

    assert fake.calls[0].env["PULUMI_CONFIG_PASSPHRASE"] == "team-passphrase"
    project_file = Path(fake.calls[0].cwd, "Pulumi.yaml").read_text()
    assert "s3://team-pulumi-state" in project_file


def test_plan_runs_preview_only_and_registers_nothing() -> None:
    fake = _fake()

    outcome = _deploy(fake, preview=True)

    commands = [argv[1:3] for argv in fake.argvs()]
    assert ["preview", "--color"] in commands
    assert not any(argv[1] == "up" for argv in fake.argvs())
    assert outcome.preview and {r.op.value for r in outcome.resources} == {"create"}
    assert all(rows == [] for rows in registry_rows().values())


def test_destroy_invokes_destroy_then_stack_rm_and_unregisters(aws_endpoint: str) -> None:
    """The demo recipe deploys to AWS, so its destroy also sweeps (here: an empty moto) for its deployment id."""
    fake = _fake()
    _deploy(fake)
    fake.calls.clear()

    outcome = _destroy(fake)

    assert [argv[1:4] for argv in fake.argvs()] == [
        ["stack", "select", "--stack"],  # ownership: the deployment id, env and resources in the state
        ["stack", "export", "--show-secrets"],
        ["config", "get", "provisioner:env"],
        ["config", "get", "provisioner:deploymentId"],
        ["stack", "select", "--stack"],  # outputs
        ["stack", "output", "--json"],
        ["stack", "output", "--json"],
        ["stack", "select", "--stack"],  # destroy
        ["stack", "export", "--show-secrets"],
        ["state", "unprotect", "--all"],
        ["destroy", "--skip-preview", "--yes"],
        ["stack", "history", "--json"],
        ["stack", "rm", "--yes"],
    ]
    destroy_argv = next(argv for argv in fake.argvs() if argv[1] == "destroy")
    assert destroy_argv == ["--non-interactive", "destroy", "--skip-preview", "--yes", "--color", "never", "--client=<addr>",
                            "--exec-kind", "auto.inline", "--event-log", "<event-log>", "--stack", "staging"]
    assert fake.argvs()[-1] == ["--non-interactive", "stack", "rm", "--yes", "staging"]
    assert len(outcome.report.deleted_resources) == 2
    assert all(rows == [] for rows in registry_rows().values())
    assert _destroy(fake).nothing_to_destroy


def test_locked_stack_names_the_holder_and_the_unlock_command() -> None:
    fake = _fake()
    fake.fail_next("up", LOCKED_STDERR)

    with pytest.raises(ProvisionerError) as caught:
        _deploy(fake)

    assert caught.value.exit_code == 2
    assert "alice@ci (pid 4242)" in str(caught.value)
    assert "provisioner unlock demo --env staging" in str(caught.value)
    assert all(rows == [] for rows in registry_rows().values())


def test_missing_credentials_are_reported_as_such() -> None:
    fake = _fake()
    fake.fail_next("up", NO_CREDENTIALS_STDERR)

    with pytest.raises(ProvisionerError, match="credentials are missing or invalid") as caught:
        _deploy(fake)

    assert caught.value.exit_code == 2


def test_failing_resources_are_named_with_their_messages() -> None:
    fake = _fake()
    events = resource_events("create", RESOURCES, "staging", "provisioner-demo",
                             fail={"demo-staging-artifacts": "BucketAlreadyExists: name taken"})
    fake.fail_next("up", "error: update failed", events)

    with pytest.raises(ProvisionerError) as caught:
        _deploy(fake)

    assert caught.value.exit_code == 1
    assert "aws:s3/bucket:Bucket 'demo-staging-artifacts': BucketAlreadyExists: name taken" in str(caught.value)
    assert all(rows == [] for rows in registry_rows().values())


def test_without_pulumi_on_path_deploy_exits_2_with_install_hint(tmp_path: Path) -> None:
    os.environ["PATH"] = str(tmp_path)  # an empty folder: no pulumi binary

    result = deploy_cli("demo", "--env", "staging")

    assert result.exit_code == 2
    assert "Pulumi CLI is not installed" in result.stderr and "--simulate" in result.stderr
    assert INSTALL_HINT.split(":")[0] in result.stderr
    assert all(rows == [] for rows in registry_rows().values())


def _aws_state_resource(name: str, resource_type: str, resource_id: str, *dependencies: str) -> dict[str, object]:
    urn = f"urn:pulumi:prod::provisioner-aws::{resource_type}::{name}"
    return {"urn": urn, "type": resource_type, "id": resource_id, "custom": True,
            "dependencies": [f"urn:pulumi:prod::provisioner-aws::{d}" for d in dependencies]}


@pytest.mark.usefixtures("aws_endpoint")  # the leftover sweep talks to moto, never to AWS
def test_prod_destroy_protects_the_data_and_what_it_needs_then_excludes_it() -> None:
    from recipes.aws import AwsRecipe

    fake = FakePulumiCommand(existing_stacks={"prod"})
    fake.deployment["resources"] = [
        _aws_state_resource("vpc", "aws:ec2/vpc:Vpc", "vpc-1"),
        _aws_state_resource("private-a", "aws:ec2/subnet:Subnet", "subnet-a", "aws:ec2/vpc:Vpc::vpc"),
        _aws_state_resource("eks", "aws:eks/cluster:Cluster", "aws-prod", "aws:ec2/subnet:Subnet::private-a"),
        _aws_state_resource("db-subnets", "aws:rds/subnetGroup:SubnetGroup", "db-subnets", "aws:ec2/subnet:Subnet::private-a"),
        _aws_state_resource("db-sg", "aws:ec2/securityGroup:SecurityGroup", "sg-db", "aws:eks/cluster:Cluster::eks"),
        _aws_state_resource("db", "aws:rds/instance:Instance", "aws-prod-db", "aws:rds/subnetGroup:SubnetGroup::db-subnets", "aws:ec2/securityGroup:SecurityGroup::db-sg"),
        _aws_state_resource("bucket", "aws:s3/bucket:Bucket", "aws-prod-artifacts"),
        _aws_state_resource("bucket-pab", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "aws-prod-artifacts", "aws:s3/bucket:Bucket::bucket"),
    ]
    recipe = AwsRecipe()
    _, request, _ = resolve("aws", "prod", config_file=None, sets=None, region=None, name=None, backend=None)

    outcome = destroy(recipe, request, PulumiEngine(pulumi_command=fake), Registry.open(), NullSink())

    protect = next(argv for argv in fake.argvs() if argv[1:3] == ["state", "protect"])
    protected = {urn.rsplit("::", 1)[-1] for urn in protect if urn.startswith("urn:")}
    assert protected == {"db", "db-subnets", "db-sg", "private-a", "vpc", "bucket", "bucket-pab"}  # not the EKS cluster
    destroy_argv = next(argv for argv in fake.argvs() if argv[1] == "destroy")
    assert "--exclude-protected" in destroy_argv
    assert not any(argv[1:3] == ["stack", "rm"] for argv in fake.argvs())  # the stack keeps the kept data
    assert {r.message for r in outcome.report.kept_resources} >= {"aws-prod-db", "aws-prod-artifacts"}


def test_destroy_clears_pending_operations_left_by_an_interrupted_run() -> None:
    fake = _fake(existing_stacks={"staging"})
    fake.deployment["pending_operations"] = [{"resource": {"urn": "urn:x"}, "type": "creating"}]

    _destroy(fake)

    assert fake.imported and fake.imported[-1]["deployment"]["pending_operations"] == []


def test_a_redeploy_reads_the_deployment_id_back_from_the_stack_config_and_keeps_it() -> None:
    fake = _fake()
    _deploy(fake)
    first = fake.config["staging"]["provisioner:deploymentId"][0]
    fake.calls.clear()

    _deploy(fake)

    set_all = next(argv for argv in fake.argvs() if argv[1:3] == ["config", "set-all"])
    assert f"provisioner:deploymentId={first}" in set_all
    assert fake.config["staging"]["provisioner:deploymentId"][0] == first
