"""The standalone `kubernetes` recipe: MLflow with auth, MinIO and a pipeline namespace on any cluster."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

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

QUANTITY = r"^[1-9][0-9]*(Mi|Gi|Ti)$"


class MlflowSettings(RecipeArgs):
    """MLflow server settings shared by every recipe that deploys it."""

    namespace: str = Field(defaults.MLFLOW_NAMESPACE, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    replicas: int = Field(1, ge=1, le=10)
    service_type: Literal["ClusterIP", "LoadBalancer"] = "ClusterIP"
    source_ranges: list[str] = Field(default_factory=list, description="CIDRs allowed to reach the load balancer.")
    tls_certificate_arn: str = Field("", description="ACM certificate: the load balancer then serves HTTPS on 443.")
    storage_size: str = Field("5Gi", pattern=QUANTITY)
    storage_class: str = ""
    image: str = defaults.MLFLOW_IMAGE
    install_extras: bool = Field(True, description="pip install the pinned auth/S3/PostgreSQL extras at start.")
    cpu_request: str = defaults.MLFLOW_RESOURCES.cpu_request
    memory_request: str = defaults.MLFLOW_RESOURCES.memory_request
    cpu_limit: str = defaults.MLFLOW_RESOURCES.cpu_limit
    memory_limit: str = defaults.MLFLOW_RESOURCES.memory_limit
    backend_store_uri: str = Field("", json_schema_extra={"secret": True}, description="Database URI; empty: SQLite on a volume.")

    @field_validator("source_ranges")
    @classmethod
    def _cidrs(cls, ranges: list[str]) -> list[str]:
        for cidr in ranges:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"not a CIDR range: {cidr!r}") from None
        return ranges

    def resources(self) -> defaults.Resources:
        return defaults.Resources(self.cpu_request, self.memory_request, self.cpu_limit, self.memory_limit)

    def server_args(self, *, replicas: int | None = None) -> Any:
        """These settings as MlflowServerArgs; the composing stack fills in namespace, storage and identity."""
        from recipes.kubernetes.mlflow import MlflowServerArgs

        return MlflowServerArgs(
            namespace="",
            artifacts_destination="",
            backend_store_uri=self.backend_store_uri or None,
            replicas=self.replicas if replicas is None else replicas,
            service_type=self.service_type,
            source_ranges=self.source_ranges,
            tls_certificate_arn=self.tls_certificate_arn or None,
            storage_size=self.storage_size,
            storage_class=self.storage_class or None,
            image=self.image,
            install_extras=self.install_extras,
            resources=self.resources(),
        )


class KubernetesArgs(RecipeArgs):
    """Settings of the standalone Kubernetes recipe."""

    kube_context: str = Field("", description="kubeconfig context of the target cluster (--context).")
    pipelines_namespace: str = Field(defaults.PIPELINES_NAMESPACE, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    minio_storage_size: str = Field("10Gi", pattern=QUANTITY)
    minio_storage_class: str = ""

    @model_validator(mode="after")
    def _one_replica_on_sqlite(self) -> "KubernetesArgs":
        if self.mlflow.replicas > 1 and not self.mlflow.backend_store_uri:
            raise ValueError(
                f"mlflow.replicas={self.mlflow.replicas} needs mlflow.backend_store_uri (a database): "
                "SQLite on a volume serves one replica"
            )
        return self


# One table for the three envs; `provisioner recipe describe kubernetes` prints it resolved.
PRESETS: dict[str, dict[str, Any]] = {
    "dev": {
        "mlflow": {"service_type": "ClusterIP", "storage_size": "5Gi"},
        "minio_storage_size": "10Gi",
    },
    "staging": {
        "mlflow": {"service_type": "LoadBalancer", "source_ranges": ["0.0.0.0/0"], "storage_size": "20Gi"},
        "minio_storage_size": "50Gi",
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
        "minio_storage_size": "200Gi",
    },
}


def mlflow_notes(outputs: Mapping[str, Any], context: RecipeContext, tracker_component: str, open_ranges: bool) -> list[str]:
    """How to reach and log in to MLflow, without the password."""
    lines = [f"MLflow UI: {outputs['mlflow_tracking_uri']}"]
    if outputs.get("mlflow_service_type") == "ClusterIP":
        lines = [
            f"MLflow UI (in the cluster: {outputs['mlflow_tracking_uri']}): run `{outputs['mlflow_port_forward']}`, "
            f"then open http://localhost:{defaults.MLFLOW_PORT}"
        ]
    lines.append(
        f"Log in as {outputs['mlflow_username']!r}; the password: "
        f"provisioner secret describe component-{tracker_component} --show-secrets"
    )
    if open_ranges:
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
    pulumi.export("minio_endpoint", stack.minio_endpoint)
    pulumi.export("minio_access_key", stack.minio_access_key)
    pulumi.export("minio_secret_key", pulumi.Output.secret(stack.minio_secret_key))
    pulumi.export("mlflow_service_type", settings.service_type)
    pulumi.export("mlflow_tracking_uri", stack.mlflow.tracking_uri)
    pulumi.export("mlflow_internal_uri", stack.mlflow.internal_uri)
    pulumi.export("mlflow_port_forward", stack.mlflow.port_forward)
    pulumi.export("mlflow_username", stack.mlflow.admin_username)
    pulumi.export("mlflow_password", pulumi.Output.secret(stack.mlflow.admin_password))
    open_ranges = not settings.source_ranges or "0.0.0.0/0" in settings.source_ranges
    pulumi.export("mlflow_open_to_all", settings.service_type == "LoadBalancer" and open_ranges)


class KubernetesOutputs(RecipeOutputs):
    """What the kubernetes program exports."""

    kube_context: str
    pipelines_namespace: str
    pipelines_service_account: str
    artifact_path: str
    minio_endpoint: str
    minio_access_key: str
    minio_secret_key: str = secret_output()
    mlflow_service_type: str
    mlflow_tracking_uri: str
    mlflow_internal_uri: str
    mlflow_port_forward: str
    mlflow_username: str
    mlflow_password: str = secret_output()
    mlflow_open_to_all: bool


class KubernetesRecipe(Recipe):
    """MLflow behind basic auth, MinIO, and a pipeline namespace, on an existing cluster."""

    name = "kubernetes"
    description = "MLflow with auth, MinIO artifact storage and a pipeline namespace on an existing cluster"
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

        from recipes.kubernetes.stack import KubernetesMlopsStack, KubernetesMlopsStackArgs

        assert isinstance(args, KubernetesArgs)
        provider = k8s.Provider(f"{context.stack_name}-cluster", context=args.kube_context)
        settings = args.mlflow
        stack = KubernetesMlopsStack(
            context.stack_name,
            KubernetesMlopsStackArgs(
                mlflow=settings.server_args(),
                mlflow_namespace=settings.namespace,
                pipelines_namespace=args.pipelines_namespace,
                minio_storage_size=args.minio_storage_size,
                minio_storage_class=args.minio_storage_class or None,
                tags=context.tags,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        export_stack_outputs(stack, args.kube_context, settings)

    def registration(self, outputs: Mapping[str, Any], context: RecipeContext) -> RegistrationPlan:
        prefix = context.stack_name
        kube = {"kubernetes_context": outputs["kube_context"], "namespace": outputs["pipelines_namespace"]}
        tracking_uri = outputs["mlflow_tracking_uri"]
        return RegistrationPlan(
            components=[
                ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube),
                ComponentEntry(
                    f"{prefix}-artifacts",
                    "artifact_store",
                    "s3",
                    {
                        "path": outputs["artifact_path"],
                        "endpoint_url": outputs["minio_endpoint"],
                        "aws_access_key_id": outputs["minio_access_key"],
                        "aws_secret_access_key": outputs["minio_secret_key"],
                    },
                ),
                ComponentEntry(
                    f"{prefix}-tracker",
                    "experiment_tracker",
                    "mlflow",
                    {
                        "tracking_uri": tracking_uri,
                        "tracking_username": outputs["mlflow_username"],
                        "tracking_password": outputs["mlflow_password"],
                    },
                ),
                ComponentEntry(f"{prefix}-registry", "model_registry", "mlflow", {"tracking_uri": tracking_uri}),
                ComponentEntry(f"{prefix}-builder", "image_builder", "kaniko", kube),
            ]
        )

    def summary(self, outputs: Mapping[str, Any], context: RecipeContext) -> list[str]:
        return mlflow_notes(outputs, context, f"{context.stack_name}-tracker", bool(outputs.get("mlflow_open_to_all")))
