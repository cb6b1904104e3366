"""make_backend: each name builds its backend; bad names and options are one-line input errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.errors import InputError
from provisioner.secret_backends import BACKENDS, make_backend
from provisioner.secret_backends.aws import AwsSecretsManagerBackend
from provisioner.secret_backends.gcp import GcpSecretManagerBackend
from provisioner.secrets import LocalFernetBackend


@pytest.mark.parametrize(
    ("name", "options", "cls"),
    [
        ("local", {}, LocalFernetBackend),
        ("aws-secrets-manager", {"region": "eu-west-1"}, AwsSecretsManagerBackend),
        ("gcp-secret-manager", {"project": "my-project"}, GcpSecretManagerBackend),
    ],
)
def test_every_backend_name_builds_its_class(name: str, options: dict[str, str], cls: type, tmp_path: Path) -> None:
    backend = make_backend(name, options, home=tmp_path)

    assert isinstance(backend, cls)
    assert backend.name == name


def test_backends_lists_every_name() -> None:
    assert BACKENDS == ("local", "aws-secrets-manager", "gcp-secret-manager")


def test_local_backend_keeps_its_key_in_home(tmp_path: Path) -> None:
    backend = make_backend("local", {}, home=tmp_path)

    assert backend.unseal("db", backend.seal("db", {"password": "x"})) == {"password": "x"}
    assert (tmp_path / "secrets.key").exists()


def test_options_reach_the_backends(tmp_path: Path) -> None:
    aws = make_backend(
        "aws-secrets-manager", {"region": "us-east-1", "prefix": "ml/", "kms_key_id": "alias/ml"}, home=tmp_path
    )
    gcp = make_backend("gcp-secret-manager", {"project": "p-1", "prefix": "ml_"}, home=tmp_path)

    assert isinstance(aws, AwsSecretsManagerBackend)
    assert (aws.region, aws.prefix, aws.kms_key_id) == ("us-east-1", "ml/", "alias/ml")
    assert aws.secret_id("db") == "ml/db"
    assert isinstance(gcp, GcpSecretManagerBackend)
    assert gcp.resource_name("db") == "projects/p-1/secrets/ml_db"


def test_defaults(tmp_path: Path) -> None:
    aws = make_backend("aws-secrets-manager", {"region": "eu-west-1"}, home=tmp_path)
    gcp = make_backend("gcp-secret-manager", {"project": "p"}, home=tmp_path)

    assert isinstance(aws, AwsSecretsManagerBackend) and isinstance(gcp, GcpSecretManagerBackend)
    assert (aws.prefix, aws.kms_key_id, gcp.prefix) == ("provisioner/", None, "provisioner-")


def test_unknown_backend_names_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        make_backend("vault", {}, home=tmp_path)

    message = str(caught.value)
    assert "unknown secret backend 'vault'" in message
    assert all(name in message for name in BACKENDS)
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "options", "expected"),
    [
        ("aws-secrets-manager", {}, "'aws-secrets-manager' needs option(s) region"),
        ("aws-secrets-manager", {"region": "  "}, "needs option(s) region"),
        ("gcp-secret-manager", {"prefix": "x-"}, "'gcp-secret-manager' needs option(s) project"),
        ("aws-secrets-manager", {"region": "eu-west-1", "regoin": "x"}, "unknown option(s) regoin"),
        ("gcp-secret-manager", {"project": "p", "region": "x"}, "(allowed: project, prefix)"),
        ("local", {"region": "x"}, "for secret backend 'local' (allowed: none)"),
        ("aws-secrets-manager", {"region": "eu-west-1", "prefix": "bad prefix"}, "invalid aws-secrets-manager prefix"),
        ("gcp-secret-manager", {"project": "p", "prefix": "bad/"}, "invalid gcp-secret-manager prefix"),
        ("gcp-secret-manager", {"project": "projects/p"}, "invalid gcp-secret-manager project"),
    ],
)
def test_bad_options_are_input_errors(name: str, options: dict[str, str], expected: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        make_backend(name, options, home=tmp_path)

    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
