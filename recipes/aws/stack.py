"""AwsMlopsStack: composes network, EKS, bucket, ECR, IAM, database and MLflow. Embeddable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from recipes.aws import defaults
from recipes.aws.bucket import ArtifactBucket, ArtifactBucketArgs
from recipes.aws.cluster import EksCluster, EksClusterArgs, NodePool
from recipes.aws.database import MlflowDatabase, MlflowDatabaseArgs
from recipes.aws.iam import StackRoles, StackRolesArgs
from recipes.aws.network import ExistingNetwork, Network, NetworkArgs
from recipes.aws.registry import ContainerRegistry, ContainerRegistryArgs
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.mlflow import MlflowServer, MlflowServerArgs
from recipes.kubernetes.workloads import PipelineNamespace, PipelineNamespaceArgs


@dataclass
class DatabaseOptions:
    instance_class: str = "db.t4g.small"
    allocated_storage: int = 20
    max_allocated_storage: int = 100
    backup_retention_days: int = 7
    multi_az: bool = False
    deletion_protection: bool = False


@dataclass
class AwsMlopsStackArgs:
    """Everything the AWS stack needs. Pass ``vpc_id`` and subnet ids to reuse an existing VPC."""

    region: str
    nodes: NodePool
    gpu_nodes: NodePool | None = None
    vpc_cidr: str = defaults.VPC_CIDR
    az_count: int = 2
    nat_gateways: Literal["single", "per_az"] = "single"
    vpc_id: pulumi.Input[str] | None = None
    public_subnet_ids: Sequence[pulumi.Input[str]] = ()
    private_subnet_ids: Sequence[pulumi.Input[str]] = ()
    kubernetes_version: str = defaults.KUBERNETES_VERSION
    control_plane_logging: bool = False
    bucket_versioning: bool = False
    force_destroy: bool = False
    protect_data: bool = False
    ecr_untagged_expiry_days: int = 14
    ecr_tag_mutability: Literal["MUTABLE", "IMMUTABLE"] = "MUTABLE"
    database: DatabaseOptions | None = None
    mlflow: MlflowServerArgs | None = None
    connector_principal_arn: pulumi.Input[str] | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsMlopsStack(pulumi.ComponentResource):
    """The AWS MLOps stack. Outputs are what registration needs."""

    vpc_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    repository_url: pulumi.Output[str]
    repository_arn: pulumi.Output[str]
    pipelines_role_arn: pulumi.Output[str]
    mlflow_role_arn: pulumi.Output[str]
    sagemaker_role_arn: pulumi.Output[str]
    connector_role_arn: pulumi.Output[str]
    pipelines_namespace: pulumi.Output[str]
    database_address: pulumi.Output[str] | None
    mlflow: MlflowServer

    def __init__(self, name: str, args: AwsMlopsStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:aws:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = aws.get_caller_identity_output()
        network = self._network(name, args, child)
        cluster = EksCluster(
            f"{name}-cluster",
            EksClusterArgs(
                cluster_name=name,
                subnet_ids=pulumi.Output.all(network.private_subnet_ids, network.public_subnet_ids).apply(lambda ids: ids[0] + ids[1]),
                node_subnet_ids=network.private_subnet_ids,
                nodes=args.nodes,
                gpu_nodes=args.gpu_nodes,
                version=args.kubernetes_version,
                control_plane_logging=args.control_plane_logging,
                tags=args.tags,
            ),
            region=args.region,
            opts=child,
        )
        bucket = ArtifactBucket(
            f"{name}-artifacts",
            ArtifactBucketArgs(
                versioning=args.bucket_versioning, force_destroy=args.force_destroy, protect=args.protect_data, tags=args.tags
            ),
            opts=child,
        )
        registry = ContainerRegistry(
            name,
            ContainerRegistryArgs(
                untagged_expiry_days=args.ecr_untagged_expiry_days,
                tag_mutability=args.ecr_tag_mutability,
                force_delete=args.force_destroy,
                tags=args.tags,
            ),
            opts=child,
        )
        mlflow_account = (k8s_defaults.MLFLOW_NAMESPACE, f"{name}-mlflow")
        pipelines_account = (k8s_defaults.PIPELINES_NAMESPACE, k8s_defaults.PIPELINE_SERVICE_ACCOUNT)
        roles = StackRoles(
            f"{name}-roles",
            StackRolesArgs(
                bucket_arn=bucket.bucket_arn,
                repository_arn=registry.repository_arn,
                cluster_arn=cluster.cluster_arn,
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
                pipelines_service_account=pipelines_account,
                mlflow_service_account=mlflow_account,
                connector_principal_arn=args.connector_principal_arn or identity.arn,
                region=args.region,
                account_id=identity.account_id,
                tags=args.tags,
            ),
            opts=child,
        )
        database = None
        if args.database is not None:
            options = args.database
            database = MlflowDatabase(
                f"{name}-mlflow-db",
                MlflowDatabaseArgs(
                    vpc_id=network.vpc_id,
                    subnet_ids=network.private_subnet_ids,
                    client_security_group_id=cluster.security_group_id,
                    instance_class=options.instance_class,
                    allocated_storage=options.allocated_storage,
                    max_allocated_storage=options.max_allocated_storage,
                    backup_retention_days=options.backup_retention_days,
                    multi_az=options.multi_az,
                    deletion_protection=options.deletion_protection,
                    protect=args.protect_data,
                    tags=args.tags,
                ),
                opts=child,
            )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=cluster.kubeconfig, opts=child)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        pipelines = PipelineNamespace(
            f"{name}-pipelines",
            PipelineNamespaceArgs(
                namespace=pipelines_account[0],
                service_account=pipelines_account[1],
                service_account_annotations={"eks.amazonaws.com/role-arn": roles.pipelines_role_arn},
                tags=args.tags,
            ),
            opts=on_cluster,
        )
        mlflow_namespace = k8s.core.v1.Namespace(
            f"{name}-mlflow-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=mlflow_account[0], labels=k8s_labels(args.tags, "mlflow")),
            opts=on_cluster,
        )
        base = args.mlflow or MlflowServerArgs(namespace="", artifacts_destination="")
        server_args = MlflowServerArgs(
            **{
                **base.__dict__,
                "namespace": mlflow_namespace.metadata.name,
                "artifacts_destination": pulumi.Output.concat("s3://", bucket.bucket_name, f"/{defaults.MLFLOW_ARTIFACT_PREFIX}"),
                "backend_store_uri": database.connection_uri if database is not None else base.backend_store_uri,
                "service_account_annotations": {"eks.amazonaws.com/role-arn": roles.mlflow_role_arn},
                "artifact_env": {"AWS_DEFAULT_REGION": args.region},
                "tags": args.tags,
            }
        )
        self.mlflow = MlflowServer(f"{name}-mlflow", server_args, opts=on_cluster)

        self.vpc_id = network.vpc_id
        self.cluster_name = cluster.cluster_name
        self.cluster_arn = cluster.cluster_arn
        self.kubeconfig = cluster.kubeconfig
        self.oidc_issuer = cluster.oidc_issuer
        self.bucket_name = bucket.bucket_name
        self.bucket_arn = bucket.bucket_arn
        self.repository_url = registry.repository_url
        self.repository_arn = registry.repository_arn
        self.pipelines_role_arn = roles.pipelines_role_arn
        self.mlflow_role_arn = roles.mlflow_role_arn
        self.sagemaker_role_arn = roles.sagemaker_role_arn
        self.connector_role_arn = roles.connector_role_arn
        self.pipelines_namespace = pipelines.namespace
        self.database_address = database.address if database is not None else None
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "cluster_name": self.cluster_name,
                "bucket_name": self.bucket_name,
                "repository_url": self.repository_url,
                "connector_role_arn": self.connector_role_arn,
                "tracking_uri": self.mlflow.tracking_uri,
            }
        )

    @staticmethod
    def _network(name: str, args: AwsMlopsStackArgs, opts: pulumi.ResourceOptions) -> Network | ExistingNetwork:
        if args.vpc_id is not None:
            return ExistingNetwork(args.vpc_id, args.public_subnet_ids, args.private_subnet_ids)
        zones = aws.get_availability_zones(state="available").names[: args.az_count]
        if len(zones) < args.az_count:
            raise ValueError(f"region {args.region} has {len(zones)} available zones, fewer than az_count={args.az_count}")
        return Network(
            f"{name}-network",
            NetworkArgs(availability_zones=zones, cidr=args.vpc_cidr, nat_gateways=args.nat_gateways, cluster_name=name, tags=args.tags),
            opts=opts,
        )
