"""`provisioner simulate serve`: one persistent moto server, set up as the recipes need, shared by several stacks.

Real processes: the server, and deploy-stack / destroy-stack runs that eval its export lines.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scenarios.conftest import BIN, Home, _free_port, wait_for_moto

pytestmark = pytest.mark.scenario


def _exports(process: subprocess.Popen[str]) -> dict[str, str]:
    """The four export lines the server prints first."""
    values = {}
    assert process.stdout is not None
    while len(values) < 4:
        line = process.stdout.readline()
        assert line.startswith("export "), line
        key, _, value = line.removeprefix("export ").strip().partition("=")
        values[key] = value
    return values


@pytest.fixture()
def served() -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MOTO_IAM_LOAD_MANAGED_POLICIES"}
    process = subprocess.Popen([str(BIN / "provisioner"), "simulate", "serve", "--port", "0"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        yield _exports(process)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_two_aws_stacks_share_one_simulate_serve_server_and_deploy_and_destroy_cleanly(served: dict[str, str], tmp_path: Path) -> None:
    assert served["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert (served["AWS_ACCESS_KEY_ID"], served["AWS_SECRET_ACCESS_KEY"], served["AWS_DEFAULT_REGION"]) == ("testing", "testing", "eu-west-1")
    home = Home(tmp_path / "home", served["AWS_ENDPOINT_URL"], served)

    runs = [home.run("deploy-stack", "aws", "--env", "dev", "--simulate"),
            home.run("deploy-stack", "aws", "--env", "staging", "--simulate"),
            home.run("destroy-stack", "aws", "--env", "dev", "--simulate", "--yes"),
            home.run("destroy-stack", "aws", "--env", "staging", "--simulate", "--yes")]

    assert [r.returncode for r in runs] == [0, 0, 0, 0], [r.stderr[-600:] for r in runs]
    assert "Nothing of aws-dev is left" in runs[2].stdout + runs[2].stderr
    assert "Nothing of aws-staging is left" in runs[3].stdout + runs[3].stderr
    import boto3

    clients = {"endpoint_url": served["AWS_ENDPOINT_URL"], "region_name": "eu-west-1", "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing"}
    assert boto3.client("s3", **clients).list_buckets()["Buckets"] == []
    assert boto3.client("eks", **clients).list_clusters()["clusters"] == []


def test_a_plain_moto_server_without_managed_policies_is_refused_before_anything_is_created(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MOTO_IAM_LOAD_MANAGED_POLICIES"}
    plain = subprocess.Popen([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_moto(url, plain)
        home = Home(tmp_path / "home", url, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})

        refused = home.run("deploy-stack", "aws", "--env", "dev", "--simulate")

        assert refused.returncode == 2
        assert refused.stderr.strip().splitlines()[-1] == (
            f"error: the moto server at {url} has no AWS-managed policies, which the recipes attach: start it with "
            "MOTO_IAM_LOAD_MANAGED_POLICIES=true (moto_server), or use `provisioner simulate serve`; nothing was created"
        )
        import boto3

        s3 = boto3.client("s3", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        assert s3.list_buckets()["Buckets"] == []
        assert not home.state_file("aws", "dev").exists()
    finally:
        plain.kill()
        plain.wait(timeout=10)
