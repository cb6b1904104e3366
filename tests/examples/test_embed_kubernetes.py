"""examples/embed-kubernetes under mocks: its own provider and namespace, the embedded stack, registrable exports."""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from provisioner.engine.emulators import EmulationContext
from provisioner.engine.simulated import run_program_with_mocks, unwrap_secrets
from provisioner.recipe_api import RecipeContext
from recipes.kubernetes.recipe import KubernetesOutputs, KubernetesRecipe
from tests.examples import EXAMPLES, load_example
from tests.recipes.mocks import RecordingMocks

PROJECT = "embed-kubernetes"
PULUMI_STACK = "dev"
NAME = f"{PROJECT}-{PULUMI_STACK}"
CONTEXT = "kind-team"


@dataclass
class ProviderRecordingMocks(RecordingMocks):
    """RecordingMocks that also keep each provider's inputs and which provider each resource used."""

    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    provider_of: dict[str, str | None] = field(default_factory=dict)

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            self.providers[args.name] = unwrap_secrets(dict(args.inputs))
        else:
            self.provider_of[args.name] = args.provider
        return super().new_resource(args)


@dataclass
class Run:
    mocks: ProviderRecordingMocks
    exports: dict[str, Any]


@pytest.fixture()
def config() -> Iterator[None]:
    """The example's stack config, as `pulumi config set kube_context kind-team` leaves it."""
    saved = os.environ.get("PULUMI_CONFIG")
    os.environ["PULUMI_CONFIG"] = json.dumps({f"{PROJECT}:kube_context": CONTEXT, f"{PROJECT}:env": "staging"})
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PULUMI_CONFIG", None)
        else:
            os.environ["PULUMI_CONFIG"] = saved


def _run(program: Any) -> Run:
    mocks = ProviderRecordingMocks(EmulationContext(stack=PULUMI_STACK, project=PROJECT, region="us-east-1"))
    exports = run_program_with_mocks(program, mocks, PROJECT, PULUMI_STACK, False)
    return Run(mocks, {key: value.value for key, value in exports.items()})


@pytest.fixture()
def run(config: None) -> Run:
    return _run(load_example("embed-kubernetes", "embed_kubernetes").main)


def test_the_example_is_a_complete_pulumi_project() -> None:
    folder = EXAMPLES / "embed-kubernetes"

    assert "name: embed-kubernetes" in (folder / "Pulumi.yaml").read_text()
    requirements = {line.strip() for line in (folder / "requirements.txt").read_text().splitlines()}
    assert {"provisioner", "pulumi>=3.200,<4", "pulumi-kubernetes>=4.18,<5"} <= requirements
    readme = (folder / "README.md").read_text()
    assert "pulumi up" in readme and "provisioner register --from-stack ." in readme


def test_every_kubernetes_object_goes_through_the_examples_provider_on_the_given_context(run: Run) -> None:
    assert run.mocks.providers == {f"{NAME}-cluster": {"context": CONTEXT}}
    objects = [r for r in run.mocks.resources if r.type.startswith("kubernetes:")]
    assert len(objects) >= 15
    for resource in objects:
        provider = run.mocks.provider_of[resource.name] or ""
        assert f"pulumi:providers:kubernetes::{NAME}-cluster::" in provider, resource.name


def test_the_team_namespace_and_its_configmap_sit_next_to_the_embedded_stack(run: Run) -> None:
    namespaces = {r.inputs["metadata"]["name"] for r in run.mocks.of_type("kubernetes:core/v1:Namespace")}
    (configmap,) = [r for r in run.mocks.of_type("kubernetes:core/v1:ConfigMap") if r.name == f"{NAME}-mlflow-endpoint"]

    assert {"team-ml", "mlflow", run.exports["pipelines_namespace"]} <= namespaces
    assert configmap.inputs["metadata"]["namespace"] == "team-ml"
    assert configmap.inputs["data"]["MLFLOW_TRACKING_URI"] == run.exports["mlflow_internal_uri"]


def test_exports_hold_everything_the_kubernetes_registration_reads(run: Run) -> None:
    context = RecipeContext("kubernetes", "staging", "team-ml")

    plan = KubernetesRecipe().registration(KubernetesOutputs.read(run.exports), context)

    assert {c.type for c in plan.components} == {"orchestrator", "artifact_store", "experiment_tracker", "model_registry", "image_builder"}
    orchestrator = next(c for c in plan.components if c.type == "orchestrator")
    assert orchestrator.config["kubernetes_context"] == CONTEXT
    assert run.exports["mlflow_password"] and run.exports["s3_secret_key"]
    assert KubernetesRecipe().summary(KubernetesOutputs.read(run.exports), context)


def test_the_plan_from_the_exports_registers(run: Run) -> None:
    from provisioner.registry.service import Registry

    context = RecipeContext("kubernetes", "staging", "team-ml")

    record = Registry.open().apply_deployment(KubernetesRecipe().registration(KubernetesOutputs.read(run.exports), context), context)

    assert record.stack == "team-ml" and len(record.components) == 5


def test_main_py_runs_the_same_program(config: None, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = EXAMPLES / "embed-kubernetes"
    monkeypatch.syspath_prepend(str(folder))  # as the Pulumi Python host runs the project folder
    monkeypatch.delitem(sys.modules, "embed_kubernetes", raising=False)

    try:
        run = _run(lambda: runpy.run_path(str(folder / "__main__.py"), run_name="__main__"))
    finally:
        sys.modules.pop("embed_kubernetes", None)

    assert run.exports["kube_context"] == CONTEXT
    assert run.mocks.providers == {f"{NAME}-cluster": {"context": CONTEXT}}
