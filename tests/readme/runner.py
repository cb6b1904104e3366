"""Run a README block as a user would: bash in a fresh folder and home, against a shared moto server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tests.readme.blocks import Block, commands, ours

BIN = Path(sys.executable).parent


def app_for(program: str):  # type: ignore[no-untyped-def]
    from provisioner.cli.deploy import deploy_app, destroy_app
    from provisioner.cli.main import app

    return {"provisioner": app, "deploy-stack": deploy_app, "destroy-stack": destroy_app}[program]


def parse_failures(block: Block) -> list[str]:
    """Each of our commands in the block with ``--help`` after its own words and flags: what did not parse."""
    failures = []
    for words in commands(block.code):
        if not ours(words):
            continue
        result = CliRunner().invoke(app_for(words[0]), [*words[1:], "--help"])
        if result.exit_code != 0 or "Usage:" not in result.stdout:
            failures.append(f"{' '.join(words)}: {(result.stderr or result.stdout).strip().splitlines()[-1:]}")
    return failures


def run(block: Block, folder: Path, aws_env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The block's setup lines, then its code, in ``bash -e -o pipefail``; a YAML block is a config file planned with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PROVISIONER_"))}
    env.update(aws_env)
    env.update(PROVISIONER_HOME=str(folder / "home"), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="200")
    script = list(block.setup)
    if block.lang == "yaml":
        (folder / "config.yaml").write_text(block.code)
        recipe, *envs = block.config
        script += [f"deploy-stack {recipe} --env {name} -f config.yaml --simulate --plan" for name in envs]
    else:
        script.append(block.code)
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", "\n".join(script)], cwd=folder, env=env, input=block.stdin,
                          capture_output=True, text=True, timeout=timeout)
