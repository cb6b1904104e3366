"""A redeploy renames components in place: a stack registered under an older name scheme keeps no old component."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from recipes.kubernetes.recipe import KubernetesRecipe
from tests.helpers import cli_json, deploy_cli

DEPLOY = ("kubernetes", "--env", "dev", "--simulate", "--context", "kind-rename")


def _as_before_0_3(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mapping of provisioner 0.2, which called the MLflow model registry `-registry`."""
    current = KubernetesRecipe.registration

    def registration(self: KubernetesRecipe, outputs: Any, context: Any) -> Any:
        plan = current(self, outputs, context)
        plan.components = [
            dataclasses.replace(entry, name=entry.name.replace("-models", "-registry")) for entry in plan.components
        ]
        return plan

    monkeypatch.setattr(KubernetesRecipe, "registration", registration)


def _components() -> dict[str, str]:
    return {component["name"]: component["type"] for component in cli_json("component", "list")}


def test_a_redeploy_renames_the_model_registry_to_models_and_leaves_no_registry_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as old:
        _as_before_0_3(old)
        assert deploy_cli(*DEPLOY).exit_code == 0
    assert _components()["kubernetes-dev-registry"] == "model_registry"

    result = deploy_cli(*DEPLOY)

    assert result.exit_code == 0, result.stderr
    assert _components() == {
        "kubernetes-dev-orchestrator": "orchestrator",
        "kubernetes-dev-artifacts": "artifact_store",
        "kubernetes-dev-tracker": "experiment_tracker",
        "kubernetes-dev-models": "model_registry",
        "kubernetes-dev-builder": "image_builder",
    }
    stack = cli_json("stack", "describe", "kubernetes-dev")
    assert sorted(member["name"] for member in stack["components"].values()) == sorted(_components())
