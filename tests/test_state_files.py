"""Files the tool keeps: a corrupt state is one clear line, homes stay private, stale locks can be cleared."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import cli, deploy_cli, destroy_cli


def _state(home: Path) -> Path:
    return home / "simulated" / "provisioner-demo" / "dev.json"


@pytest.mark.parametrize("content", [b"", b"{\"project\": ", b"\x00\xff garbage"], ids=["empty", "truncated", "binary"])
def test_a_corrupt_state_file_gives_one_line_naming_the_file_and_the_way_out(
    demo_recipe: object, isolated_environ: Path, content: bytes
) -> None:
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0
    _state(isolated_environ).write_bytes(content)

    for result in (deploy_cli("demo", "--env", "dev", "--simulate"), destroy_cli("demo", "--env", "dev", "--simulate", "--yes")):
        assert result.exit_code == 1
        (line,) = result.stderr.strip().splitlines()[-1:]
        assert line.startswith(f"error: the simulated state {_state(isolated_environ)} cannot be read (")
        assert f"mv {_state(isolated_environ)} {_state(isolated_environ)}.broken" in line
        assert "internal error" not in result.stderr


def test_state_files_and_folders_are_private(demo_recipe: object, isolated_environ: Path) -> None:
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0

    modes = {
        path.relative_to(isolated_environ).as_posix(): stat.S_IMODE(path.stat().st_mode)
        for path in [isolated_environ, *isolated_environ.rglob("*")]
    }

    assert {name: mode for name, mode in modes.items() if mode not in (0o700, 0o600)} == {}
    assert modes["simulated"] == 0o700 and modes["simulated/provisioner-demo/dev.json"] == 0o600
    assert modes["registry.db"] == 0o600


def test_a_home_open_to_others_is_tightened_and_the_tool_says_so(isolated_environ: Path) -> None:
    isolated_environ.mkdir(parents=True)
    os.chmod(isolated_environ, 0o755)
    leaked = isolated_environ / "notes.txt"
    leaked.write_text("x")
    os.chmod(leaked, 0o644)

    result = subprocess.run([str(Path(sys.executable).parent / "provisioner"), "stack", "list"], capture_output=True, text=True,
                            env={**os.environ})

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(isolated_environ.stat().st_mode) == 0o700 and stat.S_IMODE(leaked.stat().st_mode) == 0o600
    assert f"warning: {leaked} was open to other users; removed their access" in result.stderr


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_lock_left_by_a_dead_run_is_taken_over_and_a_live_one_refuses(demo_recipe: object) -> None:
    from provisioner.registry.models import LockInfo
    from provisioner.registry.service import Registry

    registry = Registry.open()
    with registry.store.transaction() as tx:
        tx.insert_lock(LockInfo(name="demo-dev", operation="deploy", user="alice", host=socket.gethostname(), pid=_dead_pid(),
                                token="t" * 32, since=datetime(2026, 12, 1, 9, 30)))

    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0  # the dead holder's lock is taken over

    with registry.store.transaction() as tx:
        tx.insert_lock(LockInfo(name="demo-dev", operation="destroy", user="alice", host="build-7", pid=4242,
                                token="u" * 32, since=datetime(2026, 12, 1, 9, 30)))
    refused = deploy_cli("demo", "--env", "dev", "--simulate")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines()[-1].startswith(
        "error: stack 'demo-dev' is locked: destroy by alice on build-7, pid 4242, since 2026-12-01 09:30:00 UTC;"
    )
    not_forced = cli("unlock", "demo", "--env", "dev", "--yes")
    assert not_forced.exit_code == 2 and "pass --force" in not_forced.stderr
    forced = cli("unlock", "demo", "--env", "dev", "--yes", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert "Cleared the registry lock of demo-dev (destroy by alice on build-7" in forced.stderr
    assert deploy_cli("demo", "--env", "dev", "--simulate").exit_code == 0


def test_registration_of_a_stack_another_run_holds_is_refused(demo_recipe: object) -> None:
    from provisioner.errors import StackLockedError
    from provisioner.recipe_api import ComponentEntry, RecipeContext, RegistrationPlan
    from provisioner.registry.models import LockInfo
    from provisioner.registry.service import Registry

    registry = Registry.open()
    with registry.store.transaction() as tx:
        tx.insert_lock(LockInfo(name="demo-dev", operation="deploy", user="bob", host="ci-3", pid=77, token="v" * 32,
                                since=datetime(2026, 12, 1, 8, 0)))
    plan = RegistrationPlan(components=[ComponentEntry("demo-dev-orchestrator", "orchestrator", "local", {})])

    with pytest.raises(StackLockedError, match="is locked: deploy by bob on ci-3, pid 77"):
        registry.apply_deployment(plan, RecipeContext("demo", "dev", "demo-dev"))

    assert registry.list_components() == []
