"""The `aws` recipe: network, EKS, bucket, ECR, least-privilege IAM, MLflow on RDS; registered as a stack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from recipes.aws import defaults
from recipes.aws.settings import AwsArgs
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.recipe import MlflowOutputs, export_mlflow_outputs, mlflow_notes
from recipes.kubernetes.settings import MlflowSettings


class AwsOutputs(MlflowOutputs):
    """What the aws program exports (also the embedding examples, through export_stack_outputs)."""

    region: str
    vpc_id: str
    cluster_name: str
    kubernetes_version: str
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
    image_builder_project: str
    database_address: str


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
    pinned_outputs = ("kubernetes_version",)
    managed_namespaces = (k8s_defaults.MLFLOW_NAMESPACE, k8s_defaults.PIPELINES_NAMESPACE)

    def program(self, args: RecipeArgs, context: RecipeContext) -> None:
        from recipes.aws.stack import AwsMlopsStack

        assert isinstance(args, AwsArgs)
        region = context.region or defaults.DEFAULT_REGION
        stack = AwsMlopsStack(context.stack_name, keep_resolved_version(args, context), region=region, tags=context.tags)
        export_stack_outputs(stack, region, args.mlflow)

    def registration(self, outputs: RecipeOutputs, context: RecipeContext) -> RegistrationPlan:
        assert isinstance(outputs, AwsOutputs)
        return aws_registration(outputs, context)

    def plan_notes(self, resources: Sequence[Any]) -> list[str]:
        versions = [
            str((r.inputs or {}).get("version")) for r in resources if r.type == "aws:eks/cluster:Cluster" and (r.inputs or {}).get("version")
        ]
        return [note for version in versions for note in version_notes(version)]

    def summary(self, outputs: RecipeOutputs, context: RecipeContext) -> list[str]:
        assert isinstance(outputs, AwsOutputs)
        lines = [
            f"Cluster: aws eks update-kubeconfig --name {outputs.cluster_name} --region {outputs.region} "
            f"--alias {outputs.cluster_name}",
            f"Images: {outputs.repository_url}   Artifacts: s3://{outputs.bucket_name}",
            *version_notes(outputs.kubernetes_version),
        ]
        return lines + mlflow_notes(outputs, context, f"{context.stack_name}-tracker")


def keep_resolved_version(args: AwsArgs, context: RecipeContext) -> AwsArgs:
    """The args with the Kubernetes version the stack already runs, unless the user names one: no silent upgrade."""
    previous = context.previous_outputs.get("kubernetes_version")
    if args.cluster.kubernetes_version or not previous:
        return args
    return args.model_copy(update={"cluster": args.cluster.model_copy(update={"kubernetes_version": str(previous)})})


def version_notes(version: str) -> list[str]:
    """What the dated EKS calendar says about the cluster's version: a newer one, or extended-support billing."""
    from provisioner.facts import eks, today

    on = today()
    known, newest = eks.find(version), eks.default_version(on)
    notes = []
    if known is not None and known.support(on) == "extended":
        notes.append(
            f"Note: Kubernetes {version} is in EKS extended support since {known.end_of_standard} "
            f"(${eks.EXTENDED_HOURLY_USD:.2f} per cluster-hour)."
        )
    if known is not None and newest != version and tuple(map(int, newest.split("."))) > tuple(map(int, version.split("."))):
        notes.append(f"EKS {newest} is newer than this cluster's {version}: --set cluster.kubernetes_version={newest} upgrades it.")
    return notes


def export_stack_outputs(stack: Any, region: str, mlflow: MlflowSettings) -> None:
    """The stack outputs registration reads; shared by the recipe and embedding projects."""
    import pulumi

    pulumi.export("region", region)
    pulumi.export("vpc_id", stack.vpc_id)
    pulumi.export("cluster_name", stack.cluster_name)
    pulumi.export("kubernetes_version", stack.kubernetes_version)
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
    pulumi.export("image_builder_project", stack.image_builder.project_name)
    pulumi.export("database_address", stack.database_address or "")
    export_mlflow_outputs(stack.mlflow, mlflow)


def aws_registration(outputs: AwsOutputs, context: RecipeContext) -> RegistrationPlan:
    """The AWS outputs-to-components mapping (also used by `provisioner register --from-stack`)."""
    prefix = context.stack_name
    connector = f"{prefix}-aws"
    kube = {"kubernetes_context": outputs.cluster_name, "namespace": outputs.pipelines_namespace}
    tracking_uri = outputs.mlflow_tracking_uri
    return RegistrationPlan(
        connectors=[
            ConnectorEntry(
                connector,
                "aws",
                "iam-role",
                {"role_arn": outputs.connector_role_arn, "region": outputs.region},
                ["aws-generic", "s3-bucket", "kubernetes-cluster", "docker-registry"],
            )
        ],
        components=[
            ComponentEntry(f"{prefix}-orchestrator", "orchestrator", "kubernetes", kube, connector),
            ComponentEntry(f"{prefix}-artifacts", "artifact_store", "s3", {"path": f"s3://{outputs.bucket_name}"}, connector),
            ComponentEntry(f"{prefix}-registry", "container_registry", "aws", {"uri": outputs.repository_url}, connector),
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
            ComponentEntry(
                f"{prefix}-sagemaker",
                "step_operator",
                "sagemaker",
                {"role": outputs.sagemaker_role_arn, "bucket": f"s3://{outputs.bucket_name}"},
                connector,
            ),
            ComponentEntry(
                f"{prefix}-builder", "image_builder", "aws", {"code_build_project": outputs.image_builder_project}, connector
            ),
        ],
        notes=[],
    )

