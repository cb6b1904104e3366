"""Kubernetes connectors against a kmock API emulator: verify, list-resources, and bounded failures.

kmock does not check credentials, so a wrong token cannot be refused here; instead the tests check
that the connector's token really reaches the server as ``Authorization: Bearer ...``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import yaml

from provisioner.connectors import kubernetes as kube_connector
from provisioner.registry.models import Connector, ResourceType
from tests.helpers import cli, cli_json
from tests.teardown.kmock_server import KubeEmulatorServer
from tests.teardown.kube_objects import core_for, namespace

TOKEN = "kube-token-0123456789"


@pytest.fixture()
def kube() -> Iterator[KubeEmulatorServer]:
    """A fresh kmock emulator with namespaces default, kube-system and ml-pipelines."""
    with KubeEmulatorServer() as server:
        namespace(core_for(server.url), "ml-pipelines")
        yield server


def _kubeconfig(server: str, context: str = "emulator") -> str:
    return yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emu", "cluster": {"server": server}}],
        "users": [{"name": "robot", "user": {"token": TOKEN}}],
        "contexts": [{"name": context, "context": {"cluster": "emu", "user": "robot"}}],
        "current-context": context,
    })


def _register_token(name: str, server: str) -> None:
    result = cli("connector", "register", name, "-t", "kubernetes", "-a", "token",
                 "-c", f"server={server}", "--value-in-args", "-c", f"token={TOKEN}")
    assert result.exit_code == 0, result.stderr


def _bearer_headers(kube: KubeEmulatorServer) -> set[str | None]:
    """The Authorization headers of the requests kmock logged (/version; namespaces are served outside its log)."""
    assert kube.emulator is not None
    return {request.headers.get("Authorization") for request in kube.emulator}


def test_token_connector_verifies_and_lists_namespaces(kube: KubeEmulatorServer) -> None:
    _register_token("emu-token", kube.url)

    result = cli("connector", "verify", "emu-token", "--output", "json")
    listed = cli_json("connector", "list-resources", "emu-token")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    [check] = report["checks"]
    assert check == {
        "resource_type": "kubernetes-cluster",
        "resource_id": kube.url,
        "reachable": True,
        "message": f"Kubernetes v1.26.4+k3s1 at {kube.url}; can list namespaces (3)",
    }
    assert listed["resources"] == {"kubernetes-cluster": [kube.url]}
    assert listed["namespaces"] == {kube.url: ["default", "kube-system", "ml-pipelines"]}
    assert _bearer_headers(kube) == {f"Bearer {TOKEN}"}


def test_kubeconfig_connector_verifies_with_its_context(kube: KubeEmulatorServer) -> None:
    result = cli("connector", "register", "emu-kubeconfig", "-t", "kubernetes", "-a", "kubeconfig",
                 "--value-in-args", "-c", f"kubeconfig={_kubeconfig(kube.url)}", "-c", "context=emulator")
    assert result.exit_code == 0, result.stderr

    verified = cli("connector", "verify", "emu-kubeconfig")
    listed = cli_json("connector", "list-resources", "emu-kubeconfig")

    assert verified.exit_code == 0, verified.stderr
    assert "emulator" in verified.stdout and "yes" in verified.stdout
    assert listed["resources"] == {"kubernetes-cluster": ["emulator"]}
    assert listed["namespaces"] == {"emulator": ["default", "kube-system", "ml-pipelines"]}
    assert _bearer_headers(kube) == {f"Bearer {TOKEN}"}
    # The kubeconfig's token went to the secret store, not into the connector row.
    described = cli_json("connector", "describe", "emu-kubeconfig")
    assert described["configuration"]["kubeconfig"] == "{{secret:connector-emu-kubeconfig.kubeconfig}}"


def test_unreachable_server_fails_fast_with_a_clear_message(closed_port: int) -> None:
    server = f"http://127.0.0.1:{closed_port}"
    _register_token("gone", server)

    started = time.monotonic()
    result = cli("connector", "verify", "gone", "--output", "json")
    elapsed = time.monotonic() - started

    assert result.exit_code == 1
    assert elapsed < 5
    [check] = json.loads(result.stdout)["checks"]
    assert check["reachable"] is False
    assert check["message"].startswith(f"cannot reach the Kubernetes API of {server}: ")
    assert "refused" in check["message"].lower()
    assert f"error: connector 'gone' cannot reach kubernetes-cluster {server}" in result.stderr

    listed = cli("connector", "list-resources", "gone")
    assert listed.exit_code == 1
    assert f"cannot list namespaces of {server}" in listed.stderr


def test_a_server_that_never_answers_fails_within_the_read_timeout(silent_port: int) -> None:
    connector = Connector.model_construct(
        name="silent", type="kubernetes", auth_method="token",
        resource_types=[ResourceType.KUBERNETES_CLUSTER], configuration={},
    )
    config = {"server": f"http://127.0.0.1:{silent_port}", "token": TOKEN, "certificate_authority": "", "insecure": False}

    started = time.monotonic()
    report = kube_connector.KubernetesConnectorType().verify(connector, config, connect_timeout_s=1, read_timeout_s=1)
    elapsed = time.monotonic() - started

    assert elapsed < 4
    assert report.ok is False
    assert "timed out" in report.checks[0].message.lower()


def test_kubernetes_connectors_issue_no_credentials_and_reject_a_foreign_cluster(kube: KubeEmulatorServer) -> None:
    _register_token("emu-token", kube.url)

    credentials = cli("connector", "credentials", "emu-token", "--resource-id", kube.url)
    other = cli("connector", "verify", "emu-token", "--resource-id", "https://elsewhere.example:6443")

    assert credentials.exit_code == 2
    assert "only AWS iam-role connectors issue scoped credentials" in credentials.stderr
    assert other.exit_code == 2
    assert f"reaches only cluster '{kube.url}'" in other.stderr


def test_kubernetes_connectors_take_any_resource_id_as_a_cluster_name() -> None:
    _register_token("remote", "https://k8s.example:6443")

    result = cli("connector", "verify", "remote", "--resource-id", "s3://a-bucket")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: connector 'remote' reaches only cluster 'https://k8s.example:6443', not 's3://a-bucket'\n"
    )


def test_a_broken_kubeconfig_is_an_input_error() -> None:
    result = cli("connector", "register", "broken", "-t", "kubernetes", "-a", "kubeconfig",
                 "--value-in-args", "-c", "kubeconfig=apiVersion: v1\nclusters: []\ncontexts: []\nusers: []\n", "-c", "context=nope")
    assert result.exit_code == 0, result.stderr

    verified = cli("connector", "verify", "broken")

    assert verified.exit_code == 2
    assert "connector 'broken': cannot load the kubeconfig" in verified.stderr


def test_a_certificate_authority_is_written_for_the_client_and_removed_after(kube: KubeEmulatorServer) -> None:
    import base64
    import os

    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    connector = Connector.model_construct(
        name="ca", type="kubernetes", auth_method="token",
        resource_types=[ResourceType.KUBERNETES_CLUSTER], configuration={},
    )
    config = {"server": kube.url, "token": TOKEN, "certificate_authority": base64.b64encode(pem.encode()).decode(), "insecure": False}

    with kube_connector.api_client_for(connector, config) as api:
        ca_file = api.configuration.ssl_ca_cert
        with open(ca_file) as handle:
            assert handle.read().strip() == pem
    assert not os.path.exists(ca_file)
