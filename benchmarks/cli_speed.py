"""Each command against its floor, as whole processes in the same run: medians, ratios, peak memory.

Usage: python benchmarks/cli_speed.py [--runs 7] [--only help|deploy|warm]

``--only warm`` times the deploy's own work instead: in one process, after a first deploy has imported
and started everything, the median of further deploys (each in a fresh home, in-process moto).

Runs alternate (floor, command, floor, command, ...) so both see the same machine state; each
command runs in a fresh PROVISIONER_HOME, with in-process moto (AWS_ENDPOINT_URL is unset) except in
the last row, which points the deploy at a running ``provisioner simulate serve`` (warmed by one
deploy first; each run deploys a stack of its own name, as users sharing one server do). The floors:
  - help: ``python -c "import typer, pydantic"`` (what any typer + pydantic CLI pays to start);
  - deploy: importing what a simulated AWS deploy cannot avoid: pulumi, the pulumi_aws and
    pulumi_kubernetes modules the aws recipe uses, moto and boto3.
Goals (issue 17): --help at most 1.3 x its floor; the simulated aws staging deploy at most 2 x its
floor and 250 MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY_FLOOR = (
    "import pulumi, boto3, moto; "
    "import pulumi_aws.ec2, pulumi_aws.eks, pulumi_aws.iam, pulumi_aws.s3, pulumi_aws.rds, pulumi_aws.ecr, "
    "pulumi_aws.cloudwatch, pulumi_aws.codebuild, pulumi_aws.vpc; "
    "import pulumi_kubernetes.core.v1, pulumi_kubernetes.apps.v1, pulumi_kubernetes.rbac.v1, pulumi_kubernetes.storage.v1"
)
# The same, plus the moto backends the deploy talks to: moto imports each backend on its first request.
DEPLOY_FLOOR_WITH_BACKENDS = DEPLOY_FLOOR + (
    "; import moto.ec2.models, moto.iam.models, moto.s3.models, moto.eks.models, moto.rds.models, moto.ecr.models, "
    "moto.logs.models, moto.sts.models"
)
HELP_FLOOR = "import typer, pydantic"


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


@dataclass
class Series:
    times: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    code: int = 0


def run_once(argv: list[str], series: Series, endpoint: str | None = None) -> None:
    home = tempfile.mkdtemp(prefix="provisioner-bench-")
    env = {**os.environ, "PROVISIONER_HOME": home, "PROVISIONER_USER": "bench"}
    env.pop("AWS_ENDPOINT_URL", None)
    if endpoint:
        env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    series.times.append(time.perf_counter() - start)
    series.peaks.append(usage.ru_maxrss / 1024)  # KiB on Linux
    series.code = os.waitstatus_to_exitcode(status)
    shutil.rmtree(home, ignore_errors=True)


def compare(label: str, command: list[str], floor: list[str], runs: int, goal: float, endpoint: str | None = None) -> str:
    """With ``endpoint`` (a shared moto server), each run deploys a stack of its own name, as users sharing one would."""

    def named(run: int) -> list[str]:
        return [*command, "--name", f"bench-{run}"] if endpoint else command

    mine, base = Series(), Series()
    run_once(floor, Series())  # warm the page cache for both (and the server's backends)
    run_once(named(0), Series(), endpoint)
    for run in range(1, runs + 1):
        run_once(floor, base)
        run_once(named(run), mine, endpoint)
    median, floor_median = statistics.median(mine.times), statistics.median(base.times)
    ratio = median / floor_median
    verdict = "ok" if ratio <= goal else "OVER"
    status = "" if mine.code == 0 else f"  (exit {mine.code})"
    return (f"| {label} | {median:.2f} s | {floor_median:.2f} s | {ratio:.2f} x (goal {goal} x) {verdict} | "
            f"{max(mine.peaks):.0f} MiB |{status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", choices=["help", "deploy", "warm"])
    options = parser.parse_args()
    python = sys.executable
    if options.only == "warm":
        print(warm_deploys(options.runs))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{options.runs} alternating runs each, medians")
    print("| command | median | floor | ratio | peak memory |")
    print("| --- | --- | --- | --- | --- |")
    if options.only in (None, "help"):
        for argv in ([_bin("provisioner"), "--help"], [_bin("deploy-stack"), "--help"]):
            print(compare(f"`{Path(argv[0]).name} --help`", argv, [python, "-c", HELP_FLOOR], options.runs, 1.3))
    if options.only in (None, "deploy"):
        argv = [_bin("deploy-stack"), "aws", "--env", "staging", "--simulate"]
        print(compare("`deploy-stack aws --env staging --simulate`", argv, [python, "-c", DEPLOY_FLOOR],
                      max(3, options.runs // 2), 2.0))
        print(compare("the same, against a floor with moto's backends", argv, [python, "-c", DEPLOY_FLOOR_WITH_BACKENDS],
                      max(3, options.runs // 2), 2.0))
        with simulate_server() as endpoint:
            print(compare("the same, against a running `provisioner simulate serve`", argv, [python, "-c", DEPLOY_FLOOR],
                          max(3, options.runs // 2), 2.0, endpoint))


def warm_deploys(runs: int) -> str:
    """The median of ``runs`` simulated aws-staging deploys in this process, after one that warms it up."""
    from typer.testing import CliRunner

    from provisioner.cli.deploy import deploy_app

    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ["PROVISIONER_USER"] = "bench"
    times: list[float] = []
    for run in range(runs + 1):
        os.environ["PROVISIONER_HOME"] = tempfile.mkdtemp(prefix="provisioner-bench-")
        start = time.perf_counter()
        result = CliRunner().invoke(deploy_app, ["aws", "--env", "staging", "--simulate"])
        if result.exit_code != 0:
            return f"deploy {run} failed (exit {result.exit_code}): {result.stderr.strip().splitlines()[-1:]}"
        if run:
            times.append(time.perf_counter() - start)
    return f"a simulated aws-staging deploy with everything imported and started: median {statistics.median(times):.2f} s of {runs}"


@contextlib.contextmanager
def simulate_server() -> Iterator[str]:
    """A ``provisioner simulate serve`` on a free port, for the rows that use one; stopped afterwards."""
    server = subprocess.Popen([_bin("provisioner"), "simulate", "serve", "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()  # export AWS_ENDPOINT_URL=http://127.0.0.1:PORT
        yield first.partition("=")[2]
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
