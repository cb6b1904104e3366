"""GCP connectors: no GCP emulator exists here, so only what needs no Google endpoint is tested.

That is: the clear refusal when google-auth is missing, a bad service-account key, and a token
request that cannot reach its endpoint failing as a report, fast, naming the service account.
"""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from provisioner.connectors import verify_connector
from provisioner.errors import InputError
from provisioner.registry.models import Connector, ResourceType

EMAIL = "pipelines@demo-project.iam.gserviceaccount.com"


def _connector(auth_method: str = "service-account") -> Connector:
    return Connector.model_construct(
        name="gcp-demo", type="gcp", auth_method=auth_method, configuration={},
        resource_types=[ResourceType.GCP_GENERIC, ResourceType.GCS_BUCKET],
    )


def _key_json(token_uri: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return json.dumps({
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "0123",
        "private_key": pem.decode(),
        "client_email": EMAIL,
        "token_uri": token_uri,
    })


def test_missing_google_auth_is_an_input_error_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth", None)  # import google.auth now raises ImportError

    with pytest.raises(InputError, match=r"install 'provisioner\[gcp\]'"):
        verify_connector(_connector(), {"project_id": "demo-project", "service_account_json": "{}"})


def test_a_service_account_key_that_is_not_one_is_an_input_error() -> None:
    pytest.importorskip("google.auth")

    with pytest.raises(InputError, match="service_account_json is not a service account key"):
        verify_connector(_connector(), {"project_id": "demo-project", "service_account_json": "not json"})


def test_a_token_endpoint_that_cannot_be_reached_fails_the_report_fast() -> None:
    pytest.importorskip("google.auth")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    started = time.monotonic()
    report = verify_connector(
        _connector(), {"project_id": "demo-project", "service_account_json": _key_json(f"http://127.0.0.1:{port}/token")}
    )

    assert time.monotonic() - started < 10
    assert report.ok is False and report.identity is None
    [check] = report.checks
    assert check.resource_type is ResourceType.GCP_GENERIC and check.resource_id == "demo-project"
    assert check.message.startswith(f"cannot authenticate to GCP as {EMAIL}: ")
