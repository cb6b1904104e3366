"""Every shell and YAML block of README.md runs as written (or, marked with why, at least parses).

Blocks run under --simulate in a fresh folder and home, against one `provisioner simulate serve`
moto server (reset before each block). Marked ``scenario``: these are real processes.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.readme.blocks import Block, blocks
from tests.readme.runner import BIN, parse_failures, run

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = blocks(README.read_text())


@pytest.fixture(scope="module")
def moto_env() -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen([str(BIN / "provisioner"), "simulate", "serve", "--port", "0"], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    assert process.stdout is not None
    exports = dict(process.stdout.readline().removeprefix("export ").strip().split("=", 1) for _ in range(4))
    try:
        yield exports
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip], ids=lambda b: b.label)
def test_a_block_marked_not_to_run_still_parses(block: Block) -> None:
    assert parse_failures(block) == []


@pytest.mark.scenario
@pytest.mark.parametrize("block", [b for b in BLOCKS if not b.skip], ids=lambda b: b.label)
def test_a_readme_block_runs_as_written(block: Block, moto_env: dict[str, str], tmp_path: Path) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{moto_env['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST"), timeout=30).read()

    done = run(block, tmp_path, moto_env)

    assert done.returncode == 0, f"{block.label} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"


def test_the_readme_has_blocks_to_run_and_every_block_is_run_or_marked_with_a_known_reason() -> None:
    run_here = [b for b in BLOCKS if not b.skip]
    assert len(BLOCKS) >= 20 and len(run_here) >= 8
