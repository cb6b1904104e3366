"""Shared fixtures: an isolated provisioner home per test, and the registry backends to test on."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL_ENV = "PROVISIONER_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def isolated_environ(tmp_path: Path) -> Iterator[Path]:
    """Every test gets its own PROVISIONER_HOME and no store URL; os.environ is restored after."""
    saved = dict(os.environ)
    home = tmp_path / "home"
    os.environ["PROVISIONER_HOME"] = str(home)
    os.environ.pop("PROVISIONER_STORE_URL", None)
    os.environ.pop("PROVISIONER_DEBUG", None)
    try:
        yield home
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The registry URL the test runs against: a SQLite file, then a real PostgreSQL server."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'registry.db'}"
    else:
        url = os.environ.get(POSTGRES_URL_ENV, "")
        if not url:
            pytest.skip(f"{POSTGRES_URL_ENV} is not set; .ci/run starts PostgreSQL and sets it")
        from provisioner.registry.store import Store

        Store(url).drop_all()
    os.environ["PROVISIONER_STORE_URL"] = url
    return url
