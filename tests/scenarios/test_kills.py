"""kill -9 at any point of a deploy or destroy: a rerun of the same command recovers, and nothing is lost or left."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable

import pytest

from provisioner.engine.simulated_state import SimulatedStackState
from tests.scenarios.conftest import Home
from tests.scenarios.inventory import deployment_id, resources_by_deployment, tagged_resources

pytestmark = pytest.mark.scenario

DEPLOY = ("deploy-stack", "aws", "--env", "staging", "--simulate")
DESTROY = ("destroy-stack", "aws", "--env", "staging", "--simulate", "--yes")

# Kills placed after a create call returned and before its result was recorded (a test hook), by type.
AFTER_CREATE = ["aws:ec2/vpc:Vpc", "aws:s3/bucket:Bucket", "aws:eks/cluster:Cluster", "aws:rds/instance:Instance",
                # untagged: proven ours by their route table (a kill from outside once caught a route midway)
                "aws:ec2/route:Route", "aws:ec2/routeTableAssociation:RouteTableAssociation"]
# Kills at a moment the test picks from outside: when the state has this many resources.
AT_RESOURCE_COUNT = [12, 40]
AFTER_DELETE = ["aws:eks/nodeGroup:NodeGroup", "aws:ec2/natGateway:NatGateway", "aws:iam/role:Role"]


def _assert_state_valid(home: Home) -> SimulatedStackState | None:
    """The state file is never empty or invalid: either absent, or a whole state."""
    path = home.state_file("aws", "staging")
    if not path.exists():
        return None
    text = path.read_text()
    assert text.strip(), f"{path} is empty"
    return SimulatedStackState.model_validate_json(text)


def _recorded(home: Home) -> int | None:
    """How many resources the state records right now (None before it exists)."""
    try:
        return len(json.loads(home.state_file("aws", "staging").read_text())["resources"])
    except (FileNotFoundError, ValueError):
        return None


def _signal_when(home: Home, process: subprocess.Popen[str], reached: Callable[[int], bool], signum: int) -> None:
    """Send ``signum`` once the recorded resource count satisfies ``reached`` (bounded wait)."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        count = _recorded(home)
        if count is not None and reached(count):
            process.send_signal(signum)
            return
        time.sleep(0.05)


