"""The Google Secret Manager backend, against an in-memory fake of ``SecretManagerServiceClient``.

The fake takes the same dict requests as the real client (``request={...}``, plus ``timeout``),
answers with objects carrying the same attributes the backend reads (``.name``, ``.labels``,
``.payload.data``), checks what the real API checks for these calls (secret id charset,
replication given, bytes payload of at most 64 KiB, ``latest`` or a number as version) and
raises errors named like ``google.api_core.exceptions``.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from provisioner.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from provisioner.secret_backends.gcp import GcpSecretManagerBackend, sanitize_secret_id

PROJECT = "ml-platform"


class GoogleAPICallError(Exception):
    """Stands for ``google.api_core.exceptions.GoogleAPICallError`` (has ``.message``)."""

    code = 500

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.code} {message}")
        self.message = message


class NotFound(GoogleAPICallError):
    code = 404


class AlreadyExists(GoogleAPICallError):
    code = 409


class InvalidArgument(GoogleAPICallError):
    code = 400


class PermissionDenied(GoogleAPICallError):
    code = 403


class DefaultCredentialsError(Exception):
    """Stands for ``google.auth.exceptions.DefaultCredentialsError``."""


@dataclass
class FakeSecret:
    name: str
    labels: dict[str, str]
    versions: list[bytes] = field(default_factory=list)


class FakeSecretManagerClient:
    """The five ``SecretManagerServiceClient`` methods the backend calls, kept in memory."""

    SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
    MAX_PAYLOAD = 65536

    def __init__(self, *, denied: bool = False) -> None:
        self.secrets: dict[str, FakeSecret] = {}
        self.denied = denied

    def create_secret(self, request: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        self._check_access()
        parent, secret_id, secret = request["parent"], request["secret_id"], request["secret"]
        if not re.fullmatch(r"projects/[^/]+", parent):
            raise InvalidArgument(f"invalid parent {parent!r}")
        if not self.SECRET_ID.match(secret_id):
            raise InvalidArgument(f"invalid secret id {secret_id!r}")
        if "replication" not in secret:
            raise InvalidArgument("Secret.replication is required")
        name = f"{parent}/secrets/{secret_id}"
        if name in self.secrets:
            raise AlreadyExists(f"Secret [{name}] already exists.")
        self.secrets[name] = FakeSecret(name=name, labels=dict(secret.get("labels") or {}))
        return types.SimpleNamespace(name=name, labels=dict(self.secrets[name].labels))

    def get_secret(self, request: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        secret = self._secret(request["name"])
        return types.SimpleNamespace(name=secret.name, labels=dict(secret.labels))

    def add_secret_version(self, request: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        secret = self._secret(request["parent"])
        data = request["payload"]["data"]
        if not isinstance(data, bytes):
            raise TypeError(f"payload.data must be bytes, not {type(data).__name__}")
        if len(data) > self.MAX_PAYLOAD:
            raise InvalidArgument("Secret payload data cannot be larger than 65536 bytes")
        secret.versions.append(data)
        return types.SimpleNamespace(name=f"{secret.name}/versions/{len(secret.versions)}")

    def access_secret_version(self, request: Mapping[str, Any], *, timeout: float | None = None) -> Any:
        secret_name, _, version = request["name"].rpartition("/versions/")
        secret = self._secret(secret_name)
        number = len(secret.versions) if version == "latest" else int(version)
        if not 1 <= number <= len(secret.versions):
            raise NotFound(f"Secret Version [{request['name']}] not found.")
        return types.SimpleNamespace(
            name=f"{secret.name}/versions/{number}",
            payload=types.SimpleNamespace(data=secret.versions[number - 1]),
        )

    def delete_secret(self, request: Mapping[str, Any], *, timeout: float | None = None) -> None:
        self._secret(request["name"])
        del self.secrets[request["name"]]

    def _secret(self, name: str) -> FakeSecret:
        self._check_access()
        if name not in self.secrets:
            raise NotFound(f"Secret [{name}] not found or has no versions.")
        return self.secrets[name]

    def _check_access(self) -> None:
        if self.denied:
            raise PermissionDenied("Permission 'secretmanager.secrets.create' denied for resource (or it may not exist).")


@pytest.fixture()
def client() -> FakeSecretManagerClient:
    return FakeSecretManagerClient()


def test_secret_round_trips(client: FakeSecretManagerClient) -> None:
    backend = GcpSecretManagerBackend(PROJECT, client=client)
    values = {"user": "analyst-user", "password": "s3cr3t-value"}

    payload = backend.seal("db", values)

    assert payload == f"projects/{PROJECT}/secrets/provisioner-db"
    assert client.secrets[payload].labels == {"managed-by": "provisioner"}
    assert json.loads(client.secrets[payload].versions[-1]) == values
    assert backend.unseal("db", payload) == values
    assert not any(value in payload for value in values.values())


def test_reseal_adds_a_version_and_unseal_reads_the_latest(client: FakeSecretManagerClient) -> None:
    backend = GcpSecretManagerBackend(PROJECT, client=client)
    first = backend.seal("db", {"password": "old-value"})

    second = backend.seal("db", {"password": "new-value"})

    assert second == first
    assert len(client.secrets) == 1
    assert len(client.secrets[second].versions) == 2
    assert backend.unseal("db", second) == {"password": "new-value"}


def test_discard_deletes_the_secret(client: FakeSecretManagerClient) -> None:
    backend = GcpSecretManagerBackend(PROJECT, client=client)
    payload = backend.seal("db", {"password": "x"})

    backend.discard("db", payload)
    backend.discard("db", payload)  # already gone: no error

    assert client.secrets == {}
    with pytest.raises(NotFoundError, match="does not exist"):
        backend.unseal("db", payload)


def test_secret_ids_are_sanitised_without_collisions(client: FakeSecretManagerClient) -> None:
    backend = GcpSecretManagerBackend(PROJECT, prefix="team_ml-", client=client)

    kept = backend.seal("my_db", {"k": "1"})
    dotted = backend.seal("my.db", {"k": "2"})
    dashed = backend.seal("my-db", {"k": "3"})

    assert kept == f"projects/{PROJECT}/secrets/team_ml-my_db"  # '_' is allowed in secret ids
    assert re.fullmatch(rf"projects/{PROJECT}/secrets/team_ml-my-db-[0-9a-f]{{8}}", dotted)
    assert dashed == f"projects/{PROJECT}/secrets/team_ml-my-db"
    assert [backend.unseal(n, p) for n, p in [("my_db", kept), ("my.db", dotted), ("my-db", dashed)]] == [
        {"k": "1"},
        {"k": "2"},
        {"k": "3"},
    ]
    long_id = sanitize_secret_id("provisioner-", "x" * 300)
    assert len(long_id) == 255 and long_id != sanitize_secret_id("provisioner-", "x" * 301)


def test_a_foreign_secret_of_the_same_name_is_not_overwritten(client: FakeSecretManagerClient) -> None:
    client.create_secret(
        request={"parent": f"projects/{PROJECT}", "secret_id": "provisioner-db", "secret": {"replication": {"automatic": {}}}}
    )

    with pytest.raises(ConflictError, match="not labelled managed-by=provisioner"):
        GcpSecretManagerBackend(PROJECT, client=client).seal("db", {"password": "ours"})

    assert client.secrets[f"projects/{PROJECT}/secrets/provisioner-db"].versions == []


def test_a_payload_that_is_not_a_resource_name_is_refused(client: FakeSecretManagerClient) -> None:
    with pytest.raises(InputError, match="projects/P/secrets/S"):
        GcpSecretManagerBackend(PROJECT, client=client).unseal("db", "arn:aws:secretsmanager:eu-west-1:1:secret:x")


def test_permission_denied_is_a_one_line_permission_error() -> None:
    backend = GcpSecretManagerBackend(PROJECT, client=FakeSecretManagerClient(denied=True))

    with pytest.raises(PermissionDeniedError, match="access denied to secret 'db'") as caught:
        backend.seal("db", {"password": "x"})

    assert "\n" not in str(caught.value)


def test_without_the_library_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.secretmanager", None)  # makes the import fail

    with pytest.raises(InputError, match=re.escape("pip install 'provisioner[gcp]'")):
        GcpSecretManagerBackend(PROJECT).seal("db", {"password": "x"})


def test_missing_credentials_are_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_credentials() -> Any:
        raise DefaultCredentialsError("Your default credentials were not found.")

    library = types.ModuleType("google.cloud.secretmanager")
    library.SecretManagerServiceClient = no_credentials  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "google.cloud.secretmanager", library)

    with pytest.raises(InputError, match="no usable Google credentials"):
        GcpSecretManagerBackend(PROJECT).unseal("db", f"projects/{PROJECT}/secrets/provisioner-db")
