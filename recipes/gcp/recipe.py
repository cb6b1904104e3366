"""The `gcp` recipe: the GCP counterpart of `aws`, with the same output names where they mean the same."""

from __future__ import annotations

import os

from provisioner.errors import InputError
from provisioner.recipe_api import (
    ComponentEntry,
    ConnectorEntry,
    ProviderPlugin,
    Recipe,
    RecipeArgs,
    RecipeContext,
    RecipeOutputs,
    RegistrationPlan,
)
from recipes.gcp import defaults
from recipes.gcp.settings import GcpArgs
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.recipe import MlflowOutputs, export_mlflow_outputs, mlflow_notes

SIMULATED_PROJECT = "provisioner-simulated"


def zones_for(region: str, zone: str, regional: bool) -> list[str]:
    """The zones the cluster uses; a zone outside the region is an input error."""
    known = defaults.REGION_ZONES.get(region)
    if known is None:
        raise InputError(f"unknown region {region!r} for recipe 'gcp' (known: {', '.join(defaults.REGIONS)})")
    if zone and zone not in known:
        raise InputError(f"zone {zone!r} is not in region {region} (zones: {', '.join(known)})")
    if regional:
        return list(known[:3])
    return [zone or known[0]]


class GcpOutputs(MlflowOutputs):
    """What the gcp program exports; the names are the aws recipe's where they mean the same."""

    project: str
    region: str
    cluster_name: str
    cluster_location: str = ""  # its zone or region (stacks deployed before 0.4 lack it: the region then)
    kubeconfig: str
    bucket_name: str
    repository_url: str
    pipelines_namespace: str
    connector_service_account: str
    vertex_service_account: str
    database_address: str


class GcpRecipe(Recipe):
    """GKE, GCS, Artifact Registry, Cloud SQL and MLflow on GCP."""

    name = "gcp"
    description = "VPC, GKE with Workload Identity, GCS, Artifact Registry, Cloud SQL and MLflow (auth) on GCP"
    args_model = GcpArgs
    presets = defaults.PRESETS
    default_region = defaults.DEFAULT_REGION
    regions = defaults.REGIONS
    plugins = (
        ProviderPlugin("gcp", "pulumi-gcp"),
        ProviderPlugin("kubernetes", "pulumi-kubernetes"),
        ProviderPlugin("random", "pulumi-random"),
    )
    provider_config_keys = {"gcp:region": "region"}
    cloud = "gcp"
    outputs_model = GcpOutputs
    managed_namespaces = (k8s_defaults.MLFLOW_NAMESPACE, k8s_defaults.PIPELINES_NAMESPACE)
    retention = defaults.RETENTION

    def check(self, args: RecipeArgs, *, simulated: bool = False, region: str | None = None) -> None:
        assert isinstance(args, GcpArgs)
        if not simulated and not (args.project or os.environ.get("GOOGLE_CLOUD_PROJECT")):
            raise InputError("recipe 'gcp' needs a project: --set project=ID, or GOOGLE_CLOUD_PROJECT")
        zones_for(region or defaults.DEFAULT_REGION, args.cluster.zone, args.cluster.regional)

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        import pulumi

        from recipes.gcp.stack import GcpMlopsStack

        assert isinstance(args, GcpArgs)
        region = context.region or defaults.DEFAULT_REGION
        project = args.project or os.environ.get("GOOGLE_CLOUD_PROJECT") or (SIMULATED_PROJECT if context.simulated else "")
        stack = GcpMlopsStack(
            context.stack_name,
            args,
            project=project,
            region=region,
            zones=zones_for(region, args.cluster.zone, args.cluster.regional),
            tags=context.tags,
        )
        pulumi.export("project", project)
        pulumi.export("region", region)
        pulumi.export("cluster_name", stack.cluster_name)
        pulumi.export("cluster_location", stack.cluster_location)
        pulumi.export("kubeconfig", stack.kubeconfig)
        pulumi.export("bucket_name", stack.bucket_name)
        pulumi.export("repository_url", stack.repository_url)
        pulumi.export("pipelines_namespace", stack.pipelines_namespace)
        pulumi.export("connector_service_account", stack.emails["connector"])
        pulumi.export("vertex_service_account", stack.emails["vertex"])
        pulumi.export("database_address", stack.database_address or "")
        export_mlflow_outputs(stack.mlflow, args.mlflow)

    def registration(self, outputs: RecipeOutputs, context: RecipeContext) -> RegistrationPlan:
        assert isinstance(outputs, GcpOutputs)
        prefix = context.stack_name
        connector = f"{prefix}-gcp"
        kube = {"kubernetes_context": outputs.cluster_name, "namespace": outputs.pipelines_namespace}
        tracking_uri = outputs.mlflow_tracking_uri
        return RegistrationPlan(
            connectors=[
                ConnectorEntry(
                    connector, "gcp", "impersonation",
                    {"project_id": outputs.project, "target_principal": outputs.connector_service_account},
                    ["gcp-generic", "gcs-bucket", "kubernetes-cluster", "docker-registry"],
                )
            ],
            components=[
                ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube, connector),
                ComponentEntry(f"{prefix}-artifacts", "artifact_store", "gcp", {"path": f"gs://{outputs.bucket_name}"}, connector),
                ComponentEntry(f"{prefix}-registry", "container_registry", "gcp", {"uri": outputs.repository_url}, connector),
                ComponentEntry(
                    f"{prefix}-tracker", "experiment_tracker", "mlflow",
                    {"tracking_uri": tracking_uri, "tracking_username": outputs.mlflow_username, "tracking_password": outputs.mlflow_password},
                ),
                ComponentEntry(f"{prefix}-models", "model_registry", "mlflow", {"tracking_uri": tracking_uri}),
                ComponentEntry(
                    f"{prefix}-vertex", "step_operator", "vertex",
                    {"project": outputs.project, "region": outputs.region, "service_account": outputs.vertex_service_account},
                    connector,
                ),
                ComponentEntry(
                    f"{prefix}-builder", "image_builder", "gcp", {"project": outputs.project, "location": outputs.region}, connector
                ),
            ],
        )

    def summary(self, outputs: RecipeOutputs, context: RecipeContext) -> list[str]:
        assert isinstance(outputs, GcpOutputs)
        lines = [
            f"Cluster: gcloud container clusters get-credentials {outputs.cluster_name} "
            f"--location {outputs.cluster_location or outputs.region} --project {outputs.project}",
            f"Images: {outputs.repository_url}   Artifacts: gs://{outputs.bucket_name}",
        ]
        return lines + mlflow_notes(outputs, context, f"{context.stack_name}-tracker")
