"""Secrets kept in AWS Secrets Manager; the registry keeps only the secret's ARN."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from provisioner.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    OperationFailedError,
    PermissionDeniedError,
    ProvisionerError,
)

MANAGED_BY_TAG = ("managed-by", "provisioner")
NAME_CHARS = re.compile(r"^[A-Za-z0-9/_+=.@-]*$")
ARN = re.compile(r"^arn:[a-z0-9-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$")
_DENIED = {"AccessDenied", "AccessDeniedException", "KMSAccessDeniedException"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
}
_KMS = {"DecryptionFailure", "EncryptionFailure", "KMSDisabledException", "KMSInvalidStateException"}


class AwsSecretsManagerBackend:
    """Stores each registry secret as one Secrets Manager secret ``<prefix><name>`` holding JSON.

    The payload kept in the registry is the secret's ARN; the values never leave AWS except
    when unsealed.
    """

    name = "aws-secrets-manager"

    def __init__(
        self, region: str, *, prefix: str = "provisioner/", kms_key_id: str | None = None, client: Any = None
    ) -> None:
        if not region:
            raise InputError("the aws-secrets-manager backend needs a region")
        if not NAME_CHARS.fullmatch(prefix):
            raise InputError(f"invalid aws-secrets-manager prefix {prefix!r}: use letters, digits and /_+=.@-")
        self.region = region
        self.prefix = prefix
        self.kms_key_id = kms_key_id or None
        self._client = client
        self._lock = threading.Lock()

    def secret_id(self, secret_name: str) -> str:
        """The Secrets Manager name that holds registry secret ``secret_name``."""
        return f"{self.prefix}{secret_name}"

    def seal(self, secret_name: str, values: Mapping[str, str]) -> str:
        """Create the secret (or put a new value into it) and return its ARN."""
        body = json.dumps(dict(values), sort_keys=True)
        aws_name = self.secret_id(secret_name)
        with self._errors(secret_name):
            client = self._sm()
            create: dict[str, Any] = {
                "Name": aws_name,
                "SecretString": body,
                "Description": f"provisioner secret {secret_name!r}",
                "Tags": [{"Key": MANAGED_BY_TAG[0], "Value": MANAGED_BY_TAG[1]}],
            }
            if self.kms_key_id:
                create["KmsKeyId"] = self.kms_key_id
            try:
                return str(client.create_secret(**create)["ARN"])
            except Exception as exc:
                if _code(exc) != "ResourceExistsException":
                    raise
            described = client.describe_secret(SecretId=aws_name)
            tags = {tag["Key"]: tag["Value"] for tag in described.get("Tags") or []}
            if tags.get(MANAGED_BY_TAG[0]) != MANAGED_BY_TAG[1]:
                raise ConflictError(
                    f"AWS secret {aws_name!r} already exists and is not tagged "
                    f"{MANAGED_BY_TAG[0]}={MANAGED_BY_TAG[1]}: refusing to overwrite it"
                )
            arn = str(described["ARN"])
            client.put_secret_value(SecretId=arn, SecretString=body)
            return arn

    def unseal(self, secret_name: str, payload: str) -> dict[str, str]:
        """Read the current value of the secret at ARN ``payload``."""
        _check_arn(secret_name, payload)
        with self._errors(secret_name):
            response = self._sm().get_secret_value(SecretId=payload)
        text = response.get("SecretString")
        try:
            values = json.loads(text) if isinstance(text, str) else None
        except json.JSONDecodeError:
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise InputError(f"AWS secret {payload} behind {secret_name!r} does not hold a JSON object of strings")
        return {str(key): value for key, value in values.items()}

    def discard(self, secret_name: str, payload: str) -> None:
        """Delete the secret at ARN ``payload`` at once; a secret that is already gone is fine."""
        _check_arn(secret_name, payload)
        with self._errors(secret_name):
            try:
                # No recovery window: the registry row is the source of truth and is already
                # gone, and a 7-30 day window would keep the name reserved, so registering a
                # secret of the same name again would fail until the window ends.
                self._sm().delete_secret(SecretId=payload, ForceDeleteWithoutRecovery=True)
            except Exception as exc:
                if _code(exc) != "ResourceNotFoundException":
                    raise

    def _sm(self) -> Any:
        """The Secrets Manager client, created once (boto3 honours AWS_ENDPOINT_URL)."""
        with self._lock:  # the simulated engine seals from Pulumi's worker threads
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 3, "mode": "standard"})
                self._client = boto3.session.Session().client("secretsmanager", region_name=self.region, config=config)
            return self._client

    def _errors(self, secret_name: str) -> _AwsErrors:
        return _AwsErrors(secret_name, self.region)


class _AwsErrors:
    """Turns boto3/botocore failures into one-line provisioner errors."""

    def __init__(self, secret_name: str, region: str) -> None:
        self._secret_name = secret_name
        self._region = region

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, ProvisionerError) or not isinstance(exc, Exception):
            return False
        raise _translate(exc, self._secret_name, self._region) from exc


def _translate(exc: Exception, secret_name: str, region: str) -> ProvisionerError:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        InvalidRegionError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    where = f"secret {secret_name!r} in AWS Secrets Manager ({region})"
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return InputError(f"no usable AWS credentials for {where}: configure a profile or AWS_* variables")
    if isinstance(exc, InvalidRegionError):
        return InputError(f"invalid AWS region {region!r} for the aws-secrets-manager backend")
    if isinstance(exc, ClientError):
        code, message = _code(exc), _first_line(exc.response.get("Error", {}).get("Message", ""))
        if code in _DENIED:
            return PermissionDeniedError(f"access denied to {where}: {message}")
        if code in _BAD_CREDENTIALS:
            return InputError(f"AWS rejected the credentials used for {where}: {message}")
        if code == "ResourceNotFoundException":
            return NotFoundError(f"{where} does not exist (deleted outside provisioner?)")
        if code in _KMS:
            return InputError(f"the KMS key of {where} cannot be used: {message}")
        if code in {"InvalidRequestException", "InvalidParameterException", "ValidationException"}:
            return InputError(f"AWS refused {where}: {message}")
        return OperationFailedError(f"AWS Secrets Manager failed for {where}: {code}: {message}")
    if isinstance(exc, BotoCoreError):
        return OperationFailedError(f"AWS Secrets Manager failed for {where}: {_first_line(str(exc))}")
    return OperationFailedError(f"AWS Secrets Manager failed for {where}: {type(exc).__name__}: {_first_line(str(exc))}")


def _check_arn(secret_name: str, payload: str) -> None:
    if not ARN.fullmatch(payload):
        raise InputError(
            f"secret {secret_name!r} was not stored by the aws-secrets-manager backend (its payload is not an ARN)"
        )


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
