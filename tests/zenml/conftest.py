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
# ZenML's server, and its AWS integration's requirements (as `zenml integration install aws` would add them),
# so the server can verify a pushed AWS connector. One pip run, so ZenML's own pins hold.
REQUIREMENTS = (
    f"zenml[server]=={ZENML_VERSION}", "sagemaker>=2.237.3,<3.0.0", "kubernetes", "aws-profile-manager", "pytz>=2021.1",
)
VENV_ENV = "PROVISIONER_TEST_ZENML_VENV"
READY = ".provisioner-ready"  # written last, holding the requirements: a venv without it (or with others) is made again


def _venv_path() -> Path:
    if os.environ.get(VENV_ENV):
        return Path(os.environ[VENV_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("provisioner-tests")) / f"zenml-{ZENML_VERSION}"


@pytest.fixture(scope="session")
def zenml_venv() -> Path:
    """The ZenML virtual environment's bin folder, made (pip install zenml[server]) if it isn't there yet."""
    venv = _venv_path()
    wanted = "\n".join(REQUIREMENTS)
    if not (venv / READY).exists() or (venv / READY).read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True, timeout=1200)
        (venv / READY).write_text(wanted)
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
def zenml_server(zenml_venv: Path, moto_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZenMLServer]:
    """`zenml login --local` on a free port, once per session; `zenml logout --local` after.

    The server reaches AWS at the session's moto server, with implicit auth methods enabled, so it can
    verify an AWS connector that uses the server's own identity.
    """
    base = tmp_path_factory.mktemp("zenml-server")
    work = base / "work"
    work.mkdir()
    env = zenml_environment(base / "config")
    env.update({"AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "eu-west-1", "ZENML_ENABLE_IMPLICIT_AUTH_METHODS": "true"})
    client = ZenML(zenml_venv, env, work)
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


ADMIN_PASSWORD = "zenml-admin-Password-1"


@dataclass
class AuthServer:
    """A ZenML server with ZenML's OAuth2 password scheme (not a local one, which has no authentication)."""

    url: str
    api_key: str


@pytest.fixture(scope="session")
def zenml_auth_server(zenml_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    """ZenML's server app under uvicorn with OAUTH2_PASSWORD_BEARER, activated with an admin, and a service
    account's API key (ZENML_STORE_API_KEY's kind of credential)."""
    import time

    import httpx

    base = tmp_path_factory.mktemp("zenml-auth-server")
    env = zenml_environment(base / "config")
    env.update({
        "ZENML_STORE_URL": f"sqlite:///{base / 'zenml.db'}",
        "ZENML_SERVER_AUTH_SCHEME": "OAUTH2_PASSWORD_BEARER",
        "ZENML_SERVER_JWT_SECRET_KEY": "test-jwt-secret-0123456789abcdef",
        "ZENML_SERVER_DEPLOYMENT_TYPE": "other",
    })
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (base / "server.log").open("w")
    process = subprocess.Popen(
        [str(zenml_venv / "python"), "-m", "uvicorn", "zenml.zen_server.zen_server_api:app", "--host", "127.0.0.1",
         "--port", str(port)], env=env, cwd=base, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/api/v1/info", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the ZenML server did not start: {(base / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.5)
        with httpx.Client(base_url=f"{url}/api/v1", timeout=30) as http:
            http.put("/activate", json={"admin_username": "admin", "admin_password": ADMIN_PASSWORD}).raise_for_status()
            token = http.post("/login", data={"username": "admin", "password": ADMIN_PASSWORD}).json()["access_token"]
            http.headers["Authorization"] = f"Bearer {token}"
            account = http.post("/service_accounts", json={"name": "provisioner-ci", "active": True})
            account.raise_for_status()
            key = http.post(f"/service_accounts/{account.json()['id']}/api_keys", json={"name": "push"})
            key.raise_for_status()
        yield AuthServer(url, key.json()["body"]["key"])
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
