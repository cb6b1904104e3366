"""One operation per stack, and a fresh registry that many processes can start using at once."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.scenarios.conftest import Home

pytestmark = pytest.mark.scenario
HOLDER = re.compile(r"^error: stack 'aws-dev' is locked: deploy by \S+ on \S+, pid \d+, since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; ")


def test_two_concurrent_deploys_of_one_stack_one_wins_and_the_other_names_the_holder(homes: dict[str, Home]) -> None:
    home = homes["a"]
    assert home.run("provisioner", "stack", "list").returncode == 0  # the registry exists; both runs race for the lock only
    first = home.start("deploy-stack", "aws", "--env", "dev", "--simulate")
    second = home.start("deploy-stack", "aws", "--env", "dev", "--simulate")
    results = [process.communicate(timeout=300) for process in (first, second)]

    codes = sorted(process.returncode for process in (first, second))
    assert codes == [0, 2]
    loser = [err for process, (_out, err) in zip((first, second), results) if process.returncode == 2][0]
    assert HOLDER.match(loser.strip().splitlines()[-1]), loser


def test_twenty_concurrent_commands_on_a_fresh_home_never_fail_internally(tmp_path: Path, plugin_site: Path, moto: str) -> None:
    home = Home(tmp_path / "fresh", moto, {"PYTHONPATH": str(plugin_site), "AWS_ENDPOINT_URL": ""})
    home.env.pop("AWS_ENDPOINT_URL")  # the demo recipe runs on in-process moto, one per process
    commands: list[tuple[str, ...]] = []
    for index in range(10):
        commands.append(("deploy-stack", "demo", "--env", "dev", "--name", f"demo-{index % 5}", "--simulate"))
        commands.append(("provisioner", "secret", "set", "--value-in-args", f"team-{index}", f"token=value-{index}"))
    started = time.monotonic()
    processes = [home.start(*command) for command in commands]
    outcomes = [(command, process.wait(timeout=600), process.stderr.read() if process.stderr else "") for command, process in zip(commands, processes)]

    failures = [(command, code, err) for command, code, err in outcomes if code not in (0, 2)]
    assert failures == []
    for command, code, err in outcomes:
        if code == 2:  # only the lock may refuse: two deploys of the same stack at once
            assert command[0] == "deploy-stack" and "is locked" in err, (command, err)
    assert time.monotonic() - started < 600
    listed = subprocess.run(home.command("provisioner", "secret", "list", "--output", "json"), env=home.env, capture_output=True, text=True)
    assert listed.returncode == 0
    names = {s["name"] for s in __import__("json").loads(listed.stdout)}
    assert {f"team-{i}" for i in range(10)} <= names