def _kill_at_count(home: Home, count: int) -> None:
    process = home.start(*DEPLOY)
    _signal_when(home, process, lambda recorded: recorded >= count, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, f"the deploy ended before the kill point ({process.returncode})"


# The resource types the independent inventory counts, as Pulumi names them.
INVENTORIED = {
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/securityGroup:SecurityGroup", "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway", "aws:ec2/routeTable:RouteTable", "aws:s3/bucket:Bucket",
    "aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:rds/instance:Instance", "aws:ecr/repository:Repository",
    "aws:iam/role:Role", "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
}


def _cluster_security_groups() -> set[str]:
    import boto3

    groups = boto3.client("ec2", region_name="eu-west-1").describe_security_groups()["SecurityGroups"]
    return {g["GroupId"] for g in groups if g["GroupName"].startswith("eks-cluster-sg-")}


def _rerun_then_destroy(home: Home) -> None:
    state = _assert_state_valid(home)
    assert state is not None and state.deployment_id
    rerun = home.run(*DEPLOY)
    assert rerun.returncode == 0, rerun.stderr
    # No duplicate and no orphan: moto holds exactly what the state lists (the half-made one was replaced).
    final = _assert_state_valid(home)
    assert final is not None and final.pending == []
    in_cloud = set(i for i, d in tagged_resources() if d == state.deployment_id)
    recorded = set(r.id for r in final.resources if r.type in INVENTORIED)
    # What AWS itself makes for recorded resources: automated RDS snapshots, the EKS cluster security group.
    made_by_aws = {i for i in in_cloud - recorded if i.startswith("rds:") or i in _cluster_security_groups()}
    assert in_cloud - made_by_aws == recorded
    gone = home.run(*DESTROY)
    assert gone.returncode == 0, gone.stderr
    assert resources_by_deployment()[state.deployment_id] == 0


@pytest.mark.parametrize("resource_type", AFTER_CREATE)
def test_a_kill_between_a_create_and_its_record_is_recovered_by_a_rerun(homes: dict[str, Home], resource_type: str) -> None:
    home = homes["a"]

    killed = home.run(*DEPLOY, env={"PROVISIONER_TEST_KILL_AFTER_CREATE": resource_type})

    assert killed.returncode == -signal.SIGKILL
    state = _assert_state_valid(home)
    assert state is not None and resource_type in [p.type for p in state.pending]  # sent, never recorded
    assert resource_type not in [r.type for r in state.resources]
    _rerun_then_destroy(home)


@pytest.mark.parametrize("count", AT_RESOURCE_COUNT)
def test_a_kill_from_outside_midway_is_recovered_by_a_rerun(homes: dict[str, Home], count: int) -> None:
    home = homes["a"]

    _kill_at_count(home, count)

    _rerun_then_destroy(home)


@pytest.mark.parametrize("resource_type", AFTER_DELETE)
def test_a_kill_during_destroy_is_finished_by_a_rerun(homes: dict[str, Home], resource_type: str) -> None:
    home = homes["a"]
    assert home.run(*DEPLOY).returncode == 0
    deployment = deployment_id(home.state_file("aws", "staging"))

    killed = home.run(*DESTROY, env={"PROVISIONER_TEST_KILL_AFTER_DELETE": resource_type})

    assert killed.returncode == -signal.SIGKILL
    assert _assert_state_valid(home) is not None
    again = home.run(*DESTROY)
    assert again.returncode == 0, again.stderr
    assert resources_by_deployment()[deployment] == 0
    assert not home.state_file("aws", "staging").exists()


def test_ctrl_c_during_deploy_stops_cleanly_says_what_exists_and_what_to_run(homes: dict[str, Home]) -> None:
    home = homes["a"]
    process = home.start(*DEPLOY)
    _signal_when(home, process, lambda recorded: recorded >= 10, signal.SIGINT)
    _out, err = process.communicate(timeout=120)

    assert process.returncode == 130, err
    lines = err.strip().splitlines()
    assert re.fullmatch(r"interrupted: aws-staging has \d+ resource\(s\) in its state( and \d+ operation\(s\) whose result was not recorded)?", lines[-2])
    assert lines[-1] == (
        "next: rerun `deploy-stack aws --env staging --region eu-west-1 --simulate` to finish, "
        "or `destroy-stack aws --env staging --region eu-west-1 --simulate` to remove what exists"
    )
    assert "Traceback" not in err
    assert home.run("provisioner", "unlock", "aws", "--env", "staging", "--yes").stderr.strip().endswith("is not locked.")
    _rerun_then_destroy(home)


def test_ctrl_c_during_destroy_stops_cleanly_and_a_rerun_finishes(homes: dict[str, Home]) -> None:
    home = homes["a"]
    assert home.run(*DEPLOY).returncode == 0
    deployment = deployment_id(home.state_file("aws", "staging"))
    total = _recorded(home) or 0
    process = home.start(*DESTROY)
    _signal_when(home, process, lambda recorded: recorded <= total - 10, signal.SIGINT)
    _out, err = process.communicate(timeout=120)

    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "next: rerun `destroy-stack aws --env staging --region eu-west-1 --simulate` to finish removing it"
    again = home.run(*DESTROY)
    assert again.returncode == 0, again.stderr
    assert resources_by_deployment()[deployment] == 0


def test_a_kill_right_after_a_replacement_was_created_is_recovered_without_a_leak(homes: dict[str, Home]) -> None:
    """A new VPC CIDR replaces the VPC: kill -9 once the new VPC exists but before it is recorded. The old
    VPC carries the same ownership tags, so the rerun must find the half-made new one, not the old one."""
    import boto3

    home = homes["a"]
    assert home.run(*DEPLOY).returncode == 0
    move = ("--set", "network.cidr=10.50.0.0/16")

    killed = home.run(*DEPLOY, *move, env={"PROVISIONER_TEST_KILL_AFTER_CREATE": "aws:ec2/vpc:Vpc"})
    state = _assert_state_valid(home)
    assert killed.returncode == -signal.SIGKILL
    assert state is not None and "aws:ec2/vpc:Vpc" in [p.type for p in state.pending]
    rerun = home.run(*DEPLOY, *move)

    assert rerun.returncode == 0, rerun.stderr
    vpcs = boto3.client("ec2", region_name="eu-west-1").describe_vpcs(
        Filters=[{"Name": "tag:provisioner:deployment", "Values": [state.deployment_id or ""]}])["Vpcs"]
    assert [vpc["CidrBlock"] for vpc in vpcs] == ["10.50.0.0/16"]  # the old one replaced, the half-made one not leaked
    final = _assert_state_valid(home)
    assert final is not None and final.pending == [] and not any(r.key.endswith("::replaced") for r in final.resources)
