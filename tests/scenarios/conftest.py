"""Scenario tests: real CLI processes (several homes) against one moto server in another process.

Marked ``scenario`` so they can run as their own step: ``pytest -m scenario``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_moto(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until the moto server answers (60 s at most); a server that exits or never answers is killed and raises."""
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def moto_process() -> Iterator[str]:
    """``moto_server`` in its own process on 127.0.0.1, as a user would run it for a persistent simulation."""
    port = _free_port()
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_moto(url, process)
    try:
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture()
def moto(moto_process: str) -> str:
    """The shared moto server, reset, with boto3 in this process pointed at it."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_process}/moto-api/reset", method="POST"), timeout=30).read()
    os.environ.update(
        {"AWS_ENDPOINT_URL": moto_process, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
         "AWS_DEFAULT_REGION": "eu-west-1"}
    )
    return moto_process


class Home:
    """One user's provisioner home, running the real console scripts in their own processes."""

    def __init__(self, path: Path, endpoint: str, extra_env: dict[str, str] | None = None) -> None:
        self.path = path
        self.env = {
            **os.environ, "PROVISIONER_HOME": str(path), "AWS_ENDPOINT_URL": endpoint, "COLUMNS": "200",
            **(extra_env or {}),
        }

    def command(self, program: str, *args: str) -> list[str]:
        return [str(BIN / program), *args]

    def run(self, program: str, *args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(program, *args), env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def start(self, program: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(program, *args), env={**self.env, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, stdin=subprocess.DEVNULL,
        )

    def state_file(self, recipe: str, env: str) -> Path:
        return self.path / "simulated" / f"provisioner-{recipe}" / f"{env}.json"


@pytest.fixture()
def homes(tmp_path: Path, moto: str) -> Iterator[dict[str, Home]]:
    yield {name: Home(tmp_path / f"home-{name}", moto) for name in ("a", "b")}
