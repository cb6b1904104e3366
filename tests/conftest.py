"""Shared fixtures: an isolated provisioner home per test, and the registry backends to test on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL_ENV = "PROVISIONER_TEST_POSTGRES_URL"
TEST_PLUGIN = Path(__file__).parent / "plugins" / "provisioner_test_plugin"


FACTS_AS_OF = "2026-12-02"


@pytest.fixture(autouse=True)
def isolated_environ(tmp_path: Path) -> Iterator[Path]:
    """Every test gets its own PROVISIONER_HOME and no store URL; os.environ is restored after.

    Dated facts are judged on a fixed day, so no test changes its verdict as the calendar moves on.
    """
    saved = dict(os.environ)
    home = tmp_path / "home"
    os.environ["PROVISIONER_HOME"] = str(home)
    os.environ["PROVISIONER_FACTS_AS_OF"] = FACTS_AS_OF
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


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test plugin (extra flavors and the `demo` recipe), really installed by pip into its own folder."""
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(TEST_PLUGIN)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture()
def demo_recipe(plugin_site: Path) -> Iterator[Path]:
    """Make the installed test plugin visible to entry-point discovery in this process."""
    sys.path.insert(0, str(plugin_site))
    try:
        yield plugin_site
    finally:
        sys.path.remove(str(plugin_site))
        for name in [m for m in sys.modules if m.startswith("provisioner_test_plugin")]:
            del sys.modules[name]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on loopback for the whole run, as lean as the product's (tests reset it before use)."""
    from moto.server import ThreadedMotoServer

    from provisioner.engine.emulators.moto_lean import lean_moto

    with lean_moto():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture()
def aws_endpoint(moto_server: str) -> str:
    """Point boto3 (and so the simulated engine) at a freshly reset moto server."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")).read()
    os.environ["AWS_ENDPOINT_URL"] = moto_server
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"})
    return moto_server


@pytest.fixture()
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections (kernel backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])
