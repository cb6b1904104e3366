"""The standalone `kubernetes` recipe: MLflow with auth, S3-compatible storage (SeaweedFS) and a pipeline namespace on any cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field

from provisioner.errors import InputError
from provisioner.recipe_api import (
    ComponentEntry,
    ProviderPlugin,
    Recipe,
    RecipeArgs,
    RecipeContext,
    RecipeOutputs,
    RegistrationPlan,
    secret_output,
)
from recipes.kubernetes import defaults
from recipes.kubernetes.settings import KubernetesStackSettings, MlflowSettings


class KubernetesArgs(KubernetesStackSettings):
    """Settings of the standalone Kubernetes recipe: the stack's, and the cluster to deploy to."""

    renamed_keys: ClassVar[Mapping[str, str]] = {
        "minio": "object_store",
        "minio_storage_size": "object_store.storage_size",
        "minio_storage_class": "object_store.storage_class",
    }

    kube_context: str = Field("", description="kubeconfig context of the target cluster (--context).")


# One table for the three envs; `provisioner recipe describe kubernetes` prints it resolved.
PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "mlflow": {"service_type": "ClusterIP", "storage_size": "5Gi"},
        "object_store": {"storage_size": "10Gi"},
    },
    "staging": {
        "mlflow": {"service_type": "LoadBalancer", "source_ranges": ["0.0.0.0/0"], "storage_size": "20Gi"},
        "object_store": {"storage_size": "50Gi"},
    },
    "prod": {
        "mlflow": {
            "service_type": "LoadBalancer",
            "source_ranges": ["0.0.0.0/0"],
            "storage_size": "50Gi",
            "cpu_request": "500m",
            "memory_request": "1Gi",
            "cpu_limit": "2",
            "memory_limit": "2Gi",
        },
        "object_store": {"storage_size": "200Gi"},
    },
}


class MlflowOutputs(RecipeOutputs):
    """The MLflow outputs every recipe that deploys MlflowServer exports (``export_mlflow_outputs``)."""

    mlflow_service_type: str
    mlflow_open_to_all: bool
    mlflow_tracking_uri: str
    mlflow_internal_uri: str
    mlflow_port_forward: str
    mlflow_username: str
    mlflow_password: str = secret_output()


def export_mlflow_outputs(server: Any, settings: MlflowSettings) -> None:
    """Export an MlflowServer's outputs under the names MlflowOutputs gives them."""
    import pulumi

    pulumi.export("mlflow_service_type", settings.service_type)
    pulumi.export("mlflow_open_to_all", settings.open_to_all)
    pulumi.export("mlflow_tracking_uri", server.tracking_uri)
    pulumi.export("mlflow_internal_uri", server.internal_uri)
    pulumi.export("mlflow_port_forward", server.port_forward)
    pulumi.export("mlflow_username", server.admin_username)
    pulumi.export("mlflow_password", pulumi.Output.secret(server.admin_password))


def mlflow_notes(outputs: MlflowOutputs, context: RecipeContext, tracker_component: str) -> list[str]:
    """How to reach and log in to MLflow, without the password."""
    lines = [f"MLflow UI: {outputs.mlflow_tracking_uri}"]
    if outputs.mlflow_service_type == "ClusterIP":
        lines = [
            f"MLflow UI (in the cluster: {outputs.mlflow_tracking_uri}): run `{outputs.mlflow_port_forward}`, "
            f"then open http://localhost:{defaults.MLFLOW_PORT}"
        ]
    lines.append(
        f"Log in as {outputs.mlflow_username!r}; the password: "
        f"provisioner secret describe component-{tracker_component} --show-secrets"
    )
    if outputs.mlflow_open_to_all:
        lines.append(
            "Note: the MLflow load balancer accepts any address (login still required); "
            "restrict it with --set 'mlflow.source_ranges=[\"203.0.113.0/24\"]'"
        )
    return lines


