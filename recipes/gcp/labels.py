"""GCP labels: the deployment's tags as `provisioner-stack`, `provisioner-env`, `provisioner-recipe`."""

from __future__ import annotations

import re
from collections.abc import Mapping


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Label keys and values allow lowercase letters, digits, _ and - (63 characters)."""
    labels = {}
    for key, value in tags.items():
        clean_key = re.sub(r"[^a-z0-9_-]", "-", key.lower())[:63]
        labels[clean_key] = re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]
    return labels
