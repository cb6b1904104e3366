"""Deployment ids: what proves that a cloud resource belongs to one deployment of a stack."""

from __future__ import annotations

import re
import secrets
import string

# 26 lowercase letters and digits: valid as an AWS tag value, a GCP label value and a Kubernetes label value.
DEPLOYMENT_ID_LENGTH = 26
DEPLOYMENT_ID_PATTERN = re.compile(r"[a-z0-9]{26}")
_ALPHABET = string.ascii_lowercase + string.digits


def new_deployment_id() -> str:
    """A fresh random deployment id (about 134 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(DEPLOYMENT_ID_LENGTH))


def is_deployment_id(value: str) -> bool:
    """Whether ``value`` has the shape of a deployment id."""
    return DEPLOYMENT_ID_PATTERN.fullmatch(value) is not None