def export_stack_outputs(stack: Any, kube_context: str, settings: MlflowSettings) -> None:
    """The outputs the recipe's registration and summary read; shared with embedding projects."""
    import pulumi

    pulumi.export("kube_context", kube_context)
    pulumi.export("pipelines_namespace", stack.pipelines_namespace)
    pulumi.export("pipelines_service_account", stack.pipelines_service_account)
    pulumi.export("artifact_path", stack.artifact_path)
    pulumi.export("s3_endpoint", stack.s3_endpoint)
    pulumi.export("s3_access_key", stack.s3_access_key)
    pulumi.export("s3_secret_key", pulumi.Output.secret(stack.s3_secret_key))
    export_mlflow_outputs(stack.mlflow, settings)


class KubernetesOutputs(MlflowOutputs):
    """What the kubernetes program exports."""

    kube_context: str
    pipelines_namespace: str
    pipelines_service_account: str
    artifact_path: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str = secret_output()


class KubernetesRecipe(Recipe):
    """MLflow behind basic auth, an in-cluster S3 store (SeaweedFS), and a pipeline namespace, on an existing cluster."""

    name = "kubernetes"
    description = "MLflow with auth, S3-compatible artifact storage (SeaweedFS) and a pipeline namespace on an existing cluster"
    args_model = KubernetesArgs
    presets = PRESETS
    plugins = (ProviderPlugin("kubernetes", "pulumi-kubernetes"), ProviderPlugin("random", "pulumi-random"))
    context_field = "kube_context"
    managed_namespaces = (defaults.MLFLOW_NAMESPACE, defaults.PIPELINES_NAMESPACE)
    outputs_model = KubernetesOutputs
    retention = defaults.RETENTION

    def check(self, args: RecipeArgs, *, simulated: bool = False, region: str | None = None) -> None:
        assert isinstance(args, KubernetesArgs)
        if not args.kube_context:
            raise InputError("recipe 'kubernetes' needs the cluster: pass --context NAME (a kubeconfig context)")

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        import pulumi
        import pulumi_kubernetes as k8s

        from recipes.kubernetes.stack import KubernetesMlopsStack

        assert isinstance(args, KubernetesArgs)
        provider = k8s.Provider(f"{context.stack_name}-cluster", context=args.kube_context)
        stack = KubernetesMlopsStack(
            context.stack_name, args, tags=context.tags, opts=pulumi.ResourceOptions(providers=[provider])
        )
        export_stack_outputs(stack, args.kube_context, args.mlflow)

    def registration(self, outputs: RecipeOutputs, context: RecipeContext) -> RegistrationPlan:
        assert isinstance(outputs, KubernetesOutputs)
        prefix = context.stack_name
        kube = {"kubernetes_context": outputs.kube_context, "namespace": outputs.pipelines_namespace}
        tracking_uri = outputs.mlflow_tracking_uri
        return RegistrationPlan(
            components=[
                ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube),
                ComponentEntry(
                    f"{prefix}-artifacts",
                    "artifact_store",
                    "s3",
                    {
                        "path": outputs.artifact_path,
                        "endpoint_url": outputs.s3_endpoint,
                        "aws_access_key_id": outputs.s3_access_key,
                        "aws_secret_access_key": outputs.s3_secret_key,
                    },
                ),
                ComponentEntry(
                    f"{prefix}-tracker",
                    "experiment_tracker",
                    "mlflow",
                    {
                        "tracking_uri": tracking_uri,
                        "tracking_username": outputs.mlflow_username,
                        "tracking_password": outputs.mlflow_password,
                    },
                ),
                ComponentEntry(f"{prefix}-models", "model_registry", "mlflow", {"tracking_uri": tracking_uri}),
                ComponentEntry(f"{prefix}-builder", "image_builder", "kaniko", kube),
            ]
        )

    def summary(self, outputs: RecipeOutputs, context: RecipeContext) -> list[str]:
        assert isinstance(outputs, KubernetesOutputs)
        return mlflow_notes(outputs, context, f"{context.stack_name}-tracker")
