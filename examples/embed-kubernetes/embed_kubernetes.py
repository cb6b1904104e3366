"""A team's existing Pulumi program for a cluster it already has, with provisioner's Kubernetes stack in it.

The program owns the provider (an existing kubeconfig context) and the team's own namespace, embeds
``KubernetesMlopsStack`` (MLflow with auth, MinIO, a pipeline namespace) through that provider, tells
the team's apps where MLflow is (a ConfigMap in the team namespace), and exports the outputs that
``provisioner register --from-stack`` reads (those of the ``kubernetes`` recipe's mapping).

Stack config:
    embed-kubernetes:kube_context        kubeconfig context of the cluster (required)
    embed-kubernetes:env                 env label (default: the Pulumi stack name)
    embed-kubernetes:name                component name prefix (default: PROJECT-STACK)
    embed-kubernetes:team_namespace      the team's own namespace (default team-ml)
    embed-kubernetes:mlflow_service_type ClusterIP (default) or LoadBalancer
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from provisioner.recipe_api import RecipeContext
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.recipe import export_stack_outputs
from recipes.kubernetes.settings import KubernetesStackSettings, MlflowSettings
from recipes.kubernetes.stack import KubernetesMlopsStack


def main() -> None:
    """The whole program: provider and team namespace, the embedded stack, the team's ConfigMap, the outputs."""
    config = pulumi.Config()
    kube_context = config.require("kube_context")
    env = config.get("env") or pulumi.get_stack()
    name = config.get("name") or f"{pulumi.get_project()}-{pulumi.get_stack()}"
    tags = RecipeContext("kubernetes", env, name).tags

    provider = k8s.Provider(f"{name}-cluster", context=kube_context)
    on_cluster = pulumi.ResourceOptions(provider=provider)
    team = k8s.core.v1.Namespace(
        f"{name}-team",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=config.get("team_namespace") or "team-ml", labels=k8s_labels(tags, "team")),
        opts=on_cluster,
    )

    settings = MlflowSettings(service_type=config.get("mlflow_service_type") or "ClusterIP")
    stack = KubernetesMlopsStack(
        name, KubernetesStackSettings(mlflow=settings), tags=tags, opts=pulumi.ResourceOptions(providers=[provider])
    )
    k8s.core.v1.ConfigMap(
        f"{name}-mlflow-endpoint",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="mlflow", namespace=team.metadata.name, labels=k8s_labels(tags, "team")),
        data={"MLFLOW_TRACKING_URI": stack.mlflow.internal_uri},
        opts=on_cluster,
    )
    export_stack_outputs(stack, kube_context, settings)
