"""The Kubernetes recipe under mocks: valid manifests, auth always on, secure defaults, per-env exposure."""

from __future__ import annotations

import configparser
from typing import Any

import kubernetes_validate
import pytest

from provisioner.config import resolve_request
from provisioner.errors import InputError
from recipes.kubernetes import KubernetesRecipe, defaults
from recipes.kubernetes.auth import render_auth_config, server_command
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


def test_dev_keeps_mlflow_data_on_a_volume_and_a_database_uri_replaces_it() -> None:
    dev_mocks, _ = _run("dev")
    db_mocks, _ = _run("prod", "mlflow.backend_store_uri=postgresql://mlflow:pw@db:5432/mlflow", "mlflow.replicas=2")

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


def test_server_command_installs_pinned_extras_then_execs_mlflow() -> None:
    plain = server_command(port=5000, workers=1)
    wrapped = server_command(port=5000, workers=1, install=["mlflow[auth]==3.17.2"])

    assert plain[:4] == ["mlflow", "server", "--app-name", "basic-auth"]
    assert wrapped[:2] == ["sh", "-c"] and "'mlflow[auth]==3.17.2' && exec mlflow server" in wrapped[2]
