"""Secret backends by name: the local encrypted store, AWS Secrets Manager and Google Secret Manager."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from provisioner.errors import InputError
from provisioner.secrets import LocalFernetBackend, SecretBackend

BACKENDS: tuple[str, ...] = ("local", "aws-secrets-manager", "gcp-secret-manager")

# backend name -> (required options, optional options)
OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "local": ((), ()),
    "aws-secrets-manager": (("region",), ("prefix", "kms_key_id")),
    "gcp-secret-manager": (("project",), ("prefix",)),
}


def make_backend(name: str, options: Mapping[str, str], *, home: Path) -> SecretBackend:
    """Build the backend ``name`` from its ``options``; the local one keeps its key in ``home``."""
    if name not in OPTIONS:
        raise InputError(f"unknown secret backend {name!r}: choose one of {', '.join(BACKENDS)}")
    required, optional = OPTIONS[name]
    unknown = sorted(set(options) - set(required) - set(optional))
    if unknown:
        allowed = ", ".join(required + optional) or "none"
        raise InputError(f"unknown option(s) {', '.join(unknown)} for secret backend {name!r} (allowed: {allowed})")
    missing = [key for key in required if not str(options.get(key) or "").strip()]
    if missing:
        raise InputError(f"secret backend {name!r} needs option(s) {', '.join(missing)}")
    if name == "aws-secrets-manager":
        from provisioner.secret_backends.aws import AwsSecretsManagerBackend

        return AwsSecretsManagerBackend(
            options["region"].strip(),
            prefix=options.get("prefix", "provisioner/"),
            kms_key_id=options.get("kms_key_id") or None,
        )
    if name == "gcp-secret-manager":
        from provisioner.secret_backends.gcp import GcpSecretManagerBackend

        return GcpSecretManagerBackend(options["project"].strip(), prefix=options.get("prefix", "provisioner-"))
    return LocalFernetBackend(home / "secrets.key")
