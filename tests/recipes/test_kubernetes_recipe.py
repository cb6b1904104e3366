"""The Kubernetes recipe under mocks: valid manifests, auth always on, secure defaults, per-env exposure."""

from __future__ import annotations

import configparser
import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from provisioner.config import resolve_request
from provisioner.errors import InputError
from recipes.kubernetes import KubernetesRecipe, defaults
from recipes.kubernetes.auth import render_auth_config, server_command
from recipes.kubernetes.s3store import render_s3_identities
from tests.recipes.mocks import RecordingMocks, run_recipe

ENVS = ["dev", "staging", "prod"]


def _run(env: str, *sets: str) -> tuple[RecordingMocks, dict[str, Any]]:
    recipe = KubernetesRecipe()
    request, args = resolve_request(recipe, env=env, sets=list(sets), context="kind-test")
    return run_recipe(recipe, args, request.context(simulated=True))


def _manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in inputs.items() if key != "status"}


@pytest.mark.parametrize("env", ENVS)
def test_every_manifest_validates_against_the_kubernetes_schema(env: str) -> None:
    mocks, _ = _run(env)

    manifests = [r for r in mocks.of_type("kubernetes:") if r.type != "pulumi:providers:kubernetes"]
    assert len(manifests) >= 15
    kinds = {m.inputs["kind"] for m in manifests}
    assert {"Namespace", "Deployment", "Service", "Secret", "ServiceAccount", "Role", "RoleBinding", "Job"} <= kinds
    for manifest in manifests:
        kubernetes_validate.validate(_manifest(manifest.inputs), defaults.KUBERNETES_VERSION, strict=True)


def _auth_config(mocks: RecordingMocks) -> configparser.ConfigParser:
    secret = next(r for r in mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("mlflow-auth"))
    parser = configparser.ConfigParser()
    parser.read_string(secret.inputs["stringData"][defaults.MLFLOW_AUTH_FILE])
    return parser


