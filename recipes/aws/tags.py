"""Tags: the deployment's tags merged explicitly into every resource (mocks do not apply default_tags)."""

from __future__ import annotations

from collections.abc import Mapping


def tagged(tags: Mapping[str, str], name: str, **extra: str) -> dict[str, str]:
    """The stack's tags plus ``Name`` and any extra tags."""
    return {**tags, "Name": name, **extra}
