"""The `aws` recipe: network, EKS, bucket, ECR, least-privilege IAM, MLflow on RDS; registered as a stack."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

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
from recipes.aws import defaults
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.recipe import MlflowSettings, mlflow_notes


class GpuNodes(RecipeArgs):
    """An optional GPU node group, tainted so only GPU workloads land there."""

    enabled: bool = False
    instance_type: str = "g5.xlarge"
    desired: int = Field(0, ge=0)
    min: int = Field(0, ge=0)
    max: int = Field(2, ge=1)


class DatabaseSettings(RecipeArgs):
    """RDS PostgreSQL for MLflow; disabled means a SQLite file on a volume (dev)."""

    enabled: bool = False
    instance_class: str = "db.t4g.small"
    allocated_storage: int = Field(20, ge=20, le=65536)
    max_allocated_storage: int = Field(100, ge=20, le=65536)
    backup_retention_days: int = Field(7, ge=0, le=35)
    multi_az: bool = False
    deletion_protection: bool = False


class AwsArgs(RecipeArgs):
    """Settings of the AWS recipe; `provisioner recipe describe aws` shows them per env."""

    vpc_cidr: str = defaults.VPC_CIDR
    az_count: int = Field(2, ge=2, le=3)
    nat_gateways: Literal["single", "per_az"] = "single"
    vpc_id: str = Field("", description="Existing VPC: nothing network-related is created.")
    public_subnet_ids: list[str] = Field(default_factory=list)
    private_subnet_ids: list[str] = Field(default_factory=list)
    kubernetes_version: str = defaults.KUBERNETES_VERSION
    node_instance_type: str = "t3.large"
    node_desired: int = Field(2, ge=1)
    node_min: int = Field(1, ge=1)
    node_max: int = Field(3, ge=1)
    node_capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    gpu_nodes: GpuNodes = Field(default_factory=GpuNodes)
    control_plane_logging: bool = False
    bucket_versioning: bool = False
    force_destroy: bool = False
    protect_data: bool = Field(False, description="Pulumi protect on the bucket and the database.")
    ecr_untagged_expiry_days: int = Field(14, ge=1, le=365)
    ecr_tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "MUTABLE"
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    connector_principal_arn: str = Field("", description="Who may assume the connector role (default: you).")

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value)
        except ValueError:
            raise ValueError(f"not a CIDR range: {value!r}") from None
        if network.prefixlen > 20:
            raise ValueError(f"the VPC {value} is too small: use a /20 or larger")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AwsArgs:
        if not self.node_min <= self.node_desired <= self.node_max:
            raise ValueError(f"need node_min <= node_desired <= node_max (got {self.node_min}, {self.node_desired}, {self.node_max})")
        if self.gpu_nodes.enabled and not self.gpu_nodes.min <= self.gpu_nodes.desired <= self.gpu_nodes.max:
            raise ValueError("need gpu_nodes.min <= gpu_nodes.desired <= gpu_nodes.max")
        if self.vpc_id and len(self.private_subnet_ids) < 2:
            raise ValueError("vpc_id needs at least 2 private_subnet_ids (in different AZs)")
        if (self.public_subnet_ids or self.private_subnet_ids) and not self.vpc_id:
            raise ValueError("subnet ids are only used with vpc_id")
        if self.mlflow.replicas > 1 and not (self.database.enabled or self.mlflow.backend_store_uri):
            raise ValueError("mlflow.replicas > 1 needs database.enabled")
        return self


class AwsOutputs(RecipeOutputs):
    """What the aws program exports (also the embedding examples, through export_stack_outputs)."""

    region: str
    vpc_id: str
    cluster_name: str
    cluster_arn: str
    oidc_issuer: str
    kubeconfig: str
    bucket_name: str
    repository_url: str
    pipelines_namespace: str
    pipelines_role_arn: str
    mlflow_role_arn: str
    sagemaker_role_arn: str
    connector_role_arn: str
    database_address: str
    mlflow_service_type: str
    mlflow_open_to_all: bool
    mlflow_tracking_uri: str
    mlflow_internal_uri: str
    mlflow_port_forward: str
    mlflow_username: str
    mlflow_password: str = secret_output()


class AwsRecipe(Recipe):
    """The flagship recipe."""

    name = "aws"
    description = "VPC, EKS, S3 artifacts, ECR, least-privilege IAM and MLflow (auth, RDS) on AWS"
    args_model = AwsArgs
    presets = defaults.PRESETS
    default_region = defaults.DEFAULT_REGION
    regions = defaults.REGIONS
    plugins = (
        ProviderPlugin("aws", "pulumi-aws"),
        ProviderPlugin("kubernetes", "pulumi-kubernetes"),
        ProviderPlugin("random", "pulumi-random"),
    )
    provider_config_keys = {"aws:region": "region"}
    retention = defaults.RETENTION
    cloud = "aws"
    outputs_model = AwsOutputs
    managed_namespaces = (k8s_defaults.MLFLOW_NAMESPACE, k8s_defaults.PIPELINES_NAMESPACE)

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        from recipes.aws.cluster import NodePool
        from recipes.aws.stack import AwsMlopsStack, AwsMlopsStackArgs, DatabaseOptions

        assert isinstance(args, AwsArgs)
        region = context.region or defaults.DEFAULT_REGION
        database = args.database
        gpu = args.gpu_nodes
        settings = args.mlflow
        stack = AwsMlopsStack(
            context.stack_name,
            AwsMlopsStackArgs(
                region=region,
                nodes=NodePool(args.node_instance_type, args.node_desired, args.node_min, args.node_max, args.node_capacity_type),
                gpu_nodes=NodePool(gpu.instance_type, gpu.desired, gpu.min, gpu.max, ami_type=defaults.GPU_AMI_TYPE, gpu=True) if gpu.enabled else None,
                vpc_cidr=args.vpc_cidr,
                az_count=args.az_count,
                nat_gateways=args.nat_gateways,
                vpc_id=args.vpc_id or None,
                public_subnet_ids=args.public_subnet_ids,
                private_subnet_ids=args.private_subnet_ids,
                kubernetes_version=args.kubernetes_version,
                control_plane_logging=args.control_plane_logging,
                bucket_versioning=args.bucket_versioning,
                force_destroy=args.force_destroy,
                protect_data=args.protect_data,
                ecr_untagged_expiry_days=args.ecr_untagged_expiry_days,
                ecr_tag_mutability=args.ecr_tag_mutability,
                database=DatabaseOptions(
                    instance_class=database.instance_class,
                    allocated_storage=database.allocated_storage,
                    max_allocated_storage=database.max_allocated_storage,
                    backup_retention_days=database.backup_retention_days,
                    multi_az=database.multi_az,
                    deletion_protection=database.deletion_protection,
                ) if database.enabled else None,
                mlflow=settings.server_args(),
                connector_principal_arn=args.connector_principal_arn or None,
                tags=context.tags,
            ),
        )
        export_stack_outputs(stack, region, settings.service_type, open_to_all="0.0.0.0/0" in settings.source_ranges)

    def registration(self, outputs: Mapping[str, Any], context: RecipeContext) -> RegistrationPlan:
        return aws_registration(outputs, context)

    def summary(self, outputs: Mapping[str, Any], context: RecipeContext) -> list[str]:
        lines = [
            f"Cluster: aws eks update-kubeconfig --name {outputs['cluster_name']} --region {outputs['region']} "
            f"--alias {outputs['cluster_name']}",
            f"Images: {outputs['repository_url']}   Artifacts: s3://{outputs['bucket_name']}",
        ]
        open_ranges = bool(outputs.get("mlflow_open_to_all")) and outputs.get("mlflow_service_type") == "LoadBalancer"
        return lines + mlflow_notes(outputs, context, f"{context.stack_name}-tracker", open_ranges)


def export_stack_outputs(stack: Any, region: str, service_type: str, *, open_to_all: bool) -> None:
    """The stack outputs registration reads; shared by the recipe and embedding projects."""
    import pulumi

    pulumi.export("region", region)
    pulumi.export("vpc_id", stack.vpc_id)
    pulumi.export("cluster_name", stack.cluster_name)
    pulumi.export("cluster_arn", stack.cluster_arn)
    pulumi.export("oidc_issuer", stack.oidc_issuer)
    pulumi.export("kubeconfig", stack.kubeconfig)
    pulumi.export("bucket_name", stack.bucket_name)
    pulumi.export("repository_url", stack.repository_url)
    pulumi.export("pipelines_namespace", stack.pipelines_namespace)
    pulumi.export("pipelines_role_arn", stack.pipelines_role_arn)
    pulumi.export("mlflow_role_arn", stack.mlflow_role_arn)
    pulumi.export("sagemaker_role_arn", stack.sagemaker_role_arn)
    pulumi.export("connector_role_arn", stack.connector_role_arn)
    pulumi.export("database_address", stack.database_address or "")
    pulumi.export("mlflow_service_type", service_type)
    pulumi.export("mlflow_open_to_all", open_to_all)
    pulumi.export("mlflow_tracking_uri", stack.mlflow.tracking_uri)
    pulumi.export("mlflow_internal_uri", stack.mlflow.internal_uri)
    pulumi.export("mlflow_port_forward", stack.mlflow.port_forward)
    pulumi.export("mlflow_username", stack.mlflow.admin_username)
    pulumi.export("mlflow_password", pulumi.Output.secret(stack.mlflow.admin_password))


def aws_registration(outputs: Mapping[str, Any], context: RecipeContext) -> RegistrationPlan:
    """The AWS outputs-to-components mapping (also used by `provisioner register --from-stack`)."""
    prefix = context.stack_name
    connector = f"{prefix}-aws"
    kube = {"kubernetes_context": outputs["cluster_name"], "namespace": outputs["pipelines_namespace"]}
    tracking_uri = outputs["mlflow_tracking_uri"]
    return RegistrationPlan(
        connectors=[
            ConnectorEntry(
                connector,
                "aws",
                "iam-role",
                {"role_arn": outputs["connector_role_arn"], "region": outputs["region"]},
                ["aws-generic", "s3-bucket", "kubernetes-cluster", "docker-registry"],
            )
        ],
        components=[
            ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube, connector),
            ComponentEntry(f"{prefix}-artifacts", "artifact_store", "s3", {"path": f"s3://{outputs['bucket_name']}"}, connector),
            ComponentEntry(f"{prefix}-registry", "container_registry", "aws", {"uri": outputs["repository_url"]}, connector),
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
            ComponentEntry(f"{prefix}-models", "model_registry", "mlflow", {"tracking_uri": tracking_uri}),
            ComponentEntry(
                f"{prefix}-sagemaker",
                "step_operator",
                "sagemaker",
                {"role": outputs["sagemaker_role_arn"], "bucket": f"s3://{outputs['bucket_name']}"},
                connector,
            ),
            ComponentEntry(f"{prefix}-builder", "image_builder", "kaniko", kube, connector),
        ],
        notes=[],
    )

