"""GcpMlopsStack: network, GKE, GCS, Artifact Registry, service accounts, Cloud SQL and MLflow. Embeddable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from recipes.gcp import defaults
from recipes.gcp.cluster import GkeCluster, GkeClusterWiring
from recipes.gcp.database import CloudSqlPostgres, CloudSqlWiring
from recipes.gcp.iam import ServiceAccounts, ServiceAccountsArgs
from recipes.gcp.labels import gcp_labels
from recipes.gcp.network import GcpNetwork, GcpNetworkArgs
from recipes.gcp.settings import GcpArgs
from recipes.gcp.storage import GcpStorage, GcpStorageWiring
from recipes.kubernetes import defaults as k8s_defaults
from recipes.kubernetes.labels import k8s_labels
from recipes.kubernetes.mlflow import MlflowServer, MlflowWiring
from recipes.kubernetes.workloads import PipelineNamespace, PipelineNamespaceArgs


class GcpMlopsStack(pulumi.ComponentResource):
    """The GCP MLOps stack; outputs are what registration needs."""

    def __init__(
        self,
        name: str,
        args: GcpArgs,
        *,
        project: str,
        region: str,
        zones: Sequence[str],
        tags: Mapping[str, str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``zones``: the cluster's, resolved from ``args.cluster`` and the region (``zones_for``)."""
        super().__init__("provisioner:gcp:MlopsStack", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(tags or {})
        labels = gcp_labels(tags)
        services = [
            gcp.projects.Service(f"{name}-api-{api.split('.')[0]}", project=project, service=api, disable_on_destroy=False, opts=child)
            for api in defaults.REQUIRED_APIS
        ]
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=services)
        network = GcpNetwork(
            f"{name}-network",
            GcpNetworkArgs(project=project, region=region, private_services=args.database.enabled, labels=labels),
            opts=after_apis,
        )
        storage = GcpStorage(
            name, args.bucket, args.registry, GcpStorageWiring(project=project, region=region, labels=labels), opts=after_apis
        )
        mlflow_account = (k8s_defaults.MLFLOW_NAMESPACE, f"{name}-mlflow")
        pipelines_account = (k8s_defaults.PIPELINES_NAMESPACE, k8s_defaults.PIPELINE_SERVICE_ACCOUNT)
        accounts = ServiceAccounts(
            name,
            ServiceAccountsArgs(
                project=project, bucket_name=storage.bucket_name, repository_id=storage.repository_id, region=region,
                workload_pool=f"{project}.svc.id.goog", pipelines_account=pipelines_account, mlflow_account=mlflow_account,
                connector_members=args.connector_members, create_connector_key=args.create_connector_key,
            ),
            opts=after_apis,
        )
        cluster = GkeCluster(
            name,
            args.cluster,
            GkeClusterWiring(
                project=project, region=region, zones=zones, network=network.network_id, subnet=network.subnet_name,
                node_service_account=accounts.emails["nodes"], labels=labels,
            ),
            opts=after_apis,
        )
        database = None
        if args.database.enabled:
            database = CloudSqlPostgres(
                f"{name}-mlflow-db",
                args.database,
                CloudSqlWiring(project=project, region=region, network_id=network.network_id, labels=labels),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[network.private_services] if network.private_services else []),
            )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=cluster.kubeconfig, opts=child)
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        pipelines = PipelineNamespace(
            f"{name}-pipelines",
            PipelineNamespaceArgs(
                namespace=pipelines_account[0], service_account=pipelines_account[1],
                service_account_annotations={"iam.gke.io/gcp-service-account": accounts.emails["workloads"]}, tags=tags,
            ),
            opts=on_cluster,
        )
        mlflow_namespace = k8s.core.v1.Namespace(
            f"{name}-mlflow-ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=mlflow_account[0], labels=k8s_labels(tags, "mlflow")), opts=on_cluster
        )
        self.mlflow = MlflowServer(
            f"{name}-mlflow",
            args.mlflow,
            MlflowWiring(
                namespace=mlflow_namespace.metadata.name,
                artifacts_destination=pulumi.Output.concat("gs://", storage.bucket_name, f"/{defaults.MLFLOW_ARTIFACT_PREFIX}"),
                backend_store_uri=database.connection_uri if database is not None else None,
                service_account_annotations={"iam.gke.io/gcp-service-account": accounts.emails["mlflow"]},
                tags=tags,
                ready_nodes=cluster.node_pools,
            ),
            opts=on_cluster,
        )
        self.project = project
        self.network_id = network.network_id
        self.cluster_name = cluster.cluster_name
        self.cluster_location = cluster.location
        self.kubeconfig = cluster.kubeconfig
        self.bucket_name = storage.bucket_name
        self.repository_url = storage.repository_url
        self.pipelines_namespace = pipelines.namespace
        self.emails = accounts.emails
        self.connector_key = accounts.connector_key
        self.database_address = database.private_ip if database is not None else None
        self.register_outputs({"cluster_name": self.cluster_name, "bucket_name": self.bucket_name, "repository_url": self.repository_url})
