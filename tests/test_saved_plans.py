"""Saved plans: --plan --save FILE, then --from-plan FILE applies exactly that, or refuses with nothing changed."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import deploy_cli

pytestmark = pytest.mark.usefixtures("aws_endpoint")

STAGING = ("aws", "--env", "staging", "--simulate")


def _ok(*args: str) -> dict[str, Any]:
    result = deploy_cli(*STAGING, "--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


def test_a_saved_plan_is_applied_as_planned_and_holds_no_secret(tmp_path: Path) -> None:
    _ok()
    path = tmp_path / "more-nodes.json"

    planned = _ok("--plan", "--set", "cluster.nodes.desired=3", "--save", str(path))
    applied = _ok("--from-plan", str(path))

    assert planned["resource_counts"] == applied["resource_counts"] == {"same": 65, "update": 1}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert (document["format"], document["recipe"], document["env"], document["stack"]) == (
        "provisioner-plan/1", "aws", "staging", "aws-staging")
    assert document["args"]["cluster"]["nodes"]["desired"] == 3
    text = path.read_text()
    for secret in (r["inputs"].get("password") for r in planned["resources"] if r["inputs"]):
        assert secret in (None, "********") or secret not in text


def test_a_saved_plan_of_a_stack_not_deployed_yet_applies_with_the_deployment_id_it_showed(tmp_path: Path) -> None:
    path = tmp_path / "new.json"

    planned = _ok("--plan", "--save", str(path))
    applied = _ok("--from-plan", str(path))

    assert planned["resource_counts"] == applied["resource_counts"] == {"create": 66}
    saved_id = json.loads(path.read_text())["deployment_id"]
    assert applied["deployment_id"] == saved_id == planned["deployment_id"]
    tags = {r["name"]: (r["inputs"] or {}).get("tags") or {} for r in applied["resources"]}
    assert tags["aws-staging-images"]["provisioner:deployment"] == saved_id


def test_a_plan_the_program_no_longer_matches_is_refused_with_nothing_changed(tmp_path: Path) -> None:
    _ok()
    path = tmp_path / "plan.json"
    _ok("--plan", "--set", "cluster.nodes.desired=3", "--save", str(path))
    _ok("--set", "registry.untagged_expiry_days=30")  # someone deployed another change meanwhile

    refused = deploy_cli(*STAGING, "--from-plan", str(path))
    after = _ok("--plan", "--set", "registry.untagged_expiry_days=30")

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        f"error: the program would now do something else than {path}: aws-staging-lifecycle would now be updated, "
        "where the plan said stay the same; nothing was changed (make a new plan)"
    )
    assert after["resource_counts"] == {"same": 66}  # still as the meanwhile deploy left it


def test_a_plan_already_applied_is_refused_the_second_time(tmp_path: Path) -> None:
    _ok()
    path = tmp_path / "plan.json"
    _ok("--plan", "--set", "cluster.nodes.desired=3", "--save", str(path))
    _ok("--from-plan", str(path))

    again = deploy_cli(*STAGING, "--from-plan", str(path))

    assert again.exit_code == 2
    assert again.stderr.strip().splitlines()[-1] == (
        f"error: the program would now do something else than {path}: aws-staging-cluster-general-nodes would now "
        "stay the same, where the plan said be updated; nothing was changed (make a new plan)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--save", "x.json"), "--save goes with --plan", id="save-without-plan"),
        pytest.param(("--plan", "--from-plan", "x.json"), "--from-plan applies a saved plan; it doesn't go with --plan", id="both"),
        pytest.param(("--from-plan", "x.json", "--set", "cluster.nodes.desired=3"),
                     "--from-plan takes the settings, region and name from the plan: drop --file, --set, --region and --name",
                     id="from-plan-with-set"),
        pytest.param(("--from-plan", "missing.json"), "no plan file at missing.json", id="missing"),
    ],
)
def test_contradictory_plan_options_are_refused_before_anything(args: tuple[str, ...], message: str, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    refused = deploy_cli(*STAGING, *args)

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == f"error: {message}"


def test_a_plan_for_another_env_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dev.json"
    assert deploy_cli("aws", "--env", "dev", "--simulate", "--plan", "--save", str(path)).exit_code == 0

    refused = deploy_cli(*STAGING, "--from-plan", str(path))

    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1] == f"error: {path} is a plan for aws --env dev, not aws --env staging"


@pytest.fixture()
def fake_pulumi(monkeypatch: pytest.MonkeyPatch, demo_recipe: Path) -> Any:
    """deploy-stack's real engine on a fake Pulumi CLI, which writes and checks update plans as Pulumi does."""
    from provisioner.engine.pulumi import PulumiEngine
    from tests.fakes.pulumi_cli import FakePulumiCommand

    fake = FakePulumiCommand(
        outputs={"bucket_name": "demo-staging-artifacts-1a2b3c4", "tracking_uri": "https://mlflow.demo-staging.example.com",
                 "tracking_username": "admin", "tracking_password": "pw"},
        secret_outputs={"tracking_password"}, resources=[("aws:s3/bucket:Bucket", "demo-staging-artifacts")])
    monkeypatch.setattr("provisioner.cli.deploy.make_engine", lambda _simulate, backend: PulumiEngine(backend_url=backend, pulumi_command=fake))
    return fake


def _subcommand(fake: Any, name: str) -> list[str]:
    return next(argv for argv in fake.argvs() if argv[1] == name)


def test_with_the_real_engine_a_saved_plan_carries_pulumis_update_plan_and_up_follows_it(fake_pulumi: Any, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"

    planned = deploy_cli("demo", "--env", "staging", "--plan", "--save", str(path))
    update_plan = json.loads(path.read_text())["update_plan"]
    applied = deploy_cli("demo", "--env", "staging", "--from-plan", str(path), "--no-preflight")

    assert planned.exit_code == 0, planned.stderr
    assert applied.exit_code == 0, applied.stderr
    preview = _subcommand(fake_pulumi, "preview")
    assert preview[preview.index("--save-plan") + 1].endswith("update-plan.json")
    assert list(update_plan["resourcePlans"]) == ["urn:pulumi:staging::provisioner-demo::aws:s3/bucket:Bucket::demo-staging-artifacts"]
    assert "--plan" in _subcommand(fake_pulumi, "up")
    assert fake_pulumi.followed_plans == [update_plan]
    assert not list(Path(preview[preview.index("--save-plan") + 1]).parent.parent.glob("provisioner-plan-*/update-plan.json"))


def test_with_the_real_engine_an_update_pulumi_finds_off_plan_fails_naming_the_resource(fake_pulumi: Any, tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    assert deploy_cli("demo", "--env", "staging", "--plan", "--save", str(path)).exit_code == 0
    fake_pulumi.off_plan = "demo-staging-artifacts"

    refused = deploy_cli("demo", "--env", "staging", "--from-plan", str(path), "--no-preflight")

    assert refused.exit_code != 0
    assert "demo-staging-artifacts violates plan" in refused.stderr
    assert fake_pulumi.stack_outputs.get("staging") is None  # the fake's up stopped before any output
