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
        "import sys, json\n"
        f"from {module} import {function} as run\n"
        "sys.argv = ['cmd', '--help']\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = {name.split(".")[0] for name in json.loads(result.stderr.strip().splitlines()[-1])}
    assert expected in result.stdout
    assert not loaded & set(HEAVY)
