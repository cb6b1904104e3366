"""Two server processes on one PostgreSQL take 50 concurrent registrations: no lost write, and unique names hold.

Replicas share nothing but the database: every request authenticates there and runs its own units
of work, and stack locks are rows there too. Two `provisioner server start` processes serve one
PostgreSQL registry; requests alternate between them from a thread pool and are released together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL_ENV
from tests.server.conftest import BOOTSTRAP, RunningServer, start_server, stop_server

pytestmark = pytest.mark.skipif(
    not os.environ.get(POSTGRES_URL_ENV),
    reason=f"{POSTGRES_URL_ENV} is not set: replicas share a PostgreSQL registry (.ci/run starts one and sets it)",
)

API = "/api/v1"
DISTINCT = 40  # c-0 ... c-39, one request each
DUPLICATES = 10  # all named "dup", half on each server
HEADERS = {"Authorization": f"Bearer {BOOTSTRAP}"}


def _spec(name: str) -> dict[str, Any]:
    return {"spec": {"name": name, "type": "orchestrator", "flavor": "local", "config": {}, "labels": {}}}


def _log(tmp_path: Path, server: RunningServer) -> str:
    return (tmp_path / f"server-{httpx.URL(server.url).port}.log").read_text()


def _all_at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response]:
    """Run every call on its own thread, released together by a barrier; responses in the calls' order."""
    barrier = threading.Barrier(len(calls))

    def fire(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(fire, calls))


