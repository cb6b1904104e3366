"""Versions resolved at deploy time from the dated facts, refused when the cloud would refuse them, kept on redeploy;
storage that binds on EKS. The facts are judged on fixed dates (PROVISIONER_FACTS_AS_OF), never today's."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from provisioner.engine.emulators import EmulationContext, handler_for
from provisioner.facts import cloudsql, eks, rds
from tests.conftest import FACTS_AS_OF
from tests.helpers import deploy_cli, registry_rows

pytestmark = pytest.mark.usefixtures("aws_endpoint")
AS_OF = FACTS_AS_OF  # set for every test by tests/conftest.py


def _deploy(*args: str) -> dict[str, Any]:
    result = deploy_cli("aws", "--env", "staging", "--simulate", "--output", "json", *args)
    assert result.exit_code == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    return outcome


def _declared(recipe: str, env: str, *sets: str) -> list[Any]:
    """The resources a simulated deploy declares, with their inputs."""
    from provisioner.cli._deploy_common import resolve
    from provisioner.engine.base import NullSink
    from provisioner.engine.simulated import SimulatedEngine

    recipe_obj, request, args = resolve(recipe, env, config_file=None, sets=list(sets) or None, region=None, name=None, backend=None, context=None)
    return SimulatedEngine().up(request, recipe_obj, args, preview=False, sink=NullSink()).resources


def _one(resources: list[Any], resource_type: str) -> dict[str, Any]:
    (found,) = [r for r in resources if r.type == resource_type]
    return dict(found.inputs or {})


def test_the_eks_default_is_the_newest_version_in_standard_support_on_the_date() -> None:
    resources = _declared("aws", "staging")

    cluster = _one(resources, "aws:eks/cluster:Cluster")
    assert cluster["version"] == "1.35"
    assert eks.find("1.35").support(eks.date.fromisoformat(AS_OF)) == "standard"  # type: ignore[union-attr]
    assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}


def test_rds_runs_a_major_on_gp3_and_storage_binds_through_the_ebs_csi_driver() -> None:
    resources = _declared("aws", "staging")

    database = _one(resources, "aws:rds/instance:Instance")
    assert database["engineVersion"] == "16" and rds.version_problem(database["engineVersion"]) is None
    assert database["storageType"] == "gp3"
    addon = _one(resources, "aws:eks/addon:Addon")
    assert addon["addonName"] == "aws-ebs-csi-driver" and addon["serviceAccountRoleArn"].startswith("arn:aws:iam::")
    attachments = [r.inputs for r in resources if r.type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
    assert {"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}.items() <= next(
        a for a in attachments if "EBSCSI" in a["policyArn"]
    ).items()
    storage_class = _one(resources, "kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage_class["metadata"]["annotations"] == {"storageclass.kubernetes.io/is-default-class": "true"}
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}


def test_gcp_cloud_sql_is_on_the_enterprise_edition_that_takes_custom_tiers() -> None:
    database = _one(_declared("gcp", "staging"), "gcp:sql/databaseInstance:DatabaseInstance")

    assert database["settings"]["edition"] == "ENTERPRISE"
    assert cloudsql.tier_problem(database["databaseVersion"], "ENTERPRISE", database["settings"]["tier"]) is None


def test_a_version_past_extended_support_exits_2_naming_the_date_and_what_is_supported() -> None:
    home = Path(os.environ["PROVISIONER_HOME"])

    result = deploy_cli("aws", "--env", "staging", "--simulate", "--set", "cluster.kubernetes_version=1.31")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: invalid settings for recipe 'aws': field 'cluster': Kubernetes 1.31 reached the end of EKS extended "
        "support on 2026-11-26: EKS creates no clusters on it (in standard support: 1.35, 1.34)"
    )
    assert not (home / "simulated").exists()
    assert all(rows == [] for rows in registry_rows().values())


def test_a_version_in_extended_support_needs_the_flag_then_deploys_on_the_extended_policy() -> None:
    refused = deploy_cli("aws", "--env", "staging", "--simulate", "--set", "cluster.kubernetes_version=1.33")
    assert refused.exit_code == 2
    assert "left EKS standard support on 2026-07-29" in refused.stderr and "cluster.allow_extended_support=true" in refused.stderr

    outcome = _deploy("--set", "cluster.kubernetes_version=1.33", "--set", "cluster.allow_extended_support=true")

    assert outcome["outputs"]["kubernetes_version"]["value"] == "1.33"
    assert "Note: Kubernetes 1.33 is in EKS extended support since 2026-07-29 ($0.60 per cluster-hour)." in outcome["summary"]


def test_a_redeploy_keeps_the_version_resolved_first_and_says_a_newer_one_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISIONER_FACTS_AS_OF", "2026-01-10")  # 1.35 is not out yet
    assert _deploy()["outputs"]["kubernetes_version"]["value"] == "1.34"

    monkeypatch.setenv("PROVISIONER_FACTS_AS_OF", "2026-06-01")  # 1.35 is the newest now
    again = _deploy()

    assert again["outputs"]["kubernetes_version"]["value"] == "1.34"
    cluster = [r for r in again["resources"] if r["type"] == "aws:eks/cluster:Cluster"]
    assert [r["op"] for r in cluster] == ["same"]
    assert "EKS 1.35 is newer than this cluster's 1.34: --set cluster.kubernetes_version=1.35 upgrades it." in again["summary"]


# ----- the emulators refuse what the cloud refuses ------------------------------------------------


def _ctx() -> EmulationContext:
    return EmulationContext(stack="refusals", project="provisioner-aws", region="eu-west-1")


def test_the_eks_emulator_refuses_a_version_past_extended_support() -> None:
    with pytest.raises(RuntimeError, match=r"^InvalidParameterException: unsupported Kubernetes version 1\.30 \(EKS offers 1\.35, 1\.34, 1\.33, 1\.32\)$"):
        handler_for("aws:eks/cluster:Cluster").create("c", "aws:eks/cluster:Cluster", {"version": "1.30", "roleArn": "arn:aws:iam::1:role/r"}, _ctx())


def test_the_rds_emulator_refuses_a_retired_minor() -> None:
    inputs = {"engine": "postgres", "engineVersion": "16.4", "instanceClass": "db.t4g.small", "allocatedStorage": 20}

    with pytest.raises(RuntimeError, match=r"^InvalidParameterCombination: Cannot find version 16\.4 for postgres"):
        handler_for("aws:rds/instance:Instance").create("db", "aws:rds/instance:Instance", inputs, _ctx())


def test_the_cloud_sql_emulator_refuses_a_custom_tier_on_the_default_enterprise_plus_edition() -> None:
    inputs = {"databaseVersion": "POSTGRES_16", "region": "europe-west1", "settings": {"tier": "db-custom-1-3840"}}

    with pytest.raises(RuntimeError, match=r"Invalid Tier \(db-custom-1-3840\) for \(ENTERPRISE_PLUS\) Edition"):
        handler_for("gcp:sql/databaseInstance:DatabaseInstance").create("db", "gcp:sql/databaseInstance:DatabaseInstance", inputs, _ctx())


def test_a_claim_with_no_storage_class_on_eks_without_a_default_waits_then_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi_kubernetes as k8s

    from recipes.aws import stack as aws_stack

    monkeypatch.setenv("PROVISIONER_SIMULATED_BIND_TIMEOUT", "1")
    real = k8s.storage.v1.StorageClass

    def no_default_class(name: str, **kwargs: Any) -> Any:  # the recipe as it was before: no default StorageClass
        kwargs["metadata"] = k8s.meta.v1.ObjectMetaArgs(name="gp3")
        return real(name, **kwargs)

    monkeypatch.setattr(aws_stack.k8s.storage.v1, "StorageClass", no_default_class)

    result = deploy_cli("aws", "--env", "dev", "--simulate")

    assert result.exit_code == 1
    assert (
        "PersistentVolumeClaim mlflow/aws-dev-mlflow-data stayed Pending for 1s: it names no StorageClass and the EKS "
        "cluster has no default one" in " ".join(result.stderr.split())
    )


def _plan(recipe: str) -> list[dict[str, Any]]:
    result = deploy_cli(recipe, "--env", "staging", "--simulate", "--plan", "--output", "json")
    assert result.exit_code == 0, result.stderr
    resources: list[dict[str, Any]] = json.loads(result.stdout)["resources"]
    return resources


def _images(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [image for key, item in value.items() for image in ([item] if key == "image" else _images(item))]
    if isinstance(value, list):
        return [image for item in value for image in _images(item)]
    return []


def test_the_aws_staging_plan_json_shows_supported_versions_binding_storage_and_maintained_images() -> None:
    plan = _plan("aws")
    by_type = {r["type"]: r["inputs"] for r in plan}

    version = by_type["aws:eks/cluster:Cluster"]["version"]
    assert eks.find(version).support(eks.date.fromisoformat(AS_OF)) == "standard"  # type: ignore[union-attr]
    assert rds.version_problem(by_type["aws:rds/instance:Instance"]["engineVersion"]) is None
    assert by_type["aws:eks/addon:Addon"]["addonName"] == "aws-ebs-csi-driver"
    assert by_type["kubernetes:storage.k8s.io/v1:StorageClass"]["metadata"]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    images = _images([r["inputs"] for r in plan])
    from recipes.kubernetes.defaults import MLFLOW_IMAGE

    assert [image for image in images if "mlflow" in image] == [MLFLOW_IMAGE]
    assert MLFLOW_IMAGE.startswith("ghcr.io/mlflow/mlflow:v") and MLFLOW_IMAGE.endswith("-full")
    assert not [image for image in images if "minio" in image]


def test_the_gcp_staging_plan_json_puts_cloud_sql_on_enterprise() -> None:
    (database,) = [r["inputs"] for r in _plan("gcp") if r["type"] == "gcp:sql/databaseInstance:DatabaseInstance"]

    assert database["settings"]["edition"] == "ENTERPRISE"


def test_the_plan_of_a_stack_on_an_older_version_says_a_newer_one_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVISIONER_FACTS_AS_OF", "2026-01-10")
    assert _deploy()["outputs"]["kubernetes_version"]["value"] == "1.34"
    monkeypatch.setenv("PROVISIONER_FACTS_AS_OF", "2026-06-01")

    plan = deploy_cli("aws", "--env", "staging", "--simulate", "--plan")

    assert plan.exit_code == 0, plan.stderr
    assert "EKS 1.35 is newer than this cluster's 1.34: --set cluster.kubernetes_version=1.35 upgrades it." in plan.stdout.splitlines()


def test_a_version_is_read_as_typed_on_the_command_line_and_must_be_quoted_in_a_file(tmp_path: Path) -> None:
    typed = deploy_cli("aws", "--env", "dev", "--simulate", "--set", "cluster.kubernetes_version=1.30")
    assert typed.exit_code == 2
    assert typed.stderr.strip() == (
        "error: invalid settings for recipe 'aws': field 'cluster': Kubernetes 1.30 is older than 1.31, whose EKS "
        "extended support ended 2026-11-26: EKS creates no clusters on it (in standard support: 1.35, 1.34)"
    )

    config = tmp_path / "config.yaml"
    config.write_text("args:\n  cluster:\n    kubernetes_version: 1.30\n")
    unquoted = deploy_cli("aws", "--env", "dev", "--simulate", "-f", str(config))

    assert unquoted.exit_code == 2
    assert unquoted.stderr.strip() == (
        "error: invalid settings for recipe 'aws': field 'cluster.kubernetes_version': quote the version in YAML "
        "('1.3'): unquoted, 1.30 is read as the number 1.3"
    )
