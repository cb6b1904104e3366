"""Measure the registry server on loopback: the latency of one HTTP call, and of listing 1,000 stacks.

Usage: python benchmarks/registry_server.py [--quick] [--calls 200] [--lists 20] [--stacks 1000]
                                            [--postgres-url URL] [--profile]

A real `provisioner server start` runs on 127.0.0.1 over a SQLite registry in a temporary folder,
then over PostgreSQL when PROVISIONER_TEST_POSTGRES_URL (or --postgres-url) is set: that database
is EMPTIED first. Calls go through one persistent httpx.Client, after a warm-up. The stacks (each
with its own local orchestrator and local artifact store) are written with the library's catalog
service as the admin, in a few units of work, while the server runs; the setup time is reported.

Goals: GET /health and GET /api/v1/whoami at most 50 ms (median), the dashboard's stacks page
(GET /stacks, signed in through the form) with 200 stacks, each with a recorded deploy, at most
200 ms (median of 20), and GET /api/v1/stacks with 1,000 stacks at most 300 ms (median). ``--profile`` adds a cProfile of the stack list's steps run
in-process, with the SQL statements each makes. ``--quick`` takes fewer samples: about 10 s on
SQLite, 30 s with PostgreSQL too (writing the 1,000 stacks is most of it), on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

TOKEN = "pvt_benchmark-admin-token-0123456789abcdef"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
POSTGRES_ENV = "PROVISIONER_TEST_POSTGRES_URL"
BATCH = 100  # stacks written per unit of work
PAGE_STACKS = 200  # the dashboard's stacks page is measured with this many


@dataclass
class Result:
    measure: str
    samples: list[float]  # seconds
    goal: float  # seconds

    def row(self, floor: float) -> str:
        """One table line; ``floor`` is the median of GET /health in the same run (a round trip doing nothing)."""
        median, p90 = statistics.median(self.samples), _p90(self.samples)
        verdict = "ok" if median <= self.goal else "OVER"
        return (f"{self.measure:<44} {median * 1000:>9.1f} {p90 * 1000:>9.1f} {median / floor:>8.1f} "
                f"{self.goal * 1000:>8.0f} {len(self.samples):>6}  {verdict}")


def _p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(store_url: str, home: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`provisioner server start` in its own process; returns it, its URL and its log once /health answers."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PROVISIONER_URL", "PROVISIONER_TOKEN", "PROVISIONER_USER")}
    env.update(PROVISIONER_STORE_URL=store_url, PROVISIONER_HOME=str(home), PROVISIONER_BOOTSTRAP_TOKEN=TOKEN)
    log_path = home.parent / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "provisioner.cli.main", "server", "start", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return process, url, log_path
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not answer /health within 30 s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


def _registry(store_url: str, home: Path):  # type: ignore[no-untyped-def]
    from provisioner.registry.flavors import FlavorRegistry
    from provisioner.registry.service import Registry
    from provisioner.registry.store import Store
    from provisioner.secrets import default_backend

    return Registry(Store(store_url), FlavorRegistry.load(), default_backend(), home / "active-stack", user="admin",
                    bootstrap=False)


def add_stacks(store_url: str, home: Path, count: int, start: int = 0, runs: bool = False) -> float:
    """Register stacks ``start`` to ``count`` (own orchestrator and artifact store each) as the admin, each with a
    recorded deploy when ``runs``; returns seconds taken."""
    from datetime import datetime, timezone

    from provisioner.registry.history import DeploymentRun
    from provisioner.registry.models import ComponentSpec, ComponentType

    registry = _registry(store_url, home)
    started = time.perf_counter()
    for first in range(start, count, BATCH):
        with registry.unit() as uow:
            for i in range(first, min(count, first + BATCH)):
                if runs:
                    moment = datetime.now(timezone.utc)
                    uow.tx.add_run(DeploymentRun(
                        stack=f"stack-{i:04d}", kind="deploy", recipe="aws", env=("dev", "staging", "prod")[i % 3],
                        region="eu-west-1", engine="pulumi", simulated=False, user="admin", started_at=moment,
                        finished_at=moment, result="succeeded", counts={"create": 66}, monthly_cost_usd=396.39))
                registry.catalog.register_component(
                    uow, ComponentSpec(name=f"orch-{i:04d}", type=ComponentType.ORCHESTRATOR, flavor="local"))
                registry.catalog.register_component(
                    uow, ComponentSpec(name=f"art-{i:04d}", type=ComponentType.ARTIFACT_STORE, flavor="local",
                                       config={"path": str(home / "artifacts" / f"{i:04d}")}))
                registry.catalog.register_stack(uow, f"stack-{i:04d}", [f"orch-{i:04d}", f"art-{i:04d}"])
    elapsed = time.perf_counter() - started
    registry.store.dispose()
    return elapsed


def sample(call: Callable[[], httpx.Response], runs: int, warmup: int) -> list[float]:
    """Seconds per call over ``runs`` calls, after ``warmup`` unmeasured ones; every call must answer 200."""
    for _ in range(warmup):
        call().raise_for_status()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


def profile_list(store_url: str, home: Path, runs: int) -> None:
    """cProfile of what GET /api/v1/stacks does, in-process: authenticate, list through the gate, encode as JSON.

    The route's steps are called in this thread (a TestClient would run them in a worker thread,
    out of cProfile's sight); SQL statements are counted on the engine.
    """
    import cProfile
    import io
    import pstats

    from pydantic import TypeAdapter
    from sqlalchemy import event

    from provisioner.registry.models import Stack
    from provisioner.registry.tokens import authenticate
    from provisioner.server.app import load_state

    os.environ["PROVISIONER_HOME"] = str(home)
    state = load_state(store_url)
    encoder = TypeAdapter(list[Stack])
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    def request() -> bytes:
        with state.store.transaction() as tx:
            user = authenticate(tx, TOKEN)
        return encoder.dump_json(state.registry(user).list_stacks())

    request()
    event.listen(state.store._engine, "before_cursor_execute", count)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(runs):
        request()
    profiler.disable()
    elapsed = (time.perf_counter() - started) / runs
    state.store.dispose()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(r"provisioner/|sqlalchemy/(orm|engine)/|pydantic", 30)
    print(f"  cProfile of {runs} in-process stack lists: {elapsed * 1000:.0f} ms each (profiled), "
          f"{statements / runs:.0f} SQL statements each; top by cumulative time:")
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    print("\n".join("    " + line for line in lines[header:] if line.strip()))


def bench(label: str, store_url: str, options: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="provisioner-bench-")) / "home"
    home.mkdir()
    os.environ["PROVISIONER_HOME"] = str(home)
    process, url, log = start_server(store_url, home)
    results: list[Result] = []
    try:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as client:
            results.append(Result("GET /health", sample(lambda: client.get("/health"), options.calls, 20), 0.050))
            results.append(Result("GET /api/v1/whoami", sample(lambda: client.get("/api/v1/whoami"), options.calls, 20), 0.050))
            setup = add_stacks(store_url, home, PAGE_STACKS, runs=True)
            page = httpx.Client(base_url=url, timeout=60)
            form = page.get("/login").text
            csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            assert page.post("/login", data={"token": TOKEN, "csrf": csrf}).status_code == 303, "sign-in failed"
            shown = page.get("/stacks").text
            assert shown.count('<th scope="row"><a href="/stacks/stack-') == PAGE_STACKS, "the page does not list every stack"
            results.append(Result(f"GET /stacks, the page ({PAGE_STACKS} stacks)", sample(lambda: page.get("/stacks"), options.lists, 2), 0.200))
            setup += add_stacks(store_url, home, options.stacks, start=PAGE_STACKS)
            listed = client.get("/api/v1/stacks").json()
            assert len(listed) == options.stacks, f"{len(listed)} stacks listed, {options.stacks} registered"
            results.append(Result(f"GET /api/v1/stacks ({options.stacks:,} stacks)",
                                  sample(lambda: client.get("/api/v1/stacks"), options.lists, 2), 0.300))
    finally:
        stop_server(process)
    print(f"\n{label}: setup of {options.stacks:,} stacks (2 components each, {BATCH} per unit of work): {setup:.1f} s")
    print(f"{'measure':<44} {'median ms':>9} {'p90 ms':>9} {'x health':>8} {'goal ms':>8} {'calls':>6}  verdict")
    floor = statistics.median(results[0].samples)
    for result in results:
        print(result.row(floor))
    errors = [line for line in log.read_text().splitlines() if "Traceback" in line or "Error" in line]
    if errors:
        print(f"  the server logged errors ({log}):", *errors[:5], sep="\n    ")
    if options.profile:
        profile_list(store_url, home, max(2, options.lists // 4))
    shutil.rmtree(home.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples: 50 calls, 5 lists")
    parser.add_argument("--calls", type=int, default=None, help="measured calls of /health and /whoami (200)")
    parser.add_argument("--lists", type=int, default=None, help="measured stack lists (20)")
    parser.add_argument("--stacks", type=int, default=1000)
    parser.add_argument("--postgres-url", default=os.environ.get(POSTGRES_ENV, ""),
                        help=f"also on this PostgreSQL database, which is emptied first (default: ${POSTGRES_ENV})")
    parser.add_argument("--profile", action="store_true", help="cProfile the stack list in-process")
    options = parser.parse_args()
    options.calls = options.calls or (50 if options.quick else 200)
    options.lists = options.lists or (5 if options.quick else 20)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{options.calls} calls, {options.lists} lists; one persistent httpx.Client on 127.0.0.1")
    with tempfile.TemporaryDirectory(prefix="provisioner-bench-db-") as folder:
        bench("SQLite", f"sqlite:///{Path(folder) / 'registry.db'}", options)
    if options.postgres_url:
        from provisioner.registry.store import Store

        store = Store(options.postgres_url)
        store.drop_all()
        store.dispose()
        bench("PostgreSQL", options.postgres_url, options)


if __name__ == "__main__":
    main()
