"""Kubernetes recipe: MLflow behind basic auth (reused by the AWS and GCP recipes), in-cluster S3 store (SeaweedFS), pipeline namespace."""

from recipes.kubernetes.recipe import KubernetesArgs, KubernetesRecipe, MlflowSettings

__all__ = ["KubernetesArgs", "KubernetesRecipe", "MlflowSettings"]
