"""Secrets kept in Google Secret Manager; the registry keeps only the secret's resource name."""

from __future__ import annotations

import hashlib
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

MANAGED_BY_LABEL = ("managed-by", "provisioner")
SECRET_ID_MAX = 255
_SECRET_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")  # Secret Manager allows [A-Za-z0-9_-]{1,255}
_RESOURCE = re.compile(r"^projects/[^/\s]+/secrets/[A-Za-z0-9_-]{1,255}$")
_TIMEOUT = 15.0
INSTALL_HINT = "pip install 'provisioner[gcp]'"


def sanitize_secret_id(prefix: str, secret_name: str) -> str:
    """``<prefix><secret_name>`` as a valid Secret Manager id.

    Characters outside ``[A-Za-z0-9_-]`` become ``-``; when anything had to change (or the id
    is too long) a short hash of the original name is appended, so two different names never
    share one secret.
    """
    cleaned = _SECRET_ID_CHARS.sub("-", secret_name)
    secret_id = prefix + cleaned
    if cleaned == secret_name and len(secret_id) <= SECRET_ID_MAX:
        return secret_id
    digest = hashlib.sha256(secret_name.encode()).hexdigest()[:8]
    return f"{secret_id[: SECRET_ID_MAX - 9]}-{digest}"


class GcpSecretManagerBackend:
    """Stores each registry secret as one Secret Manager secret, a new version per seal.

    The payload kept in the registry is the resource name ``projects/PROJECT/secrets/ID``;
    the values are JSON in the latest version.
    """

    name = "gcp-secret-manager"

    def __init__(self, project: str, *, prefix: str = "provisioner-", client: Any = None) -> None:
        if not project or re.search(r"[/\s]", project):
            raise InputError(f"invalid gcp-secret-manager project {project!r}: give a project id like 'my-project'")
        if _SECRET_ID_CHARS.search(prefix) or len(prefix) > SECRET_ID_MAX - 20:
            raise InputError(f"invalid gcp-secret-manager prefix {prefix!r}: use letters, digits, _ and -")
        self.project = project
        self.prefix = prefix
        self._client = client
        self._lock = threading.Lock()

    def resource_name(self, secret_name: str) -> str:
        """The resource name of the Secret Manager secret that holds ``secret_name``."""
        return f"projects/{self.project}/secrets/{sanitize_secret_id(self.prefix, secret_name)}"

    def seal(self, secret_name: str, values: Mapping[str, str]) -> str:
        """Create the secret if needed, add a version holding the values, return its resource name."""
        data = json.dumps(dict(values), sort_keys=True).encode()
        resource = self.resource_name(secret_name)
        with _GcpErrors(secret_name, self.project):
            client = self._sm()
            try:
                client.create_secret(
                    request={
                        "parent": f"projects/{self.project}",
                        "secret_id": resource.rsplit("/", 1)[1],
                        "secret": {
                            "replication": {"automatic": {}},
                            "labels": {MANAGED_BY_LABEL[0]: MANAGED_BY_LABEL[1]},
                        },
                    },
                    timeout=_TIMEOUT,
                )
            except Exception as exc:
                if "AlreadyExists" not in _kinds(exc):
                    raise
                existing = client.get_secret(request={"name": resource}, timeout=_TIMEOUT)
                if dict(existing.labels).get(MANAGED_BY_LABEL[0]) != MANAGED_BY_LABEL[1]:
                    raise ConflictError(
                        f"GCP secret {resource!r} already exists and is not labelled "
                        f"{MANAGED_BY_LABEL[0]}={MANAGED_BY_LABEL[1]}: refusing to overwrite it"
                    ) from None
            client.add_secret_version(request={"parent": resource, "payload": {"data": data}}, timeout=_TIMEOUT)
        return resource

    def unseal(self, secret_name: str, payload: str) -> dict[str, str]:
        """Read the latest version of the secret ``payload`` names."""
        _check_resource(secret_name, payload)
        with _GcpErrors(secret_name, self.project):
            response = self._sm().access_secret_version(
                request={"name": f"{payload}/versions/latest"}, timeout=_TIMEOUT
            )
        try:
            values = json.loads(response.payload.data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            values = None
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise InputError(f"GCP secret {payload} behind {secret_name!r} does not hold a JSON object of strings")
        return {str(key): value for key, value in values.items()}

    def discard(self, secret_name: str, payload: str) -> None:
        """Delete the secret and all its versions; a secret that is already gone is fine."""
        _check_resource(secret_name, payload)
        with _GcpErrors(secret_name, self.project):
            try:
                self._sm().delete_secret(request={"name": payload}, timeout=_TIMEOUT)
            except Exception as exc:
                if "NotFound" not in _kinds(exc):
                    raise

    def _sm(self) -> Any:
        """The Secret Manager client, created once from Application Default Credentials."""
        with self._lock:
            if self._client is None:
                try:
                    from google.cloud import secretmanager
                except ImportError as exc:
                    raise InputError(
                        f"the gcp-secret-manager backend needs google-cloud-secret-manager: {INSTALL_HINT}"
                    ) from exc
                self._client = secretmanager.SecretManagerServiceClient()
            return self._client


class _GcpErrors:
    """Turns google-api-core / google-auth failures into one-line provisioner errors.

    Errors are recognised by class name (``NotFound``, ``PermissionDenied``...) so that this
    module never has to import google-api-core.
    """

    def __init__(self, secret_name: str, project: str) -> None:
        self._where = f"secret {secret_name!r} in Google Secret Manager (project {project})"

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or isinstance(exc, ProvisionerError) or not isinstance(exc, Exception):
            return False
        kinds, message = _kinds(exc), _message(exc)
        where = self._where
        error: ProvisionerError
        if kinds & {"DefaultCredentialsError", "RefreshError", "Unauthenticated"}:
            error = InputError(f"no usable Google credentials for {where}: run 'gcloud auth application-default login'")
        elif "PermissionDenied" in kinds:
            error = PermissionDeniedError(f"access denied to {where}: {message}")
        elif "NotFound" in kinds:
            error = NotFoundError(f"{where} does not exist (deleted outside provisioner, or wrong project?)")
        elif kinds & {"InvalidArgument", "FailedPrecondition"}:
            error = InputError(f"Google Secret Manager refused {where}: {message}")
        else:
            error = OperationFailedError(f"Google Secret Manager failed for {where}: {type(exc).__name__}: {message}")
        raise error from exc


def _kinds(exc: BaseException) -> set[str]:
    """The class names in ``exc``'s hierarchy (google-api-core errors are named after gRPC codes)."""
    return {cls.__name__ for cls in type(exc).__mro__}


def _message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.splitlines()[0] if text else ""


def _check_resource(secret_name: str, payload: str) -> None:
    if not _RESOURCE.fullmatch(payload):
        raise InputError(
            f"secret {secret_name!r} was not stored by the gcp-secret-manager backend "
            "(its payload is not projects/P/secrets/S)"
        )
