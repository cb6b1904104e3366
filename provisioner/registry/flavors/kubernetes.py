"""Flavors that run on a Kubernetes cluster."""

from __future__ import annotations

from pydantic import Field

from provisioner.facts import images
from provisioner.registry.flavors.base import Flavor, FlavorConfig
from provisioner.registry.models import ComponentType, ResourceType

KUBERNETES = "kubernetes"
KANIKO = "kaniko"
SELDON = "seldon"


class KubernetesTargetConfig(FlavorConfig):
    kubernetes_context: str = Field(description="kubeconfig context of the cluster.")
    namespace: str = Field("default", description="Namespace the workloads run in.")


class KanikoImageBuilderConfig(KubernetesTargetConfig):
    executor_image: str = Field(
        images.KANIKO_EXECUTOR_IMAGE, description="Pinned kaniko executor image (the maintained osscontainertools fork)."
    )


class SeldonModelDeployerConfig(KubernetesTargetConfig):
    base_url: str = Field(description="Ingress URL of the Seldon Core installation.")


class KubernetesOrchestratorFlavor(Flavor):
    name = KUBERNETES
    type = ComponentType.ORCHESTRATOR
    config_class = KubernetesTargetConfig
    connector_resource_type = ResourceType.KUBERNETES_CLUSTER
    description = "Runs each pipeline step as a Kubernetes pod."


class KubernetesStepOperatorFlavor(Flavor):
    name = KUBERNETES
    type = ComponentType.STEP_OPERATOR
    config_class = KubernetesTargetConfig
    connector_resource_type = ResourceType.KUBERNETES_CLUSTER
    description = "Runs single steps as Kubernetes pods with their own resources."


class KubernetesDeployerFlavor(Flavor):
    name = KUBERNETES
    type = ComponentType.DEPLOYER
    config_class = KubernetesTargetConfig
    connector_resource_type = ResourceType.KUBERNETES_CLUSTER
    description = "Serves pipelines as Kubernetes deployments."


class KanikoImageBuilderFlavor(Flavor):
    name = KANIKO
    type = ComponentType.IMAGE_BUILDER
    config_class = KanikoImageBuilderConfig
    connector_resource_type = ResourceType.KUBERNETES_CLUSTER
    description = "Builds images inside the cluster with kaniko, no Docker daemon needed."


class SeldonModelDeployerFlavor(Flavor):
    name = SELDON
    type = ComponentType.MODEL_DEPLOYER
    config_class = SeldonModelDeployerConfig
    connector_resource_type = ResourceType.KUBERNETES_CLUSTER
    description = "Serves models with Seldon Core on Kubernetes."


def flavors() -> list[type[Flavor]]:
    """The Kubernetes flavors."""
    return [
        KubernetesOrchestratorFlavor,
        KubernetesStepOperatorFlavor,
        KubernetesDeployerFlavor,
        KanikoImageBuilderFlavor,
        SeldonModelDeployerFlavor,
    ]
