"""The deployment history: each deploy and destroy is kept with its real durations, and plans prefer them."""

from __future__ import annotations

import json
import os

import pytest

from provisioner.engine.base import NullSink
from provisioner.errors import PermissionDeniedError, ProvisionerError
from provisioner.registry.service import Registry
from tests.fakes.pulumi_cli import NO_CREDENTIALS_STDERR
from tests.helpers import cli, cli_json
from tests.test_pulumi_engine import _deploy, _destroy, _fake

pytestmark = pytest.mark.usefixtures("demo_recipe")

BUCKET, PASSWORD = "aws:s3/bucket:Bucket", "random:index/randomPassword:RandomPassword"


@pytest.fixture(autouse=True)
def admin() -> None:
    os.environ["PROVISIONER_USER"] = "alice"


def test_each_real_deploy_keeps_who_what_and_how_long_each_resource_took() -> None:
    fake = _fake()
    fake.durations = {"demo-staging-artifacts": 40, "demo-staging-tracker-password": 2}

    _deploy(fake)

    [run] = Registry.open().runs("demo-staging")
    assert (run.kind, run.user, run.result, run.engine, run.simulated, run.env, run.recipe) == (
        "deploy", "alice", "succeeded", "pulumi", False, "staging", "demo")
    assert run.counts == {"create": 2}
    assert sorted((t.type, t.op, t.seconds) for t in run.timings) == [(BUCKET, "create", 40.0), (PASSWORD, "create", 2.0)]
    assert run.monthly_cost_usd is not None and run.finished_at >= run.started_at


def test_a_plan_times_each_step_by_the_median_of_the_users_own_runs_before_the_dated_table() -> None:
    fake = _fake()
    for seconds in (40, 90, 50):
        fake.durations = {"demo-staging-artifacts": seconds}
        _deploy(fake)

    plan = _deploy(fake, preview=True)

    # The table says 5 s for a bucket (its default row); the user's runs took 40, 90 and 50 s: median 50.
    assert plan.deploy_estimate is not None
    assert (plan.deploy_estimate.seconds, plan.deploy_estimate.path, plan.deploy_estimate.measured) == (
        50, ["demo-staging-artifacts"], ["demo-staging-artifacts"])
    assert "1 of 1 step(s) timed by your own runs" in plan.deploy_estimate.describe()
    assert Registry.open().duration_medians() == {f"{BUCKET}#create": 50.0, f"{PASSWORD}#create": 0.0}


def test_without_real_runs_the_plan_uses_the_table() -> None:
    plan = _deploy(_fake(), preview=True)

    assert plan.deploy_estimate is not None
    assert (plan.deploy_estimate.seconds, plan.deploy_estimate.measured) == (5, [])
    assert Registry.open().runs("demo-staging") == []  # a plan is not a run


def test_a_failed_deploy_is_kept_as_failed_with_its_error_and_no_timings() -> None:
    fake = _fake()
    fake.fail_next("up", NO_CREDENTIALS_STDERR)

    with pytest.raises(ProvisionerError):
        _deploy(fake)

    [run] = Registry.open().runs("demo-staging")
    assert (run.kind, run.result, run.counts, run.timings) == ("deploy", "failed", {}, [])
    assert run.error is not None and "credentials" in run.error


def test_a_destroy_keeps_its_teardown_report_and_the_history_outlives_the_stack(aws_endpoint: str) -> None:
    fake = _fake()
    _deploy(fake)

    _destroy(fake)

    registry = Registry.open()
    assert registry.list_stacks() == []
    destroyed, deployed = registry.runs("demo-staging")
    assert (destroyed.kind, destroyed.result, deployed.kind) == ("destroy", "succeeded", "deploy")
    assert destroyed.counts == {"delete": 2}
    assert destroyed.report is not None
    assert sorted(item["name"] for item in destroyed.report["deleted"]) == ["demo-staging-artifacts", "demo-staging-tracker-password"]
    assert (destroyed.report["left_over"], destroyed.report["kept"], destroyed.report["clean"]) == ([], [], True)


def test_stack_history_lists_runs_newest_first_and_a_member_sees_no_restricted_history() -> None:
    _deploy(_fake())
    fake = _fake()
    fake.fail_next("up", NO_CREDENTIALS_STDERR)
    with pytest.raises(ProvisionerError):
        _deploy(fake)
    assert cli("user", "set", "bob", "member").exit_code == 0
    assert cli("stack", "grant", "demo-staging", "alice").exit_code == 0

    runs = cli_json("stack", "history", "demo-staging")
    table = cli("stack", "history", "demo-staging")
    os.environ["PROVISIONER_USER"] = "bob"
    refused = cli("stack", "history", "demo-staging")

    assert [(r["kind"], r["result"], r["user"]) for r in runs] == [("deploy", "failed", "alice"), ("deploy", "succeeded", "alice")]
    assert "2 create" in table.stdout and "failed" in table.stdout
    assert refused.exit_code == 2 and "restricted to alice" in refused.stderr
    with pytest.raises(PermissionDeniedError):
        Registry.open().runs("demo-staging")
    assert json.loads(cli("stack", "history", "demo-staging", "--output", "json").stdout or "null") is None
