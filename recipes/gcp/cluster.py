"""GkeCluster: zonal or regional GKE with Workload Identity, no default node pool, one sized pool."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_gcp as gcp

from recipes.gcp import defaults
from recipes.gcp.network import PODS_RANGE, SERVICES_RANGE
from recipes.gcp.settings import GkeClusterSettings


@dataclass
class GkeClusterWiring:
    """Where the cluster runs (the zones resolved from its settings) and what it runs as."""

    project: str
    region: str
    zones: Sequence[str]
    network: pulumi.Input[str]
    subnet: pulumi.Input[str]
    node_service_account: pulumi.Input[str]
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

    def __init__(
        self, name: str, settings: GkeClusterSettings, wiring: GkeClusterWiring, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("provisioner:gcp:GkeCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        location = wiring.region if settings.regional else wiring.zones[0]
        self.workload_pool = f"{wiring.project}.svc.id.goog"
        cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=name,
            project=wiring.project,
            location=location,
            node_locations=list(wiring.zones) if settings.regional else None,
            network=wiring.network,
            subnetwork=wiring.subnet,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name=PODS_RANGE, services_secondary_range_name=SERVICES_RANGE
            ),
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=settings.deletion_protection,
            release_channel=gcp.container.ClusterReleaseChannelArgs(channel=defaults.RELEASE_CHANNEL),
            workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(workload_pool=self.workload_pool),
            resource_labels=dict(wiring.labels),
            opts=child,
        )
        general = gcp.container.NodePool(
            f"{name}-general",
            project=wiring.project,
            cluster=cluster.name,
            location=location,
            node_count=settings.nodes.desired,
            autoscaling=gcp.container.NodePoolAutoscalingArgs(min_node_count=settings.nodes.min, max_node_count=settings.nodes.max),
            management=gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
            node_config=gcp.container.NodePoolNodeConfigArgs(
                machine_type=settings.nodes.machine_type,
                spot=settings.nodes.spot,
                service_account=wiring.node_service_account,
                oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                resource_labels=dict(wiring.labels),
                labels={"provisioner.io/pool": "general"},
            ),
            opts=child,
        )
        self.node_pools = [general]
        self.cluster_name = cluster.name
        self.location = cluster.location
        self.kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.master_auth).apply(
            lambda parts: gke_kubeconfig(parts[0], parts[1], getattr(parts[2], "cluster_ca_certificate", "") or "")
        )
        self.register_outputs({"cluster_name": self.cluster_name, "location": self.location, "kubeconfig": self.kubeconfig})
