"""A real ZenML, in its own virtual environment (its dependencies clash with ours), for interop tests.

The environment is made once and kept in the user's cache folder (or PROVISIONER_TEST_ZENML_VENV),
so a second session starts at once. A half-made one (an install killed midway) lacks the marker
file and is made again. Each test gets its own ZenML configuration folder: no test sees another's
client state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ZENML_VERSION = "0.98.0"
VENV_ENV = "PROVISIONER_TEST_ZENML_VENV"
READY = ".provisioner-ready"


def _venv_path() -> Path:
    if os.environ.get(VENV_ENV):
        return Path(os.environ[VENV_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("provisioner-tests")) / f"zenml-{ZENML_VERSION}"


@pytest.fixture(scope="session")
def zenml_venv() -> Path:
    """The ZenML virtual environment's bin folder, made (pip install zenml[server]) if it isn't there yet."""
    venv = _venv_path()
    if not (venv / READY).exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"zenml[server]=={ZENML_VERSION}"],
                       check=True, timeout=900)
        (venv / READY).write_text(ZENML_VERSION)
    return venv / "bin"


@dataclass
class ZenML:
    """ZenML's CLI and Python client, with a configuration folder of the test's own."""

    bin: Path
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.bin / "zenml"), *args], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=timeout)
        if check:
            assert done.returncode == 0, f"zenml {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    def shell(self, script: Path) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "PATH": f"{self.bin}:{self.env['PATH']}"}
        done = subprocess.run(["sh", str(script)], env=env, cwd=self.cwd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def client(self, code: str) -> Any:
        """Run ``code`` with ZenML's Python client bound to ``client``; it sets ``result``, returned as JSON."""
        program = f"import json\nfrom zenml.client import Client\nclient = Client()\n{code}\nprint(json.dumps(result))\n"
        script = self.cwd / "zenml_client_call.py"  # a file: ZenML finds its source root from the main module's path
        script.write_text(program)
        done = subprocess.run([str(self.bin / "python"), str(script)], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


def zenml_environment(config: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZENML_", "PROVISIONER_"))}
    env.update({
        "ZENML_CONFIG_PATH": str(config),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_VERBOSITY": "WARN",
        "ZENML_ENABLE_RICH_TRACEBACK": "false",
        "AUTO_OPEN_DASHBOARD": "false",
    })
    return env


@pytest.fixture()
def zenml(zenml_venv: Path, tmp_path: Path) -> Iterator[ZenML]:
    """ZenML's client on a local SQLite store of this test's own (no server)."""
    work = tmp_path / "zenml-work"
    work.mkdir()
    yield ZenML(zenml_venv, zenml_environment(tmp_path / "zenml-config"), work)


@dataclass
class ZenMLServer:
    """A local ZenML server (`zenml login --local`), shared by the tests of one session."""

    url: str
    zenml: ZenML

    def rest(self) -> Any:
        import httpx

        return httpx.Client(base_url=f"{self.url}/api/v1", timeout=30)

    def names(self) -> dict[str, list[str]]:
        """Every stack, component, service connector and secret in the server, by kind (ZenML's defaults left out)."""
        found = {}
        with self.rest() as http:
            for kind in ("stacks", "components", "service_connectors", "secrets"):
                items = http.get(f"/{kind}", params={"size": 1000}).json()["items"]
                found[kind] = sorted(item["name"] for item in items if item["name"] != "default")
        return found

    def wipe(self) -> None:
        """Delete everything but ZenML's defaults, stacks first."""
        with self.rest() as http:
            for kind in ("stacks", "components", "service_connectors", "secrets"):
                for item in http.get(f"/{kind}", params={"size": 1000}).json()["items"]:
                    if item["name"] != "default":
                        http.delete(f"/{kind}/{item['id']}").raise_for_status()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def zenml_server(zenml_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZenMLServer]:
    """`zenml login --local` on a free port, once per session; `zenml logout --local` after."""
    base = tmp_path_factory.mktemp("zenml-server")
    work = base / "work"
    work.mkdir()
    client = ZenML(zenml_venv, zenml_environment(base / "config"), work)
    port = _free_port()
    client.run("login", "--local", "--port", str(port), timeout=300)
    try:
        yield ZenMLServer(f"http://127.0.0.1:{port}", client)
    finally:
        client.run("logout", "--local", check=False)


@pytest.fixture()
def zenml_clean(zenml_server: ZenMLServer) -> Iterator[ZenMLServer]:
    """The shared server, emptied before and after the test."""
    zenml_server.wipe()
    yield zenml_server
    zenml_server.wipe()
