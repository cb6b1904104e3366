"""GkeCluster: zonal or regional GKE with Workload Identity, no default node pool, one sized pool."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from recipes.gcp import defaults
from recipes.gcp.network import PODS_RANGE, SERVICES_RANGE


@dataclass
class GkeClusterArgs:
    project: str
    region: str
    zones: Sequence[str]
    regional: bool
    network: pulumi.Input[str]
    subnet: pulumi.Input[str]
    node_service_account: pulumi.Input[str]
    machine_type: str = "e2-standard-4"
    node_count: int = 1
    node_min: int = 1
    node_max: int = 3
    spot: bool = False
    deletion_protection: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


def gke_kubeconfig(name: str, endpoint: str, ca: str) -> str:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin (no credentials inside)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "gke-gcloud-auth-plugin", "provideClusterInfo": True}}}],
        }
    )


class GkeCluster(pulumi.ComponentResource):
    """The cluster (Workload Identity on, deletion protection only when asked) and its node pool."""

    cluster_name: pulumi.Output[str]
    location: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    workload_pool: str

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:GkeCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        location = args.region if args.regional else args.zones[0]
        self.workload_pool = f"{args.project}.svc.id.goog"
        cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=name,
            project=args.project,
            location=location,
            node_locations=list(args.zones) if args.regional else None,
            network=args.network,
            subnetwork=args.subnet,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
            ),
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=args.deletion_protection,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=defaults.RELEASE_CHANNEL),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(workload_pool=self.workload_pool),
            resource_labels=dict(args.labels),
            opts=child,
        )
        gcp.container.NodePool(
            f"{name}-general",
            project=args.project,
            cluster=cluster.name,
            location=location,
            node_count=args.node_count,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(min_node_count=args.node_min, max_node_count=args.node_max),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=args.machine_type,
                spot=args.spot,
                service_account=args.node_service_account,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                resource_labels=dict(args.labels),
                labels={"provisioner.io/pool": "general"},
            ),
            opts=child,
        )
        self.cluster_name = cluster.name
        self.location = cluster.location
        self.kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.master_auth).apply(
            lambda parts: gke_kubeconfig(parts[0], parts[1], getattr(parts[2], "cluster_ca_certificate", "") or "")
        )
        self.register_outputs({"cluster_name": self.cluster_name, "location": self.location, "kubeconfig": self.kubeconfig})
