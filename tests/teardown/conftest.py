"""Fixtures for the teardown tests: a kmock Kubernetes emulator per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.teardown.kmock_server import KubeEmulatorServer


@pytest.fixture()
def kube_emulator() -> Iterator[KubeEmulatorServer]:
    """A fresh, empty Kubernetes emulator (kmock) on 127.0.0.1, stopped after the test."""
    with KubeEmulatorServer() as server:
        yield server


@pytest.fixture()
def kube_api(kube_emulator: KubeEmulatorServer) -> str:
    """The base URL of a fresh Kubernetes emulator, for a ``ClusterTarget(server=...)`` or a client."""
    return kube_emulator.url
