"""How many nodes one node pool may hold on each cloud: the recipe settings refuse more before anything is made."""

from __future__ import annotations

from datetime import date

from provisioner.facts import Source

SOURCES: tuple[Source, ...] = (
    Source(
        title="Amazon EKS user guide: Amazon EKS service quotas (Nodes per managed node group)",
        url="https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html",
        recorded=date(2026, 12, 2),
    ),
    Source(
        title="Google Kubernetes Engine documentation: Quotas and limits (Nodes per node pool zone)",
        url="https://cloud.google.com/kubernetes-engine/quotas",
        recorded=date(2026, 12, 2),
    ),
)

# AWS's default quota (raisable on request); a node group's desired, min and max may not exceed it.
EKS_NODES_PER_MANAGED_NODE_GROUP = 450
# GKE counts a pool's nodes per zone; a regional pool holds up to this many in each of its zones.
GKE_NODES_PER_POOL_ZONE = 1000
