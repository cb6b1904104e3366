"""GcpMlopsStack: network, GKE, GCS, Artifact Registry, service accounts, Cloud SQL and MLflow. Embeddable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from recipes.gcp import defaults
from recipes.gcp.cluster import GkeCluster, GkeClusterArgs
from recipes.gcp.database import CloudSqlArgs, CloudSqlPostgres
from recipes.gcp.iam import ServiceAccounts, ServiceAccountsArgs
from recipes.gcp.labels import gcp_labels
from recipes.gcp.network import GcpNetwork, GcpNetworkArgs
from recipes.gcp.storage import GcpStorage, GcpStorageArgs
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.mlflow import MlflowServer, MlflowServerArgs
from recipes.kubernetes.workloads import PipelineNamespace, PipelineNamespaceArgs


@dataclass
class DatabaseOptions:
    tier: str = "db-custom-1-3840"
    disk_size_gb: int = 20
    availability: str = "ZONAL"
    backup_retention_days: int = 7


@dataclass
class GcpMlopsStackArgs:
    """Everything the GCP stack needs; same argument names as the AWS stack where they mean the same."""

    project: str
    region: str
    zones: Sequence[str]
    regional: bool = False
    machine_type: str = "e2-standard-4"
    node_count: int = 1
    node_min: int = 1
    node_max: int = 3
    spot: bool = False
    deletion_protection: bool = False
    bucket_versioning: bool = False
    force_destroy: bool = False
    database: DatabaseOptions | None = None
    mlflow: MlflowServerArgs | None = None
    connector_members: Sequence[str] = ()
    create_connector_key: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)


class GcpMlopsStack(pulumi.ComponentResource):
    """The GCP MLOps stack; outputs are what registration needs."""

    def __init__(self, name: str, args: GcpMlopsStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = gcp_labels(args.tags)
        services = [
            gcp.projects.Service(f"{name}-api-{api.split('.')[0]}", project=args.project, service=api, disable_on_destroy=False, opts=child)
            for api in defaults.REQUIRED_APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=services)
        network = GcpNetwork(f"{name}-network", GcpNetworkArgs(project=args.project, region=args.region, private_services=args.database is not None, labels=labels), opts=after_apis)
        storage = GcpStorage(
            name, GcpStorageArgs(project=args.project, region=args.region, versioning=args.bucket_versioning, force_destroy=args.force_destroy, labels=labels),
            opts=after_apis,
        )
        mlflow_account = (k8s_defaults.MLFLOW_NAMESPACE, f"{name}-mlflow")
        pipelines_account = (k8s_defaults.PIPELINES_NAMESPACE, k8s_defaults.PIPELINE_SERVICE_ACCOUNT)
        accounts = ServiceAccounts(
            name,
            ServiceAccountsArgs(
                project=args.project, bucket_name=storage.bucket_name, repository_id=storage.repository_id, region=args.region,
                workload_pool=f"{args.project}.svc.id.goog", pipelines_account=pipelines_account, mlflow_account=mlflow_account,
                connector_members=args.connector_members, create_connector_key=args.create_connector_key,
            ),
            opts=after_apis,
        )
        cluster = GkeCluster(
            name,
            GkeClusterArgs(
                project=args.project, region=args.region, zones=args.zones, regional=args.regional, network=network.network_id,
                subnet=network.subnet_name, node_service_account=accounts.emails["nodes"], machine_type=args.machine_type,
                node_count=args.node_count, node_min=args.node_min, node_max=args.node_max, spot=args.spot,
                deletion_protection=args.deletion_protection, labels=labels,
            ),
            opts=after_apis,
        )
        database = None
        if args.database is not None:
            options = args.database
            database = CloudSqlPostgres(
                f"{name}-mlflow-db",
                CloudSqlArgs(
                    project=args.project, region=args.region, network_id=network.network_id, tier=options.tier,
                    disk_size_gb=options.disk_size_gb, availability=options.availability,
                    backup_retention_days=options.backup_retention_days, deletion_protection=args.deletion_protection, labels=labels,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[network.private_services] if network.private_services else []),
            )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=cluster.kubeconfig, opts=child)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        pipelines = PipelineNamespace(
            f"{name}-pipelines",
            PipelineNamespaceArgs(
                namespace=pipelines_account[0], service_account=pipelines_account[1],
                service_account_annotations={"iam.gke.io/gcp-service-account": accounts.emails["workloads"]}, tags=args.tags,
            ),
            opts=on_cluster,
        )
        mlflow_namespace = k8s.core.v1.Namespace(
            f"{name}-mlflow-ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=mlflow_account[0], labels=k8s_labels(args.tags, "mlflow")), opts=on_cluster
        )
        base = args.mlflow or MlflowServerArgs(namespace="", artifacts_destination="")
        self.mlflow = MlflowServer(
            f"{name}-mlflow",
            MlflowServerArgs(**{
                **base.__dict__,
                "namespace": mlflow_namespace.metadata.name,
                "artifacts_destination": pulumi.Output.concat("gs://", storage.bucket_name, f"/{defaults.MLFLOW_ARTIFACT_PREFIX}"),
                "backend_store_uri": database.connection_uri if database is not None else base.backend_store_uri,
                "service_account_annotations": {"iam.gke.io/gcp-service-account": accounts.emails["mlflow"]},
                "tags": args.tags,
            }),
            opts=on_cluster,
        )
        self.project = args.project
        self.network_id = network.network_id
        self.cluster_name = cluster.cluster_name
        self.kubeconfig = cluster.kubeconfig
        self.bucket_name = storage.bucket_name
        self.repository_url = storage.repository_url
        self.pipelines_namespace = pipelines.namespace
        self.emails = accounts.emails
        self.connector_key = accounts.connector_key
        self.register_outputs({"cluster_name": self.cluster_name, "bucket_name": self.bucket_name, "repository_url": self.repository_url})
