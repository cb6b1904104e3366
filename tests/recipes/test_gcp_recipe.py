"""The GCP recipe under mocks: presets, deletion protection, non-authoritative IAM, labels, zones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.config import resolve_request
from provisioner.errors import InputError
from recipes.gcp import GcpRecipe, defaults
from tests.helpers import cli_json, deploy_cli, destroy_cli, registry_rows
from tests.recipes.mocks import RecordingMocks, run_recipe

ENVS = ["dev", "staging", "prod"]
AUTHORITATIVE = ("IAMBinding", "IAMPolicy", "IamBinding", "IamPolicy")


def _run(env: str, *sets: str) -> tuple[RecordingMocks, dict[str, Any]]:
    recipe = GcpRecipe()
    request, args = resolve_request(recipe, env=env, sets=list(sets))
    recipe.check(args, simulated=True, region=request.region)
    return run_recipe(recipe, args, request.context(simulated=True))


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[RecordingMocks, dict[str, Any]]]:
    return {env: _run(env) for env in ENVS}


@pytest.mark.parametrize("env", ENVS)
def test_node_pool_and_cluster_shape_follow_the_preset_table(runs: dict[str, Any], env: str) -> None:
    mocks, _ = runs[env]
    preset = defaults.PRESETS[env]
    (cluster,) = mocks.of_type("gcp:container/cluster:Cluster")
    (pool,) = mocks.of_type("gcp:container/nodePool:NodePool")

    nodes = preset["cluster"]["nodes"]
    assert pool.inputs["nodeConfig"]["machineType"] == nodes["machine_type"]
    assert pool.inputs["nodeConfig"]["spot"] is nodes["spot"]
    assert pool.inputs["nodeCount"] == nodes["desired"]
    assert pool.inputs["autoscaling"] == {"minNodeCount": nodes["min"], "maxNodeCount": nodes["max"]}
    assert cluster.inputs["removeDefaultNodePool"] is True
    assert cluster.inputs["workloadIdentityConfig"]["workloadPool"].endswith(".svc.id.goog")
    zones = defaults.REGION_ZONES[defaults.DEFAULT_REGION]
    if preset["cluster"]["regional"]:
        assert cluster.inputs["location"] == defaults.DEFAULT_REGION and cluster.inputs["nodeLocations"] == list(zones)
    else:
        assert cluster.inputs["location"] == zones[0]


@pytest.mark.parametrize(("env", "protected"), [("dev", False), ("staging", False), ("prod", True)])
def test_deletion_protection_is_on_only_in_prod(runs: dict[str, Any], env: str, protected: bool) -> None:
    mocks, _ = runs[env]
    (cluster,) = mocks.of_type("gcp:container/cluster:Cluster")

    assert cluster.inputs["deletionProtection"] is protected
    for database in mocks.of_type("gcp:sql/databaseInstance:DatabaseInstance"):
        assert database.inputs["deletionProtection"] is protected
        assert database.inputs["settings"]["deletionProtectionEnabled"] is protected


@pytest.mark.parametrize("env", ENVS)
def test_no_authoritative_iam_and_no_key_unless_asked(runs: dict[str, Any], env: str) -> None:
    mocks, _ = runs[env]

    types = {r.type for r in mocks.resources}
    assert not [t for t in types if any(word in t for word in AUTHORITATIVE)]
    assert "gcp:serviceaccount/key:Key" not in types
    assert mocks.of_type("gcp:projects/iAMMember:IAMMember")  # access is granted, member by member


def test_a_connector_key_is_created_only_when_asked() -> None:
    mocks, _ = _run("dev", "create_connector_key=true")

    assert len(mocks.of_type("gcp:serviceaccount/key:Key")) == 1


def test_buckets_are_private_and_databases_have_no_public_ip(runs: dict[str, Any]) -> None:
    for env in ENVS:
        mocks, _ = runs[env]
        preset = defaults.PRESETS[env]
        (bucket,) = mocks.of_type("gcp:storage/bucket:Bucket")
        assert bucket.inputs["uniformBucketLevelAccess"] is True
        assert bucket.inputs["publicAccessPrevention"] == "enforced"
        assert bucket.inputs["versioning"]["enabled"] is preset["bucket"]["versioning"]
        assert bucket.inputs["forceDestroy"] is preset["bucket"]["force_destroy"]
        (repository,) = mocks.of_type("gcp:artifactregistry/repository:Repository")
        assert repository.inputs["dockerConfig"] == {"immutableTags": preset["registry"]["immutable_tags"]}
        (cleanup,) = repository.inputs["cleanupPolicies"]
        assert cleanup["condition"] == {"tagState": "UNTAGGED", "olderThan": f"{preset['registry']['untagged_expiry_days'] * 86400}s"}
        for database in mocks.of_type("gcp:sql/databaseInstance:DatabaseInstance"):
            ip = database.inputs["settings"]["ipConfiguration"]
            assert ip["ipv4Enabled"] is False and ip["privateNetwork"]
            assert database.inputs["settings"]["backupConfiguration"]["enabled"] is True
            assert database.inputs["settings"]["tier"] == preset["database"]["tier"]
            assert database.inputs["settings"]["diskSize"] == preset["database"]["storage_gb"]
            expected = "REGIONAL" if preset["database"]["high_availability"] else "ZONAL"
            assert database.inputs["settings"]["availabilityType"] == expected
    assert not runs["dev"][0].of_type("gcp:sql/databaseInstance:DatabaseInstance")


def test_every_labelled_resource_carries_the_stack_labels(runs: dict[str, Any]) -> None:
    mocks, _ = runs["staging"]
    wanted = {"provisioner-stack": "gcp-staging", "provisioner-env": "staging", "provisioner-recipe": "gcp"}
    checked = 0
    for resource in mocks.of_type("gcp:"):
        for key in ("labels", "resourceLabels"):
            if key in resource.inputs:
                assert wanted.items() <= resource.inputs[key].items(), resource.name
                checked += 1
        if resource.type == "gcp:sql/databaseInstance:DatabaseInstance":
            assert wanted.items() <= resource.inputs["settings"]["userLabels"].items()
    assert checked >= 4


def test_workload_identity_binds_each_kubernetes_account_to_its_google_account(runs: dict[str, Any]) -> None:
    mocks, _ = runs["staging"]

    bindings = [r.inputs for r in mocks.of_type("gcp:serviceaccount/iAMMember:IAMMember") if r.inputs["role"] == "roles/iam.workloadIdentityUser"]

    members = sorted(b["member"] for b in bindings)
    assert members == [
        f"serviceAccount:{GcpRecipeProject}.svc.id.goog[ml-pipelines/pipeline-runner]",
        f"serviceAccount:{GcpRecipeProject}.svc.id.goog[mlflow/gcp-staging-mlflow]",
    ]


GcpRecipeProject = "provisioner-simulated"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--region", "mars-north1"], "unknown region 'mars-north1'", id="unknown-region"),
        pytest.param(["--set", "cluster.zone=us-east1-b"], "zone 'us-east1-b' is not in region europe-west1", id="zone-outside-region"),
    ],
)
def test_bad_region_or_zone_exits_2_and_creates_nothing(args: list[str], message: str) -> None:
    result = deploy_cli("gcp", "--env", "staging", "--simulate", *args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert all(rows == [] for rows in registry_rows().values())


def test_staging_deploy_registers_the_mapped_stack_and_destroy_removes_it() -> None:
    result = deploy_cli("gcp", "--env", "staging", "--simulate", "--output", "json")
    assert result.exit_code == 0, result.stderr
    stack = cli_json("stack", "describe", "gcp-staging")

    flavors = {t: c["flavor"] for t, c in stack["components"].items()}
    assert flavors == {
        "orchestrator": "kubernetes", "artifact_store": "gcp", "container_registry": "gcp", "experiment_tracker": "mlflow",
        "model_registry": "mlflow", "step_operator": "vertex", "image_builder": "gcp",
    }
    connector = stack["components"]["artifact_store"]["connector"]
    assert connector["type"] == "gcp" and connector["auth_method"] == "impersonation"
    assert connector["configuration"]["target_principal"].endswith(".iam.gserviceaccount.com")
    assert stack["components"]["artifact_store"]["config"]["path"].startswith("gs://")
    assert json.loads(result.stdout)["outputs"]["mlflow_password"]["value"] == "********"

    destroyed = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes")
    assert destroyed.exit_code == 0, destroyed.stderr
    assert all(rows == [] for rows in registry_rows().values())


def test_a_real_deploy_without_a_project_is_refused() -> None:
    import os

    os.environ.pop("GOOGLE_CLOUD_PROJECT", None)
    _, args = resolve_request(GcpRecipe(), env="dev")

    with pytest.raises(InputError, match="needs a project"):
        GcpRecipe().check(args, simulated=False)
