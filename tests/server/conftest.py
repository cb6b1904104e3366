"""A real registry server: `provisioner server start` (uvicorn) on 127.0.0.1, on SQLite or PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

BOOTSTRAP = "pvt_bootstrap-token-for-the-test-suite-0123456789"


@dataclass
class RunningServer:
    url: str
    admin_token: str
    store_url: str
    process: subprocess.Popen[bytes]

    def use(self, token: str) -> None:
        """Make this process's CLI a client of the server, with ``token``."""
        os.environ["PROVISIONER_URL"] = self.url
        os.environ["PROVISIONER_TOKEN"] = token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store_url: str, home: Path, *, bootstrap: str | None = BOOTSTRAP, port: int | None = None) -> RunningServer:
    """Start `provisioner server start` in its own process and wait until /health answers (30 s at most)."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PROVISIONER_URL", "PROVISIONER_TOKEN", "PROVISIONER_USER")}
    env.update(PROVISIONER_STORE_URL=store_url, PROVISIONER_HOME=str(home))
    if bootstrap:
        env["PROVISIONER_BOOTSTRAP_TOKEN"] = bootstrap
    log = open(home.parent / f"server-{port}.log", "wb")  # noqa: SIM115 - kept open for the process's life
    process = subprocess.Popen(
        [sys.executable, "-m", "provisioner.cli.main", "server", "start", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}: {(home.parent / f'server-{port}.log').read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return RunningServer(url=url, admin_token=bootstrap or "", store_url=store_url, process=process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not answer /health within 30 s")


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture()
def server(store_url: str, tmp_path: Path) -> Iterator[RunningServer]:
    """A fresh registry server on the test's store (SQLite file, then the real PostgreSQL)."""
    os.environ.pop("PROVISIONER_STORE_URL", None)  # the client must not need the database
    running = start_server(store_url, tmp_path / "server-home")
    try:
        yield running
    finally:
        stop_server(running)
