"""Fixtures of the connector tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def plugin_installed(demo_recipe: Path) -> Path:
    """The test plugin, installed by pip and visible to entry points: it adds the `demo` connector type."""
    return demo_recipe