@pytest.mark.parametrize("env", ENVS)
def test_mlflow_always_runs_the_basic_auth_app_with_the_generated_password(env: str) -> None:
    mocks, exports = _run(env)

    deployment = next(r for r in mocks.of_type("kubernetes:apps/v1:Deployment") if r.name.endswith("mlflow-server"))
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
    command = " ".join(container["command"])
    assert "--app-name basic-auth" in command
    env_names = {item["name"] for item in container["env"]}
    assert {"MLFLOW_AUTH_CONFIG_PATH", "MLFLOW_FLASK_SERVER_SECRET_KEY", "MLFLOW_BACKEND_STORE_URI"} <= env_names
    auth = _auth_config(mocks)["mlflow"]
    assert auth["admin_password"] == exports["mlflow_password"]
    assert len(exports["mlflow_password"]) == defaults.PASSWORD_LENGTH
    assert auth["default_permission"] == "NO_PERMISSIONS"
    assert container["image"] == defaults.MLFLOW_IMAGE and ":v" in container["image"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert set(container["resources"]) == {"requests", "limits"}


def test_dev_is_cluster_ip_with_a_port_forward_and_staging_prod_are_load_balancers() -> None:
    dev_mocks, dev = _run("dev")
    prod_mocks, prod = _run("prod", "mlflow.source_ranges=[10.0.0.0/8]")

    def mlflow_service(mocks: RecordingMocks) -> dict[str, Any]:
        return next(r for r in mocks.of_type("kubernetes:core/v1:Service") if r.name.endswith("mlflow-svc")).inputs

    assert mlflow_service(dev_mocks)["spec"]["type"] == "ClusterIP"
    assert dev["mlflow_port_forward"].startswith("kubectl -n mlflow port-forward svc/")
    assert mlflow_service(prod_mocks)["spec"]["type"] == "LoadBalancer"
    assert mlflow_service(prod_mocks)["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert prod["mlflow_tracking_uri"].startswith("http://") and "lb.simulated.invalid" in prod["mlflow_tracking_uri"]


def test_tls_certificate_switches_the_load_balancer_to_https() -> None:
    mocks, exports = _run("staging", "mlflow.tls_certificate_arn=arn:aws:acm:eu-west-1:123456789012:certificate/abc")

    service = next(r for r in mocks.of_type("kubernetes:core/v1:Service") if r.name.endswith("mlflow-svc")).inputs
    assert service["spec"]["ports"][0]["port"] == 443
    assert "service.beta.kubernetes.io/aws-load-balancer-ssl-cert" in service["metadata"]["annotations"]
    assert exports["mlflow_tracking_uri"].startswith("https://")


def test_dev_keeps_mlflow_data_on_a_volume_and_a_database_uri_replaces_it(tmp_path: Path) -> None:
    uri_file = tmp_path / "mlflow-db"  # a secret setting: --set takes it only from a file
    uri_file.write_text("postgresql://mlflow:pw@db:5432/mlflow\n", encoding="utf-8")
    dev_mocks, _ = _run("dev")
    db_mocks, _ = _run("prod", f"mlflow.backend_store_uri=@{uri_file}", "mlflow.replicas=2")

    assert any(r.name.endswith("mlflow-data") for r in dev_mocks.of_type("kubernetes:core/v1:PersistentVolumeClaim"))
    assert not any(r.name.endswith("mlflow-data") for r in db_mocks.of_type("kubernetes:core/v1:PersistentVolumeClaim"))
    assert _auth_config(db_mocks)["mlflow"]["database_uri"] == "postgresql://mlflow:pw@db:5432/mlflow"


def test_pipeline_role_grants_no_wildcards_and_no_cluster_scope() -> None:
    mocks, _ = _run("dev")

    role = mocks.of_type("kubernetes:rbac.authorization.k8s.io/v1:Role")[0].inputs
    assert not mocks.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(
                ["mlflow.replicas=2"],
                r"^invalid settings for recipe 'kubernetes': mlflow.replicas=2 needs a database \(mlflow.backend_store_uri\): "
                "SQLite on a volume serves one replica$",
                id="replicas-on-sqlite",
            ),
        pytest.param(["mlflow.source_ranges=[everyone]"], "not a CIDR range", id="bad-cidr"),
        pytest.param(["mlflow.service_type=NodePort"], "service_type", id="bad-service-type"),
        pytest.param(["mlflow.storage_size=lots"], "storage_size", id="bad-quantity"),
    ],
)
def test_bad_settings_are_refused_at_resolution(sets: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_request(KubernetesRecipe(), env="dev", sets=sets, context="kind-test")


def test_deploy_without_a_context_is_refused() -> None:
    _, args = resolve_request(KubernetesRecipe(), env="dev")

    with pytest.raises(InputError, match="--context"):
        KubernetesRecipe().check(args)


def test_auth_config_refuses_an_empty_password() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        render_auth_config(admin_username="admin", admin_password="", database_uri="sqlite:///a.db")


def test_mlflow_runs_the_full_image_and_installs_nothing_at_start() -> None:
    mocks, _ = _run("dev")

    container = _container(mocks, "mlflow-server")
    assert container["image"] == "ghcr.io/mlflow/mlflow:v3.17.2-full"
    assert container["command"] == [
        "mlflow", "server", "--app-name", "basic-auth", "--host", "0.0.0.0", "--port", "5000", "--workers", "1", "--serve-artifacts",
    ]
    assert container["command"] == server_command(port=defaults.MLFLOW_PORT, workers=1)


def _container(mocks: RecordingMocks, deployment_suffix: str) -> dict[str, Any]:
    deployment = next(r for r in mocks.of_type("kubernetes:apps/v1:Deployment") if r.name.endswith(deployment_suffix))
    return deployment.inputs["spec"]["template"]["spec"]["containers"][0]


def test_the_object_store_is_seaweedfs_with_the_generated_keys_mlflow_uses() -> None:
    mocks, exports = _run("dev")

    container = _container(mocks, "s3store-server")
    assert container["image"] == "chrislusf/seaweedfs:4.48"
    assert container["args"][:1] == ["server"] and "-s3" in container["args"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in container["args"]
    secret = next(r for r in mocks.of_type("kubernetes:core/v1:Secret") if r.name.endswith("s3store-credentials"))
    identity = json.loads(secret.inputs["stringData"]["s3.json"])["identities"][0]
    assert identity["credentials"] == [{"accessKey": exports["s3_access_key"], "secretKey": exports["s3_secret_key"]}]
    assert exports["s3_endpoint"] == "http://kubernetes-dev-s3store.mlflow.svc.cluster.local:8333"
    mlflow_env = {item["name"]: item.get("value") for item in _container(mocks, "mlflow-server")["env"]}
    assert mlflow_env["MLFLOW_S3_ENDPOINT_URL"] == exports["s3_endpoint"]
    assert mlflow_env["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://mlflow-artifacts"


def test_the_bucket_job_makes_both_buckets_and_fails_until_they_are_listed() -> None:
    mocks, _ = _run("dev")

    job = next(r for r in mocks.of_type("kubernetes:batch/v1:Job") if r.name.endswith("s3store-buckets")).inputs
    pod = job["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == "chrislusf/seaweedfs:4.48"
    shell = "weed shell -master=kubernetes-dev-s3store.mlflow.svc.cluster.local:9333 -filer=kubernetes-dev-s3store.mlflow.svc.cluster.local:8888"
    assert container["command"] == [
        "sh", "-c",
        (
            f'for b in mlflow-artifacts pipeline-artifacts; do echo "s3.bucket.create -name $b" | {shell}; done; '
            f"listing=$(echo s3.bucket.list | {shell}); "
            'for b in mlflow-artifacts pipeline-artifacts; do echo "$listing" | grep -qw "$b" || '
            '{ echo "bucket $b not created yet"; exit 1; }; done'
        ),
    ]
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "buckets"


def test_only_the_bucket_job_may_reach_the_unauthenticated_master_and_filer_ports() -> None:
    mocks, _ = _run("dev")

    policy = mocks.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")[0].inputs["spec"]
    s3_rule, admin_rule = policy["ingress"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"
    assert s3_rule == {"ports": [{"port": 8333, "protocol": "TCP"}]}
    assert [peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for peer in admin_rule["from"]] == ["buckets"]
    assert [port["port"] for port in admin_rule["ports"]] == [9333, 19333, 8888, 18888]


def test_s3_identities_refuse_empty_keys() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        render_s3_identities("AKIAEXAMPLE", "")


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        pytest.param(["minio.storage_size=20Gi"], r"^--set minio.storage_size: 'minio' is now 'object_store' ", id="minio-section"),
        pytest.param(
            ["minio_storage_size=20Gi"], r"^--set minio_storage_size: 'minio_storage_size' is now 'object_store.storage_size' ", id="flat-0.2-key"
        ),
    ],
)
def test_minio_keys_point_to_the_object_store(sets: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        resolve_request(KubernetesRecipe(), env="dev", sets=sets, context="kind-test")


def test_object_store_size_is_set_per_env() -> None:
    mocks, _ = _run("prod", "object_store.storage_size=300Gi")

    claim = next(r for r in mocks.of_type("kubernetes:core/v1:PersistentVolumeClaim") if r.name.endswith("s3store-data"))
    assert claim.inputs["spec"]["resources"]["requests"] == {"storage": "300Gi"}
