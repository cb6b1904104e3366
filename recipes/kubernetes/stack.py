"""KubernetesMlopsStack: pipeline namespace, in-cluster artifact store and MLflow on any cluster."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from recipes.kubernetes import defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.mlflow import MlflowServer, MlflowWiring
from recipes.kubernetes.s3store import S3Store, S3StoreArgs
from recipes.kubernetes.settings import KubernetesStackSettings
from recipes.kubernetes.workloads import PipelineNamespace, PipelineNamespaceArgs

PIPELINE_BUCKET = "pipeline-artifacts"


class KubernetesMlopsStack(pulumi.ComponentResource):
    """Composes PipelineNamespace, S3Store and MlflowServer; holds no logic of its own."""

    pipelines_namespace: pulumi.Output[str]
    pipelines_service_account: pulumi.Output[str]
    artifact_path: pulumi.Output[str]
    s3_endpoint: pulumi.Output[str]
    s3_access_key: pulumi.Output[str]
    s3_secret_key: pulumi.Output[str]
    mlflow: MlflowServer

    def __init__(
        self,
        name: str,
        args: KubernetesStackSettings,
        *,
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("provisioner:kubernetes:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(tags or {})
        pipelines = PipelineNamespace(
            f"{name}-pipelines", PipelineNamespaceArgs(namespace=args.pipelines_namespace, tags=tags), opts=child
        )
        mlflow_ns = k8s.core.v1.Namespace(
            f"{name}-mlflow-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.mlflow.namespace, labels=k8s_labels(tags, "mlflow")),
            opts=child,
        )
        store = S3Store(
            f"{name}-s3store",
            S3StoreArgs(
                namespace=mlflow_ns.metadata.name,
                buckets=(defaults.ARTIFACT_BUCKET, PIPELINE_BUCKET),
                settings=args.object_store,
                tags=tags,
            ),
            opts=child,
        )
        self.mlflow = MlflowServer(
            f"{name}-mlflow",
            args.mlflow,
            MlflowWiring(
                namespace=mlflow_ns.metadata.name,
                artifacts_destination=f"s3://{defaults.ARTIFACT_BUCKET}",
                artifact_env={"MLFLOW_S3_ENDPOINT_URL": store.endpoint},
                artifact_secret_env={"AWS_ACCESS_KEY_ID": store.access_key, "AWS_SECRET_ACCESS_KEY": store.secret_key},
                tags=tags,
            ),
            opts=child,
        )
        self.pipelines_namespace = pipelines.namespace
        self.pipelines_service_account = pipelines.service_account
        self.artifact_path = pulumi.Output.from_input(f"s3://{PIPELINE_BUCKET}")
        self.s3_endpoint = store.endpoint
        self.s3_access_key = store.access_key
        self.s3_secret_key = store.secret_key
        self.register_outputs(
            {
                "pipelines_namespace": self.pipelines_namespace,
                "pipelines_service_account": self.pipelines_service_account,
                "artifact_path": self.artifact_path,
                "s3_endpoint": self.s3_endpoint,
                "tracking_uri": self.mlflow.tracking_uri,
            }
        )
