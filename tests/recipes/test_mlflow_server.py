"""The MLflow the Kubernetes recipe renders, run for real: auth config, Flask key and credentials."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from provisioner.engine.simulated_state import SimulatedStateStore
from provisioner.registry.service import Registry
from provisioner.secrets import LocalFernetBackend
from recipes.kubernetes import defaults
from tests.helpers import cli, deploy_cli, registry_rows

REPO = Path(__file__).resolve().parents[2]
DEPLOY = ["kubernetes", "--env", "dev", "--context", "kind-test", "--simulate"]


def _state_resources(home: Path, stack: str = "dev") -> dict[str, dict[str, Any]]:
    """Each simulated resource's state (its rendered inputs), by logical name."""
    store = SimulatedStateStore(home / "simulated", LocalFernetBackend(home / "secrets.key"))
    state = store.load("provisioner-kubernetes", stack)
    assert state is not None
    return {r.name: store.unseal(r.sealed_state) for r in state.resources}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _start_server(command: list[str], env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    """Start MLflow in its own process group; the caller stops the whole group."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=(cwd / "server.log").open("wb")
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mlflow server exited: {(cwd / 'server.log').read_text()[-2000:]}")
        try:
            if _status(f"http://127.0.0.1:{port}/health") == 200:
                return process
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError("mlflow server did not become healthy within 120 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def test_rendered_mlflow_refuses_anonymous_users_and_accepts_the_registered_credentials(
    isolated_environ: Path, tmp_path: Path
) -> None:
    result = deploy_cli(*DEPLOY)
    assert result.exit_code == 0, result.stderr
    resources = _state_resources(isolated_environ)
    secret = resources["kubernetes-dev-mlflow-auth"]["stringData"]
    container = resources["kubernetes-dev-mlflow-server"]["spec"]["template"]["spec"]["containers"][0]

    # The pod's command and configuration, with only the address and the mount points moved to this machine.
    port = _free_port()
    command = list(container["command"])
    command[0] = str(Path(sys.executable).parent / "mlflow")
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    auth_file = tmp_path / "auth" / defaults.MLFLOW_AUTH_FILE
    auth_file.parent.mkdir()
    auth_file.write_text(secret[defaults.MLFLOW_AUTH_FILE])
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server_env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_file),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secret["flask-secret-key"],
        "MLFLOW_BACKEND_STORE_URI": secret["backend-store-uri"],
        "MLFLOW_ARTIFACTS_DESTINATION": str(tmp_path / "artifacts"),
    }
    assert {e["name"] for e in container["env"]} >= {"MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_FLASK_SERVER_SECRET_KEY"}
    server = _start_server(command, server_env, data_dir, port)
    try:
        url = f"http://127.0.0.1:{port}"
        assert _status(f"{url}/api/2.0/mlflow/experiments/search?max_results=1") == 401

        tracker = Registry.open().describe_component("kubernetes-dev-tracker", show_secrets=True).config
        os.environ["MLFLOW_TRACKING_USERNAME"] = tracker["tracking_username"]
        os.environ["MLFLOW_TRACKING_PASSWORD"] = tracker["tracking_password"]
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=url)
        experiment_id = client.create_experiment("provisioner-check")
        run = client.create_run(experiment_id)
        client.log_metric(run.info.run_id, "accuracy", 0.93)
        history = client.get_metric_history(run.info.run_id, "accuracy")
        assert [m.value for m in history] == [0.93]

        os.environ["MLFLOW_TRACKING_PASSWORD"] = "wrong-password"
        with pytest.raises(Exception, match="401|Unauthorized|credentials"):
            MlflowClient(tracking_uri=url).get_experiment(experiment_id)
    finally:
        _stop(server)


def _password(stack: str) -> str:
    return str(Registry.open().describe_component(f"{stack}-tracker", show_secrets=True).config["tracking_password"])


def test_generated_password_stays_out_of_rows_output_and_files(isolated_environ: Path) -> None:
    result = deploy_cli(*DEPLOY)
    assert result.exit_code == 0, result.stderr
    password = _password("kubernetes-dev")
    described = cli("stack", "describe", "kubernetes-dev", "--output", "json")

    assert password not in result.stdout + result.stderr
    assert password not in described.stdout + described.stderr
    assert password not in json.dumps(registry_rows(), default=str)
    for path in isolated_environ.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    shown = deploy_cli(*DEPLOY, "--output", "json", "--show-secrets")
    assert json.loads(shown.stdout)["outputs"]["mlflow_password"]["value"] == password
    assert cli("secret", "describe", "component-kubernetes-dev-tracker", "--show-secrets").stdout.count(password) == 1


def test_two_stacks_get_different_generated_passwords() -> None:
    for name in ("team-a", "team-b"):
        assert deploy_cli(*DEPLOY, "--name", name).exit_code == 0

    first, second = _password("team-a"), _password("team-b")

    assert first != second
    assert len(first) == len(second) == defaults.PASSWORD_LENGTH


def test_no_password_is_a_constant_in_the_code() -> None:
    literal = re.compile(r"""password["']?[ \t]*[=:][ \t]*["'][^"'\s{]{6,}["']""", re.IGNORECASE)
    assert literal.search('admin_password = "hunter2-secret"')  # the pattern does catch a constant
    for path in [*(REPO / "recipes").rglob("*.py"), *(REPO / "provisioner").rglob("*.py")]:
        assert not literal.search(path.read_text()), path
