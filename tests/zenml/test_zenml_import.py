"""`zenml stack import` of our ZenML export, run by a real ZenML 0.98.0 (not a fixture written from docs)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from provisioner.exports.zenml import FLAVOR_SNAPSHOT, ZENML_VERSION
from tests.helpers import cli, cli_json, deploy_cli
from tests.zenml.conftest import ZENML_VERSION as INSTALLED, ZenML

pytestmark = pytest.mark.zenml

REPO = Path(__file__).resolve().parents[2]


def test_the_flavor_snapshot_is_what_the_installed_zenml_says(zenml: ZenML) -> None:
    fresh = subprocess.run([str(zenml.bin / "python"), str(REPO / "tools" / "zenml_flavor_snapshot.py")], env=zenml.env,
                           cwd=zenml.cwd, capture_output=True, text=True, timeout=300, check=True)

    assert (INSTALLED, ZENML_VERSION) == (json.loads(fresh.stdout)["zenml_version"], INSTALLED)
    assert json.loads(fresh.stdout) == json.loads(FLAVOR_SNAPSHOT.read_text())


@pytest.mark.parametrize(
    ("recipe", "env", "extra"),
    [
        pytest.param("aws", "staging", (), id="aws-staging"),
        pytest.param("gcp", "staging", (), id="gcp-staging"),
        pytest.param("kubernetes", "dev", ("--context", "kind-dev"), id="kubernetes-dev"),
    ],
)
def test_zenml_stack_import_accepts_our_export(zenml: ZenML, tmp_path: Path, recipe: str, env: str, extra: tuple[str, ...]) -> None:
    name = f"{recipe}-{env}"
    deployed = deploy_cli(recipe, "--env", env, "--simulate", *extra)
    assert deployed.exit_code == 0, deployed.output
    ours = cli_json("stack", "describe", name)
    stack_file, script = tmp_path / f"{name}.yaml", tmp_path / f"{name}-secrets.sh"
    exported = cli("stack", "export", name, "--format", "zenml", "--file", str(stack_file),
                   "--secrets-script", str(script), "--show-secrets")
    assert exported.exit_code == 0, exported.stderr

    zenml.shell(script)
    zenml.run("stack", "import", name, "-f", str(stack_file))
    described = zenml.run("stack", "describe", name)
    theirs = zenml.client(
        f"stack = client.get_stack({name!r})\n"
        "result = {t.value: [c.name, c.flavor_name] for t, [c] in ((t, cs) for t, cs in stack.components.items())}"
    )

    expected = {kind: [component["name"], component["flavor"]] for kind, component in _components(ours).items()}
    assert theirs == expected
    for component_type in expected:
        assert component_type.upper() in described.stdout + described.stderr
    secrets = zenml.client("result = sorted(s.name for s in client.list_secrets(size=100).items)")
    assert secrets == sorted({s for s in _secret_names(stack_file)})


def _components(described: dict) -> dict:
    components = described["components"]
    return components if isinstance(components, dict) else {c["type"]: c for c in components}


def _secret_names(stack_file: Path) -> set[str]:
    import re

    return set(re.findall(r"\{\{([a-z0-9][a-z0-9_-]*)\.", stack_file.read_text()))