@pytest.fixture()
def replicas(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Server A (bootstraps the admin) and then server B, on the same freshly emptied PostgreSQL database."""
    from provisioner.registry.store import Store

    url = os.environ[POSTGRES_URL_ENV]
    os.environ.pop("PROVISIONER_STORE_URL", None)  # the clients must not need the database
    store = Store(url)
    store.drop_all()
    store.dispose()
    a = start_server(url, tmp_path / "home-a")
    try:
        b = start_server(url, tmp_path / "home-b", bootstrap=None)
    except BaseException:
        stop_server(a)
        raise
    b.admin_token = BOOTSTRAP  # A's admin token is valid on B: both read the one database
    try:
        yield a, b
    finally:
        stop_server(b)
        stop_server(a)


def _check_no_server_failed(tmp_path: Path, servers: tuple[RunningServer, ...]) -> None:
    for server in servers:
        log = _log(tmp_path, server)
        assert "Traceback" not in log and "Exception" not in log, log


def _verify_audit_chain(tmp_path: Path, server: RunningServer, url: str, rows: int) -> None:
    """`provisioner audit verify` through the server (the registry in-process for a client without it): intact, ``rows`` rows."""
    from provisioner.client.remote import RemoteRegistry

    if hasattr(RemoteRegistry, "verify_audit"):
        env = {**os.environ, "PROVISIONER_URL": server.url, "PROVISIONER_TOKEN": server.admin_token}
        env.pop("PROVISIONER_STORE_URL", None)
        verified = subprocess.run(
            [sys.executable, "-m", "provisioner.cli.main", "audit", "verify", "--output", "json"], env=env,
            capture_output=True, text=True, timeout=60,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        report = json.loads(verified.stdout)
        assert (report["ok"], report["rows"], report["head_seq"]) == (True, rows, rows), report
        return
    from provisioner.registry.flavors import FlavorRegistry
    from provisioner.registry.service import Registry
    from provisioner.registry.store import Store
    from provisioner.secrets import default_backend

    store = Store(url)
    try:
        registry = Registry(store, FlavorRegistry.load(), default_backend(), tmp_path / "active", user="admin", bootstrap=False)
        verdict = registry.verify_audit()
        assert (verdict.ok, verdict.rows, verdict.head_seq) == (True, rows, rows), verdict.message
    finally:
        store.dispose()


def test_two_replicas_take_50_concurrent_registrations_without_a_lost_write_and_one_dup(
    replicas: tuple[RunningServer, RunningServer], tmp_path: Path
) -> None:
    a, b = replicas
    url = a.store_url
    with httpx.Client(base_url=a.url, headers=HEADERS, timeout=60) as on_a, \
            httpx.Client(base_url=b.url, headers=HEADERS, timeout=60) as on_b:
        clients = (on_a, on_b)
        names = [f"c-{i}" for i in range(DISTINCT)] + ["dup"] * DUPLICATES
        # Alternate servers: c-i on A for even i, B for odd; the dups go A, B, A, B, ... (five each).
        calls = [
            (lambda client=clients[i % 2], name=name: client.post(f"{API}/components", json=_spec(name)))
            for i, name in enumerate(names)
        ]
        responses = _all_at_once(calls)
        listed = [sorted(c["name"] for c in client.get(f"{API}/components").json()) for client in clients]
        audit = on_b.get(f"{API}/audit").json()

    distinct, dups = responses[:DISTINCT], responses[DISTINCT:]
    assert [r.status_code for r in distinct] == [201] * DISTINCT, [r.text for r in distinct if r.status_code != 201]
    assert sorted(r.status_code for r in dups) == [201] + [409] * (DUPLICATES - 1), [r.text for r in dups]
    for refused in (r for r in dups if r.status_code == 409):
        assert "\n" not in refused.text
        assert refused.json() == {"error": {"type": "ConflictError", "message": "component 'dup' already exists"}}
    expected = sorted([f"c-{i}" for i in range(DISTINCT)] + ["dup"])
    assert listed == [expected, expected]
    registrations = Counter(
        (e["target"], e["result"]) for e in audit if e["action"] == "component.register"
    )
    assert sum(n for (_t, result), n in registrations.items() if result == "ok") == DISTINCT + 1
    assert registrations[("dup", "ok")] == 1
    assert registrations[("dup", "error")] == DUPLICATES - 1
    assert sum(registrations.values()) == DISTINCT + DUPLICATES
    assert [e["action"] for e in audit if e["action"] != "component.register"] == ["server.bootstrap"]
    _verify_audit_chain(tmp_path, a, url, rows=1 + DISTINCT + DUPLICATES)
    _check_no_server_failed(tmp_path, replicas)


def test_only_the_first_server_bootstraps_the_admin(replicas: tuple[RunningServer, RunningServer], tmp_path: Path) -> None:
    a, b = replicas

    a_log, b_log = _log(tmp_path, a), _log(tmp_path, b)
    tokens = httpx.get(f"{b.url}{API}/tokens", headers=HEADERS).json()

    assert "New registry server: 'admin' is its admin, with the token from PROVISIONER_BOOTSTRAP_TOKEN." in a_log
    assert "New registry server" not in b_log and "pvt_" not in b_log
    assert "Serving the registry at" in b_log
    assert [(t["user"], t["label"]) for t in tokens] == [("admin", "bootstrap")]
    assert httpx.get(f"{b.url}{API}/whoami", headers=HEADERS).json() == {"user": "admin", "role": "admin"}


def test_a_stack_lock_asked_of_both_replicas_at_once_goes_to_exactly_one(
    replicas: tuple[RunningServer, RunningServer], tmp_path: Path
) -> None:
    a, b = replicas
    rounds = 10
    with httpx.Client(base_url=a.url, headers=HEADERS, timeout=60) as on_a, \
            httpx.Client(base_url=b.url, headers=HEADERS, timeout=60) as on_b:
        for step in (
            ("/components", _spec("orch")),
            ("/components", {"spec": {"name": "art", "type": "artifact_store", "flavor": "local",
                                      "config": {"path": str(tmp_path / "artifacts")}, "labels": {}}}),
        ):
            assert on_a.post(f"{API}{step[0]}", json=step[1]).status_code == 201
        outcomes = []
        for i in range(rounds):
            stack = f"s-{i}"
            assert on_b.post(f"{API}/stacks", json={"name": stack, "components": ["orch", "art"]}).status_code == 201
            # Other hosts than the servers' own, so neither holder can be judged stale (a dead pid here).
            bodies = [
                {"operation": "deploy", "host": "runner-a.example", "pid": 1001, "token": "a" * 32},
                {"operation": "deploy", "host": "runner-b.example", "pid": 2002, "token": "b" * 32},
            ]
            responses = _all_at_once([
                lambda: on_a.post(f"{API}/locks/{stack}", json=bodies[0]),
                lambda: on_b.post(f"{API}/locks/{stack}", json=bodies[1]),
            ])
            outcomes.append(sorted((r.status_code, r.text) for r in responses))
            assert sorted(r.status_code for r in responses) == [200, 423], [r.text for r in responses]
            winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
            holder = json.loads(responses[1 - winner].text)["error"]["message"]
            assert f"runner-{'ab'[winner]}.example" in holder, holder
            released = on_a.delete(f"{API}/locks/{stack}", params={"token": bodies[winner]["token"]})
            assert released.json() == {"released": True}

    for outcome in outcomes:
        (ok_status, ok_text), (locked_status, locked_text) = outcome
        assert (ok_status, json.loads(ok_text)) == (200, {"taken": True})
        assert locked_status == 423 and json.loads(locked_text)["error"]["type"] == "StackLockedError"
        assert "\n" not in locked_text
    _check_no_server_failed(tmp_path, replicas)


def test_two_fresh_replicas_bootstrapping_at_once_make_exactly_one_admin_token() -> None:
    """Both see an empty registry; the one that queues second must find the first's token, not crash on the user row."""
    from provisioner.registry.store import Store
    from provisioner.registry.tokens import bootstrap_admin

    url = os.environ[POSTGRES_URL_ENV]
    for _ in range(5):
        setup = Store(url)
        setup.drop_all()
        setup.dispose()
        stores = [Store(url), Store(url)]  # each migrates on open
        barrier = threading.Barrier(2)

        def boot(store: Store) -> str | None:
            barrier.wait(timeout=30)
            return bootstrap_admin(store, "admin")

        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                issued = list(pool.map(boot, stores))
            with stores[0].transaction() as tx:
                tokens = tx.tokens()
        finally:
            for store in stores:
                store.dispose()
        assert sorted(value is None for value in issued) == [False, True], issued
        assert len(tokens) == 1
