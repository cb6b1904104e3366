"""Prod data is kept by every recipe's destroy, reported as kept, and removed with --delete-data."""

from __future__ import annotations

import json
import os
from pathlib import Path

from provisioner.teardown.flow import SIMULATED_KUBE_API_ENV
from tests.helpers import deploy_cli, destroy_cli
from tests.teardown.kube_objects import claim, core_for, namespace, names, service

GCP_DATA = {
    "gcp:sql/databaseInstance:DatabaseInstance": "gcp-prod-mlflow-db-postgres",
    "gcp:storage/bucket:Bucket": "gcp-prod-artifacts",
}


def _state(recipe: str, env: str) -> dict | None:  # type: ignore[type-arg]
    path = Path(os.environ["PROVISIONER_HOME"]) / "simulated" / f"provisioner-{recipe}" / f"{env}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _kept(report: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {r["type"]: r["name"] for r in report["kept_resources"]}


def test_gcp_prod_destroy_keeps_cloud_sql_and_the_bucket_then_delete_data_removes_them() -> None:
    assert deploy_cli("gcp", "--env", "prod", "--simulate", "--yes").exit_code == 0

    kept = destroy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--output", "json")

    assert kept.exit_code == 0, kept.stderr
    report = json.loads(kept.stdout)["report"]
    assert report["data_retained"] is True
    assert {t: n for t, n in _kept(report).items() if t in GCP_DATA} == GCP_DATA
    assert _kept(report)["gcp:servicenetworking/connection:Connection"] == "gcp-prod-network-services-peering"
    assert "gcp:container/cluster:Cluster" not in _kept(report)
    remaining = {r["type"] for r in _state("gcp", "prod")["resources"]}  # type: ignore[index]
    assert set(GCP_DATA) <= remaining and "gcp:container/cluster:Cluster" not in remaining

    deleted = destroy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--delete-data", "--output", "json")

    assert deleted.exit_code == 0, deleted.stderr
    outcome = json.loads(deleted.stdout)
    assert outcome["report"]["data_retained"] is False and outcome["report"]["kept_resources"] == []
    assert outcome["stack_removed"] is True and _state("gcp", "prod") is None


def test_staging_destroy_never_claims_data_was_kept() -> None:
    assert deploy_cli("gcp", "--env", "staging", "--simulate").exit_code == 0

    result = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["report"]["data_retained"] is False


def test_kubernetes_prod_destroy_keeps_the_volume_claims_and_their_namespace(kube_api: str) -> None:
    os.environ[SIMULATED_KUBE_API_ENV] = kube_api
    core = core_for(kube_api)
    namespace(core, "mlflow")
    claim(core, "mlflow", "mlflow-data")
    service(core, "mlflow", "mlflow-public")
    assert deploy_cli("kubernetes", "--env", "prod", "--simulate", "--yes", "--context", "kind-test").exit_code == 0

    kept = destroy_cli("kubernetes", "--env", "prod", "--simulate", "--yes", "--context", "kind-test", "--output", "json")

    assert kept.exit_code == 0, kept.stderr
    report = json.loads(kept.stdout)["report"]
    assert report["data_retained"] is True
    assert sorted(r["name"] for r in report["kept_resources"]) == [
        "kubernetes-prod-mlflow-data", "kubernetes-prod-mlflow-ns", "kubernetes-prod-s3store-data",
    ]
    assert names(core.list_namespaced_persistent_volume_claim("mlflow").items) == ["mlflow-data"]  # pre-destroy kept it
    assert names([s for s in core.list_namespaced_service("mlflow").items if s.spec.type == "LoadBalancer"]) == []

    deleted = destroy_cli("kubernetes", "--env", "prod", "--simulate", "--yes", "--context", "kind-test", "--delete-data", "--output", "json")

    assert deleted.exit_code == 0, deleted.stderr
    assert core.list_namespaced_persistent_volume_claim("mlflow").items == []
    assert json.loads(deleted.stdout)["report"]["kept_resources"] == []
    assert _state("kubernetes", "prod") is None
