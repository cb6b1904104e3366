"""AwsMlopsStack: composes network, EKS, bucket, ECR, IAM, database and MLflow. Embeddable."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from recipes.aws import defaults
from recipes.aws.bucket import ArtifactBucket, ArtifactBucketWiring
from recipes.aws.codebuild import ImageBuilderProject, ImageBuilderWiring
from recipes.aws.cluster import EksCluster, EksClusterWiring
from recipes.aws.database import MlflowDatabase, MlflowDatabaseWiring
from recipes.aws.iam import StackRoles, StackRolesArgs
from recipes.aws.network import ExistingNetwork, Network, NetworkWiring
from recipes.aws.registry import ContainerRegistry, ContainerRegistryWiring
from recipes.aws.settings import AwsArgs, NetworkSettings
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.mlflow import MlflowServer, MlflowWiring
from recipes.kubernetes.workloads import PipelineNamespace, PipelineNamespaceArgs


class AwsMlopsStack(pulumi.ComponentResource):
    """The AWS MLOps stack. Outputs are what registration needs."""

    vpc_id: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    kubernetes_version: pulumi.Output[str]
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
    image_builder: ImageBuilderProject
    pipelines_namespace: pulumi.Output[str]
    database_address: pulumi.Output[str] | None
    mlflow: MlflowServer

    def __init__(
        self,
        name: str,
        args: AwsArgs,
        *,
        region: str,
        tags: Mapping[str, str] | None = None,
        existing_network: ExistingNetwork | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``existing_network`` reuses a VPC made elsewhere in the same program (its ids may be Outputs)."""
        super().__init__("provisioner:aws:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(tags or {})
        identity = aws.get_caller_identity_output()
        network = existing_network or self._network(name, args.network, region, tags, child)
        cluster = EksCluster(
            f"{name}-cluster",
            args.cluster,
            EksClusterWiring(
                cluster_name=name,
                subnet_ids=pulumi.Output.all(network.private_subnet_ids, network.public_subnet_ids).apply(lambda ids: ids[0] + ids[1]),
                node_subnet_ids=network.node_subnet_ids,
                tags=tags,
            ),
            region=region,
            opts=child,
        )
        bucket = ArtifactBucket(
            f"{name}-artifacts", args.bucket, ArtifactBucketWiring(protect=args.protect_data, tags=tags), opts=child
        )
        registry = ContainerRegistry(
            name, args.registry, ContainerRegistryWiring(force_delete=args.bucket.force_destroy, tags=tags), opts=child
        )
        self.image_builder = ImageBuilderProject(
            f"{name}-builder",
            ImageBuilderWiring(
                bucket_name=bucket.bucket_name, bucket_arn=bucket.bucket_arn, repository_arn=registry.repository_arn, tags=tags
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
                region=region,
                account_id=identity.account_id,
                codebuild_project_arn=self.image_builder.project_arn,
                tags=tags,
            ),
            opts=child,
        )
        database = None
        if args.database.enabled:
            database = MlflowDatabase(
                f"{name}-mlflow-db",
                args.database,
                MlflowDatabaseWiring(
                    vpc_id=network.vpc_id,
                    subnet_ids=network.private_subnet_ids,
                    client_security_group_id=cluster.security_group_id,
                    protect=args.protect_data,
                    tags=tags,
                ),
                opts=child,
            )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=cluster.kubeconfig, opts=child)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        storage_class = k8s.storage.v1.StorageClass(
            f"{name}-storage-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=defaults.STORAGE_CLASS,
                labels=k8s_labels(tags, "storage"),
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[cluster.storage_driver]),
        )
        pipelines = PipelineNamespace(
            f"{name}-pipelines",
            PipelineNamespaceArgs(
                namespace=pipelines_account[0],
                service_account=pipelines_account[1],
                service_account_annotations={"eks.amazonaws.com/role-arn": roles.pipelines_role_arn},
                tags=tags,
            ),
            opts=on_cluster,
        )
        mlflow_namespace = k8s.core.v1.Namespace(
            f"{name}-mlflow-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=mlflow_account[0], labels=k8s_labels(tags, "mlflow")),
            opts=on_cluster,
        )
        self.mlflow = MlflowServer(
            f"{name}-mlflow",
            args.mlflow,
            MlflowWiring(
                namespace=mlflow_namespace.metadata.name,
                artifacts_destination=pulumi.Output.concat("s3://", bucket.bucket_name, f"/{defaults.MLFLOW_ARTIFACT_PREFIX}"),
                backend_store_uri=database.connection_uri if database is not None else None,
                service_account_annotations={"eks.amazonaws.com/role-arn": roles.mlflow_role_arn},
                artifact_env={"AWS_DEFAULT_REGION": region},
                service_annotations=k8s_defaults.AWS_NLB_SERVICE_ANNOTATIONS,
                tags=tags,
                ready_nodes=cluster.node_groups,
                volume_needs=[storage_class],
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.vpc_id = network.vpc_id
        self.cluster_name = cluster.cluster_name
        self.kubernetes_version = cluster.kubernetes_version
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
    def _network(
        name: str, settings: NetworkSettings, region: str, tags: Mapping[str, str], opts: pulumi.ResourceOptions
    ) -> Network | ExistingNetwork:
        if settings.vpc_id:
            return ExistingNetwork(settings.vpc_id, settings.public_subnet_ids, settings.private_subnet_ids)
        zones = aws.get_availability_zones(state="available").names[: settings.az_count]
        if len(zones) < settings.az_count:
            raise ValueError(f"region {region} has {len(zones)} available zones, fewer than network.az_count={settings.az_count}")
        return Network(
            f"{name}-network", settings, NetworkWiring(availability_zones=zones, cluster_name=name, tags=tags), opts=opts
        )
