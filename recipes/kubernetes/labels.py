"""Kubernetes labels derived from the deployment's tags."""

from __future__ import annotations

from collections.abc import Mapping

LABEL_PREFIX = "provisioner.io"


def k8s_labels(tags: Mapping[str, str], app: str) -> dict[str, str]:
    """``provisioner:stack`` -> ``provisioner.io/stack``, plus the standard app labels."""
    labels = {f"{LABEL_PREFIX}/{key.split(':', 1)[-1]}": value for key, value in tags.items()}
    labels["app.kubernetes.io/name"] = app
    labels["app.kubernetes.io/managed-by"] = "provisioner"
    return labels
