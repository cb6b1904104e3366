"""EksCluster: control plane, OIDC provider for IRSA, and managed node groups sized by the preset."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from recipes.aws import defaults
from recipes.aws.policies import irsa_trust, service_trust
from recipes.aws.settings import EksClusterSettings, NodePoolSettings
from recipes.aws.tags import tagged


@dataclass
class EksClusterWiring:
    """The cluster's name and the subnets it runs in (control plane: all; nodes: the private ones)."""

    cluster_name: str
    subnet_ids: pulumi.Input[Sequence[str]]
    node_subnet_ids: pulumi.Input[Sequence[str]]
    tags: Mapping[str, str] = field(default_factory=dict)


def kubeconfig(cluster_name: str, endpoint: str, certificate_authority: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (no credentials inside)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster on a pinned version with an OIDC provider and managed node groups."""

    cluster_name: pulumi.Output[str]
    kubernetes_version: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    node_role_arn: pulumi.Output[str]
    storage_driver: aws.eks.Addon
    node_groups: list[aws.eks.NodeGroup]

    def __init__(
        self,
        name: str,
        settings: EksClusterSettings,
        wiring: EksClusterWiring,
        region: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("provisioner:aws:EksCluster", name, None, opts)
        self._name = name
        self._args = wiring
        cluster_role = self._create_role("cluster", "eks.amazonaws.com", defaults.EKS_CLUSTER_POLICIES)
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=wiring.cluster_name,
            role_arn=cluster_role.arn,
            version=settings.kubernetes_version or newest_standard_version(),
            # STANDARD: EKS upgrades the cluster when standard support ends instead of billing extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(
                support_type="EXTENDED" if settings.allow_extended_support else "STANDARD"
            ),
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=wiring.subnet_ids, endpoint_private_access=True, endpoint_public_access=True
            ),
            enabled_cluster_log_types=list(defaults.CONTROL_PLANE_LOG_TYPES) if settings.control_plane_logging else [],
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API_AND_CONFIG_MAP", bootstrap_cluster_creator_admin_permissions=True
            ),
            tags=tagged(wiring.tags, wiring.cluster_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        issuer = cluster.identities.apply(lambda identities: identities[0].oidcs[0].issuer)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            thumbprint_lists=[defaults.OIDC_THUMBPRINT],
            tags=tagged(wiring.tags, f"{name}-oidc"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        node_role = self._create_role("nodes", "ec2.amazonaws.com", defaults.EKS_NODE_POLICIES)
        groups = [self._create_node_group("general", cluster, node_role, settings.nodes, defaults.NODE_AMI_TYPE)]
        if settings.gpu_nodes.enabled:
            groups.append(self._create_node_group("gpu", cluster, node_role, settings.gpu_nodes, defaults.GPU_AMI_TYPE, gpu=True))
        self.node_groups = groups
        self.storage_driver = self._create_ebs_csi_driver(cluster, provider, issuer, groups)

        self.cluster_name = cluster.name
        self.kubernetes_version = cluster.version
        self.cluster_arn = cluster.arn
        self.endpoint = cluster.endpoint
        self.oidc_provider_arn = provider.arn
        self.oidc_issuer = issuer
        self.security_group_id = cluster.vpc_config.apply(lambda config: config.cluster_security_group_id or "")
        self.node_role_arn = node_role.arn
        self.kubeconfig = pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority).apply(
            lambda parts: kubeconfig(parts[0], parts[1], _ca_data(parts[2]), region)
        )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "cluster_arn": self.cluster_arn,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
                "kubeconfig": self.kubeconfig,
            }
        )

    def _create_ebs_csi_driver(
        self,
        cluster: aws.eks.Cluster,
        provider: aws.iam.OpenIdConnectProvider,
        issuer: pulumi.Output[str],
        node_groups: Sequence[aws.eks.NodeGroup],
    ) -> aws.eks.Addon:
        """The EBS CSI driver add-on with its own IRSA role: EKS 1.30+ has no default StorageClass without it."""
        namespace, account = defaults.EBS_CSI_SERVICE_ACCOUNT
        role = aws.iam.Role(
            f"{self._name}-ebs-csi-role",
            assume_role_policy=pulumi.Output.all(provider.arn, issuer).apply(
                lambda parts: json.dumps(irsa_trust(parts[0], parts[1], namespace, account))
            ),
            tags=tagged(self._args.tags, f"{self._name}-ebs-csi-role"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicyAttachment(
            f"{self._name}-ebs-csi-policy", role=role.name, policy_arn=defaults.EBS_CSI_POLICY, opts=pulumi.ResourceOptions(parent=self)
        )
        version = aws.eks.get_addon_version_output(
            addon_name=defaults.EBS_CSI_ADDON, kubernetes_version=cluster.version, most_recent=True
        )
        return aws.eks.Addon(
            f"{self._name}-ebs-csi",
            cluster_name=cluster.name,
            addon_name=defaults.EBS_CSI_ADDON,
            addon_version=version.version,
            service_account_role_arn=role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            tags=tagged(self._args.tags, f"{self._name}-ebs-csi"),
            # The driver's controller runs on the nodes.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(node_groups)),
        )

    def _create_role(self, kind: str, service: str, managed_policies: Sequence[str]) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-{kind}-role",
            assume_role_policy=json.dumps(service_trust(service)),
            tags=tagged(self._args.tags, f"{self._name}-{kind}-role"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, policy_arn in enumerate(managed_policies):
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{kind}-policy-{index}", role=role.name, policy_arn=policy_arn, opts=pulumi.ResourceOptions(parent=self)
            )
        return role

    def _create_node_group(
        self,
        pool_name: str,
        cluster: aws.eks.Cluster,
        role: aws.iam.Role,
        pool: NodePoolSettings,
        ami_type: str,
        *,
        gpu: bool = False,
    ) -> aws.eks.NodeGroup:
        taints = [aws.eks.NodeGroupTaintArgs(key="nvidia.com/gpu", value="true", effect="NO_SCHEDULE")] if gpu else None
        return aws.eks.NodeGroup(
            f"{self._name}-{pool_name}-nodes",
            cluster_name=cluster.name,
            node_role_arn=role.arn,
            subnet_ids=self._args.node_subnet_ids,
            instance_types=[pool.instance_type],
            capacity_type="SPOT" if pool.spot else "ON_DEMAND",
            ami_type=ami_type,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=pool.desired, min_size=pool.min, max_size=pool.max),
            labels={"provisioner.io/pool": pool_name},
            taints=taints,
            tags=tagged(self._args.tags, f"{self._name}-{pool_name}-nodes"),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _newest(versions: Sequence[Any]) -> str:
    numbers = [str(getattr(v, "cluster_version", None) or v["cluster_version"]) for v in versions]
    if not numbers:
        raise ValueError("EKS lists no Kubernetes version in standard support in this region")
    return max(numbers, key=lambda version: tuple(int(part) for part in version.split(".")))


def newest_standard_version() -> pulumi.Output[str]:
    """The newest Kubernetes version in EKS standard support, asked of EKS at deploy time."""
    listed = aws.eks.get_cluster_versions_output(version_status="STANDARD_SUPPORT")
    return listed.cluster_versions.apply(_newest)


def _ca_data(certificate_authority: Any) -> str:
    if isinstance(certificate_authority, dict):
        return str(certificate_authority.get("data", ""))
    return str(getattr(certificate_authority, "data", "") or "")
