"""Measure provisioner's commands as whole processes: median wall time and peak memory.

Usage: python benchmarks/cli_speed.py [--runs 5] [--recipe aws] [--env staging]

Each command runs in a fresh PROVISIONER_HOME, ``--runs`` times; the report gives the median wall
time and the largest peak RSS. Targets: --help at most 0.25 s; a simulated deploy at most 5 s
and 400 MiB.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else (shutil.which(name) or name)


def measure(argv: list[str], runs: int) -> tuple[float, float, int]:
    """Median seconds, max peak RSS in MiB, and the last exit code of ``argv`` over ``runs`` runs."""
    times: list[float] = []
    peaks: list[float] = []
    code = 0
    for _ in range(runs):
        home = tempfile.mkdtemp(prefix="provisioner-bench-")
        env = {**os.environ, "PROVISIONER_HOME": home}
        env.pop("AWS_ENDPOINT_URL", None)
        start = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        code = os.waitstatus_to_exitcode(status)
        shutil.rmtree(home, ignore_errors=True)
    return statistics.median(times), max(peaks), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recipe", default="aws")
    parser.add_argument("--env", default="staging")
    options = parser.parse_args()

    cases = [
        ("deploy-stack --help", [_bin("deploy-stack"), "--help"], 0.25, None),
        ("provisioner --help", [_bin("provisioner"), "--help"], 0.25, None),
        (
            f"deploy-stack {options.recipe} --env {options.env} --simulate",
            [_bin("deploy-stack"), options.recipe, "--env", options.env, "--simulate"],
            5.0,
            400.0,
        ),
    ]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {options.runs} runs each")
    print(f"{'command':<48} {'median s':>9} {'target':>7} {'peak MiB':>9} {'target':>7} {'exit':>5}")
    for label, argv, time_target, memory_target in cases:
        seconds, peak, code = measure(argv, options.runs)
        memory = f"{memory_target:.0f}" if memory_target else "-"
        print(f"{label:<48} {seconds:>9.3f} {time_target:>7.2f} {peak:>9.1f} {memory:>7} {code:>5}")


if __name__ == "__main__":
    main()
