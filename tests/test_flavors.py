"""The flavor catalog: every component type has flavors, and plugins add more via entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.registry.flavors import Flavor, FlavorRegistry, validate_flavor_class
from provisioner.registry.models import ComponentType
from tests.helpers import cli, cli_json

MAPPED_FLAVORS = {
    ("orchestrator", "kubernetes"),
    ("artifact_store", "s3"),
    ("artifact_store", "gcp"),
    ("container_registry", "aws"),
    ("container_registry", "gcp"),
    ("experiment_tracker", "mlflow"),
    ("model_registry", "mlflow"),
    ("step_operator", "sagemaker"),
    ("step_operator", "vertex"),
    ("image_builder", "kaniko"),
    ("image_builder", "gcp"),
    ("image_builder", "aws"),
}


def test_the_cloud_image_builders_take_the_fields_of_zenmls_own_flavors() -> None:
    registry = FlavorRegistry.load()
    aws = registry.get(ComponentType.IMAGE_BUILDER, "aws").config_class
    gcp = registry.get(ComponentType.IMAGE_BUILDER, "gcp").config_class

    assert aws(code_build_project="aws-staging-builder-project").model_dump() == {
        "code_build_project": "aws-staging-builder-project",
        "build_image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "custom_env_vars": None,
        "compute_type": "BUILD_GENERAL1_SMALL",
        "implicit_container_registry_auth": True,
    }
    assert gcp(project="my-project").model_dump() == {
        "project": "my-project",
        "cloud_builder_image": "gcr.io/cloud-builders/docker",
        "network": "cloudbuild",
        "build_timeout": 3600,
        "location": None,
    }


@pytest.mark.parametrize(
    ("flavor", "config", "message"),
    [
        pytest.param("aws", {"code_build_project": "a b"}, "must be a CodeBuild project name", id="aws-project-with-a-space"),
        pytest.param("aws", {"code_build_project": "p\n"}, "must be a CodeBuild project name", id="aws-project-with-a-newline"),
        pytest.param("gcp", {"project": "p", "build_timeout": 0}, "greater than 0", id="gcp-zero-timeout"),
    ],
)
def test_cloud_image_builder_configs_refuse_bad_values(flavor: str, config: dict[str, object], message: str) -> None:
    from pydantic import ValidationError

    config_class = FlavorRegistry.load().get(ComponentType.IMAGE_BUILDER, flavor).config_class
    with pytest.raises(ValidationError, match=message):
        config_class(**config)


def test_kaniko_runs_the_maintained_fork_by_default() -> None:
    kaniko = FlavorRegistry.load().get(ComponentType.IMAGE_BUILDER, "kaniko").config_class

    assert kaniko(kubernetes_context="kind-dev").executor_image == "ghcr.io/osscontainertools/kaniko:v1.28.3"


def test_flavor_list_covers_all_thirteen_types_and_the_mapped_flavors() -> None:
    flavors = cli_json("flavor", "list")

    assert {f["type"] for f in flavors} == {t.value for t in ComponentType}
    assert len(ComponentType) == 13
    assert MAPPED_FLAVORS <= {(f["type"], f["name"]) for f in flavors}


def test_flavor_describe_shows_schema_and_secret_fields() -> None:
    flavor = cli_json("flavor", "describe", "mlflow", "--type", "experiment_tracker")

    assert flavor["secret_fields"] == ["tracking_password"]
    assert "tracking_uri" in flavor["config_schema"]["required"]


def test_flavor_describe_of_a_shared_name_asks_for_the_type() -> None:
    result = cli("flavor", "describe", "mlflow")

    assert result.exit_code == 2
    assert "pass --type" in result.stderr


def test_validate_flavor_class_names_a_class_with_the_wrong_base() -> None:
    class NotAFlavor:
        name = "x"

    with pytest.raises(TypeError, match="NotAFlavor"):
        validate_flavor_class(NotAFlavor, "entry point 'bad'")


def test_duplicate_flavor_from_a_plugin_is_reported_not_taken() -> None:
    class ShadowS3(Flavor):
        name = "s3"
        type = ComponentType.ARTIFACT_STORE
        source = "shadow-package"

    builtin = FlavorRegistry.load().all()
    catalog = FlavorRegistry([*builtin, ShadowS3])

    assert catalog.get(ComponentType.ARTIFACT_STORE, "s3").source == "builtin"
    assert any("shadow-package" in error for error in catalog.errors)


def _provisioner(plugin_site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-c", "from provisioner.cli.main import run; run()", *args],
        env=env, capture_output=True, text=True, check=False,
    )


def test_installed_plugin_adds_flavors_through_entry_points(plugin_site: Path) -> None:
    listed = _provisioner(plugin_site, "flavor", "list", "--output", "json")

    assert listed.returncode == 0, listed.stderr
    flavors = {(f["type"], f["name"]): f for f in json.loads(listed.stdout)}
    assert flavors[("alerter", "discord")]["source"] == "provisioner-test-plugin"
    assert flavors[("alerter", "discord")]["secret_fields"] == ["webhook_url"]
    assert ("artifact_store", "minio") in flavors


def test_component_of_a_plugin_flavor_is_validated_and_registered(plugin_site: Path) -> None:
    bad = _provisioner(plugin_site, "component", "register", "alerts", "-t", "alerter", "-f", "discord")
    good = _provisioner(
        plugin_site, "component", "register", "alerts", "-t", "alerter", "-f", "discord",
        "--value-in-args", "-c", "webhook_url=https://discord.example/hook/abc",
    )

    assert bad.returncode == 2 and "webhook_url" in bad.stderr
    assert good.returncode == 0, good.stderr
    described = _provisioner(plugin_site, "component", "describe", "alerts", "-o", "json")
    assert json.loads(described.stdout)["config"]["webhook_url"] == "{{secret:component-alerts.webhook_url}}"
