"""The AWS Secrets Manager backend against a moto server: round trip, updates, deletion, errors."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from provisioner.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from provisioner.secret_backends.aws import AwsSecretsManagerBackend

REGION = "eu-west-1"
ARN = re.compile(r"^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:provisioner/db-[A-Za-z0-9]{6}$")


def sm() -> Any:
    """A plain boto3 client on the same moto server, to look behind the backend's back."""
    return boto3.client("secretsmanager", region_name=REGION)


def test_secret_round_trips_through_secrets_manager(aws_endpoint: str) -> None:
    backend = AwsSecretsManagerBackend(REGION)
    values = {"user": "analyst-user", "password": "s3cr3t-value"}

    payload = backend.seal("db", values)

    assert ARN.match(payload), payload
    stored = sm().get_secret_value(SecretId="provisioner/db")
    assert stored["ARN"] == payload
    assert json.loads(stored["SecretString"]) == values
    assert {"Key": "managed-by", "Value": "provisioner"} in sm().describe_secret(SecretId=payload)["Tags"]
    assert backend.unseal("db", payload) == values
    assert not any(value in payload for value in values.values())


def test_reseal_updates_the_same_secret(aws_endpoint: str) -> None:
    backend = AwsSecretsManagerBackend(REGION)
    first = backend.seal("db", {"password": "old-value"})

    second = backend.seal("db", {"password": "new-value", "user": "ml"})

    assert second == first
    assert backend.unseal("db", second) == {"password": "new-value", "user": "ml"}
    assert len(sm().list_secrets()["SecretList"]) == 1
    assert "new-value" not in second


def test_discard_deletes_at_once_and_the_name_can_be_reused(aws_endpoint: str) -> None:
    backend = AwsSecretsManagerBackend(REGION)
    payload = backend.seal("db", {"password": "x"})

    backend.discard("db", payload)
    backend.discard("db", payload)  # already gone: no error

    with pytest.raises(sm().exceptions.ResourceNotFoundException):
        sm().describe_secret(SecretId=payload)
    with pytest.raises(NotFoundError, match="does not exist"):
        backend.unseal("db", payload)
    again = backend.seal("db", {"password": "y"})
    assert backend.unseal("db", again) == {"password": "y"}


def test_prefix_and_kms_key_are_used(aws_endpoint: str) -> None:
    key_id = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["KeyId"]
    backend = AwsSecretsManagerBackend(REGION, prefix="team/ml/", kms_key_id=key_id)

    payload = backend.seal("slack", {"token": "xoxb-1"})

    described = sm().describe_secret(SecretId=payload)
    assert described["Name"] == "team/ml/slack"
    assert described["KmsKeyId"] == key_id


def test_a_foreign_secret_of_the_same_name_is_not_overwritten(aws_endpoint: str) -> None:
    sm().create_secret(Name="provisioner/db", SecretString='{"password": "theirs"}')

    with pytest.raises(ConflictError, match="not tagged managed-by=provisioner"):
        AwsSecretsManagerBackend(REGION).seal("db", {"password": "ours"})

    assert sm().get_secret_value(SecretId="provisioner/db")["SecretString"] == '{"password": "theirs"}'


def test_a_payload_that_is_not_an_arn_is_refused(aws_endpoint: str) -> None:
    with pytest.raises(InputError, match="not an ARN"):
        AwsSecretsManagerBackend(REGION).unseal("db", "gAAAAABfernet-ciphertext")


def test_missing_credentials_are_an_input_error(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(InputError, match="no usable AWS credentials") as caught:
        AwsSecretsManagerBackend(REGION).seal("db", {"password": "x"})

    assert "\n" not in str(caught.value)


def test_access_denied_is_a_one_line_permission_error(aws_endpoint: str) -> None:
    client = sm()
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_secret_value",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: GetSecretValue\nmore",
        http_status_code=400,
    )
    backend = AwsSecretsManagerBackend(REGION, client=client)

    with stubber, pytest.raises(PermissionDeniedError, match="access denied to secret 'db'") as caught:
        backend.unseal("db", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:provisioner/db-AbCdEf")

    assert isinstance(caught.value, InputError)
    assert "\n" not in str(caught.value)
