"""The `gcp` recipe: the GCP counterpart of `aws`, with the same output names where they mean the same."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

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
    secret_output,
)
from recipes.gcp import defaults
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.recipe import MlflowSettings, mlflow_notes

SIMULATED_PROJECT = "provisioner-simulated"


class GcpDatabaseSettings(RecipeArgs):
    enabled: bool = False
    tier: str = "db-custom-1-3840"
    disk_size_gb: int = Field(20, ge=10, le=65536)
    availability: Literal["ZONAL", "REGIONAL"] = "ZONAL"
    backup_retention_days: int = Field(7, ge=1, le=365)


class GcpArgs(RecipeArgs):
    """Settings of the GCP recipe; `provisioner recipe describe gcp` shows them per env."""

    project: str = Field("", description="GCP project id (default: GOOGLE_CLOUD_PROJECT).")
    zone: str = Field("", description="Zone of a zonal cluster; must be in the region (default: the region's first).")
    regional: bool = False
    machine_type: str = "e2-standard-4"
    node_count: int = Field(1, ge=1)
    node_min: int = Field(1, ge=0)
    node_max: int = Field(3, ge=1)
    spot: bool = False
    deletion_protection: bool = False
    bucket_versioning: bool = False
    force_destroy: bool = False
    database: GcpDatabaseSettings = Field(default_factory=GcpDatabaseSettings)
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    connector_members: list[str] = Field(default_factory=list, description="Principals allowed to impersonate the connector account.")
    create_connector_key: bool = Field(False, description="Also create a key file for the connector account (not recommended).")

    @model_validator(mode="after")
    def _consistent(self) -> GcpArgs:
        if not self.node_min <= self.node_max:
            raise ValueError(f"need node_min <= node_max (got {self.node_min}, {self.node_max})")
        if self.mlflow.replicas > 1 and not (self.database.enabled or self.mlflow.backend_store_uri):
            raise ValueError("mlflow.replicas > 1 needs database.enabled")
        return self


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


class GcpOutputs(RecipeOutputs):
    """What the gcp program exports."""

    project: str
    region: str
    cluster_name: str
    kubeconfig: str
    bucket_name: str
    repository_url: str
    pipelines_namespace: str
    connector_service_account: str
    vertex_service_account: str
    mlflow_service_type: str
    mlflow_open_to_all: bool
    mlflow_tracking_uri: str
    mlflow_port_forward: str
    mlflow_username: str
    mlflow_password: str = secret_output()


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
        zones_for(region or defaults.DEFAULT_REGION, args.zone, args.regional)

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        import pulumi

        from recipes.gcp.stack import DatabaseOptions, GcpMlopsStack, GcpMlopsStackArgs

        assert isinstance(args, GcpArgs)
        region = context.region or defaults.DEFAULT_REGION
        project = args.project or os.environ.get("GOOGLE_CLOUD_PROJECT") or (SIMULATED_PROJECT if context.simulated else "")
        database = args.database
        stack = GcpMlopsStack(
            context.stack_name,
            GcpMlopsStackArgs(
                project=project,
                region=region,
                zones=zones_for(region, args.zone, args.regional),
                regional=args.regional,
                machine_type=args.machine_type,
                node_count=args.node_count,
                node_min=args.node_min,
                node_max=args.node_max,
                spot=args.spot,
                deletion_protection=args.deletion_protection,
                bucket_versioning=args.bucket_versioning,
                force_destroy=args.force_destroy,
                database=DatabaseOptions(database.tier, database.disk_size_gb, database.availability, database.backup_retention_days) if database.enabled else None,
                mlflow=args.mlflow.server_args(),
                connector_members=args.connector_members,
                create_connector_key=args.create_connector_key,
                tags=context.tags,
            ),
        )
        pulumi.export("project", project)
        pulumi.export("region", region)
        pulumi.export("cluster_name", stack.cluster_name)
        pulumi.export("kubeconfig", stack.kubeconfig)
        pulumi.export("bucket_name", stack.bucket_name)
        pulumi.export("repository_url", stack.repository_url)
        pulumi.export("pipelines_namespace", stack.pipelines_namespace)
        pulumi.export("connector_service_account", stack.emails["connector"])
        pulumi.export("vertex_service_account", stack.emails["vertex"])
        pulumi.export("mlflow_service_type", args.mlflow.service_type)
        pulumi.export("mlflow_open_to_all", "0.0.0.0/0" in args.mlflow.source_ranges)
        pulumi.export("mlflow_tracking_uri", stack.mlflow.tracking_uri)
        pulumi.export("mlflow_port_forward", stack.mlflow.port_forward)
        pulumi.export("mlflow_username", stack.mlflow.admin_username)
        pulumi.export("mlflow_password", pulumi.Output.secret(stack.mlflow.admin_password))

    def registration(self, outputs: Mapping[str, Any], context: RecipeContext) -> RegistrationPlan:
        prefix = context.stack_name
        connector = f"{prefix}-gcp"
        kube = {"kubernetes_context": outputs["cluster_name"], "namespace": outputs["pipelines_namespace"]}
        tracking_uri = outputs["mlflow_tracking_uri"]
        return RegistrationPlan(
            connectors=[
                ConnectorEntry(
                    connector, "gcp", "impersonation",
                    {"project_id": outputs["project"], "target_principal": outputs["connector_service_account"]},
                    ["gcp-generic", "gcs-bucket", "kubernetes-cluster", "docker-registry"],
                )
            ],
            components=[
                ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube, connector),
                ComponentEntry(f"{prefix}-artifacts", "artifact_store", "gcp", {"path": f"gs://{outputs['bucket_name']}"}, connector),
                ComponentEntry(f"{prefix}-registry", "container_registry", "gcp", {"uri": outputs["repository_url"]}, connector),
                ComponentEntry(
                    f"{prefix}-tracker", "experiment_tracker", "mlflow",
                    {"tracking_uri": tracking_uri, "tracking_username": outputs["mlflow_username"], "tracking_password": outputs["mlflow_password"]},
                ),
                ComponentEntry(f"{prefix}-models", "model_registry", "mlflow", {"tracking_uri": tracking_uri}),
                ComponentEntry(
                    f"{prefix}-vertex", "step_operator", "vertex",
                    {"project": outputs["project"], "region": outputs["region"], "service_account": outputs["vertex_service_account"]},
                    connector,
                ),
                ComponentEntry(f"{prefix}-builder", "image_builder", "kaniko", kube, connector),
            ],
        )

    def summary(self, outputs: Mapping[str, Any], context: RecipeContext) -> list[str]:
        lines = [
            f"Cluster: gcloud container clusters get-credentials {outputs['cluster_name']} --project {outputs['project']}",
            f"Images: {outputs['repository_url']}   Artifacts: gs://{outputs['bucket_name']}",
        ]
        open_ranges = bool(outputs.get("mlflow_open_to_all")) and outputs.get("mlflow_service_type") == "LoadBalancer"
        return lines + mlflow_notes(outputs, context, f"{context.stack_name}-tracker", open_ranges)
