"""The CLI must start fast: importing it loads no Pulumi, cloud SDK, MLflow or database engine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ["pulumi", "pulumi_aws", "pulumi_gcp", "pulumi_kubernetes", "pulumi_random", "boto3", "botocore",
         "mlflow", "moto", "kubernetes", "sqlalchemy"]
ENTRY_MODULES = ["provisioner.cli.main", "provisioner.cli.deploy"]


def _modules_after_import(module: str) -> set[str]:
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(out)}


def test_importing_cli_entry_modules_loads_no_heavy_module() -> None:
    for module in ENTRY_MODULES:
        loaded = _modules_after_import(module)
        assert not loaded & set(HEAVY), f"{module} imports {sorted(loaded & set(HEAVY))}"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        pytest.param("provisioner.cli.main:run", "component", id="provisioner"),
        pytest.param("provisioner.cli.deploy:run_deploy", "--simulate", id="deploy-stack"),
        pytest.param("provisioner.cli.deploy:run_destroy", "--yes", id="destroy-stack"),
    ],
)
def test_help_renders_without_loading_heavy_modules(entry: str, expected: str) -> None:
    module, function = entry.split(":")
    code = (
        "import atexit, sys, json\n"
        f"from {module} import {function} as run\n"
        "sys.argv = ['cmd', '--help']\n"
        "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(result.stderr.strip().splitlines()[-1])}
    assert expected in result.stdout
    assert not loaded & set(HEAVY)


def test_the_fast_exit_keeps_exit_codes_output_and_exit_handlers(tmp_path: object) -> None:
    """deploy-stack ends with os._exit after flushing: output, exit codes and logging survive it."""
    code = (
        "import atexit, logging, sys\n"
        "from provisioner.cli._exit import run_then_exit\n"
        "handler = logging.FileHandler(sys.argv[1]); logging.getLogger('t').addHandler(handler)\n"
        "def command():\n"
        "    print('x' * 100000)\n"
        "    logging.getLogger('t').warning('logged before exit')\n"
        "    sys.stderr.write('to stderr')\n"
        "    raise SystemExit(int(sys.argv[2]))\n"
        "atexit.register(lambda: sys.stdout.write('exit handler ran'))\n"
        "run_then_exit(command)\n"
    )
    log = f"{tmp_path}/log.txt"
    for wanted in (0, 2):
        done = subprocess.run([sys.executable, "-c", code, log, str(wanted)], capture_output=True, text=True)
        assert (done.returncode, len(done.stdout), done.stderr) == (wanted, 100001 + len("exit handler ran"), "to stderr")
    with open(log) as handle:
        assert handle.read().splitlines() == ["logged before exit", "logged before exit"]
