"""EKS in moto: clusters (with the cluster security group EKS would create) and managed node groups."""

from __future__ import annotations

import hashlib
from typing import Any

from provisioner.engine.emulators.aws_common import error_code, find_named_orphan, is_not_found, iso, tag_specifications, tags_of, wait_for
from provisioner.engine.emulators.base import EmulationContext, Emulator

CLUSTER_TAG = "aws:eks:cluster-name"
CLUSTER_SG_DESCRIPTION = "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads."


def _not_implemented(exc: BaseException) -> bool:
    return "not yet implemented" in str(exc).lower() or isinstance(exc, NotImplementedError)


def _sync_eks_tags(ctx: EmulationContext, arn: str, old: dict[str, str], new: dict[str, str]) -> None:
    """Make an EKS resource's tags ``new``. moto tags clusters only: for a node group it answers
    ResourceNotFound, and the tags given at creation stay (there is no other way to change them in moto)."""
    eks = ctx.aws("eks")
    removed = [key for key in old if key not in new]
    try:
        if removed:
            eks.untag_resource(resourceArn=arn, tagKeys=removed)
        if new:
            eks.tag_resource(resourceArn=arn, tags=new)
    except Exception as exc:
        if not (is_not_found(exc) and ":nodegroup/" in arn):
            raise


def cluster_issuer(arn: str, created_at: str, region: str) -> str:
    """A per-cluster OIDC issuer URL, as EKS gives each cluster (a 32-hex-digit id)."""
    issuer_id = hashlib.sha256(f"{arn}@{created_at}".encode()).hexdigest()[:32].upper()
    return f"https://oidc.eks.{region}.amazonaws.com/id/{issuer_id}"


def _give_unique_issuer(cluster_name: str, issuer: str, ctx: EmulationContext) -> None:
    """Set a cluster's own OIDC issuer in this process's moto.

    moto draws one issuer per process and hands it to every cluster, so a second cluster's IAM OIDC
    provider would collide with the first's (EntityAlreadyExists). In-process, this writes the
    per-cluster issuer into moto's record (moto has no public API for it), so describe_cluster agrees;
    a moto server in another process cannot be reached, and the emulator reports the synthesized
    issuer in the cluster's outputs instead (see ``ClusterEmulator._state``)."""
    try:
        from moto.eks.models import eks_backends
    except ImportError:
        return
    for regions in eks_backends.values():
        backend = regions.get(ctx.region) if hasattr(regions, "get") else None
        cluster = backend.clusters.get(cluster_name) if backend is not None else None
        if cluster is not None:
            cluster.identity = {"oidc": {"issuer": issuer}}


def _refuse_unsupported_version(version: Any) -> None:
    """Refuse a version EKS creates no cluster on, by the dated calendar (moto takes any string)."""
    if not version:
        return
    from provisioner.facts import eks, today

    known = eks.find(str(version))
    support = known.support(today()) if known else "unsupported"
    if support in ("unsupported", "unreleased"):
        offered = ", ".join(v.version for v in eks.in_support(today(), extended=True))
        raise RuntimeError(f"InvalidParameterException: unsupported Kubernetes version {version} (EKS offers {offered})")


class ClusterEmulator(Emulator):
    """aws:eks/cluster:Cluster. Outputs are moto's describe_cluster answer (endpoint, CA data, OIDC issuer).

    moto creates no cluster security group, so the emulator creates one in the cluster's VPC, as EKS
    does (tagged ``aws:eks:cluster-name``), reports it as ``vpcConfig.clusterSecurityGroupId`` and
    deletes it with the cluster."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        eks = ctx.aws("eks")
        return find_named_orphan(
            ctx.physical_name(name, inputs, limit=100), lambda cluster: eks.describe_cluster(name=cluster)["cluster"].get("tags") or {}, inputs
        )

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        _refuse_unsupported_version(inputs.get("version"))
        cluster_name = ctx.physical_name(name, inputs, limit=100)
        vpc_config = inputs.get("vpcConfig") or {}
        params: dict[str, Any] = {
            "name": cluster_name,
            "roleArn": inputs["roleArn"],
            "resourcesVpcConfig": self._resources_vpc_config(vpc_config),
        }
        if inputs.get("version"):
            params["version"] = str(inputs["version"])
        if inputs.get("enabledClusterLogTypes"):
            params["logging"] = self._logging(inputs)
        if inputs.get("accessConfig"):
            params["accessConfig"] = {key: value for key, value in inputs["accessConfig"].items() if value is not None}
        network = inputs.get("kubernetesNetworkConfig") or {}
        if network:
            params["kubernetesNetworkConfig"] = {
                key: network[key] for key in ("serviceIpv4Cidr", "ipFamily") if network.get(key)
            }
        if inputs.get("encryptionConfig"):
            encryption = inputs["encryptionConfig"]
            params["encryptionConfig"] = [{"provider": encryption.get("provider") or {}, "resources": list(encryption.get("resources") or [])}]
        if tags_of(inputs):
            params["tags"] = tags_of(inputs)
        created = ctx.aws("eks").create_cluster(**params)["cluster"]
        _give_unique_issuer(cluster_name, cluster_issuer(created["arn"], iso(created.get("createdAt")), ctx.region), ctx)
        self._ensure_cluster_security_group(cluster_name, list(vpc_config.get("subnetIds") or []), inputs, ctx)
        wait_for(ctx.aws("eks"), "cluster_active", name=cluster_name)
        return cluster_name, self._state(cluster_name, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        eks = ctx.aws("eks")
        current = self._describe(resource_id, ctx)
        wanted_version = inputs.get("version")
        if wanted_version and str(wanted_version) != current.get("version"):
            try:
                eks.update_cluster_version(name=resource_id, version=str(wanted_version))
            except Exception as exc:
                if _not_implemented(exc):
                    raise RuntimeError(
                        f"the emulator (moto) cannot upgrade EKS cluster {resource_id} from {current.get('version')} "
                        f"to {wanted_version}: UpdateClusterVersion is not implemented; destroy and redeploy instead"
                    ) from exc
                raise
        eks.update_cluster_config(
            name=resource_id,
            resourcesVpcConfig=self._resources_vpc_config(inputs.get("vpcConfig") or {}),
            logging=self._logging(inputs),
        )
        _sync_eks_tags(ctx, current["arn"], tags_of(old), tags_of(inputs))
        return self._state(resource_id, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        cluster = self._describe(resource_id, ctx)
        return bool(cluster) and cluster.get("status") != "DELETING"

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        """Delete the cluster (EKS refuses while node groups remain), then its cluster security group."""
        eks = ctx.aws("eks")
        if self._describe(resource_id, ctx):
            try:
                eks.delete_cluster(name=resource_id)
            except Exception as exc:
                if not is_not_found(exc):
                    raise
            wait_for(eks, "cluster_deleted", name=resource_id)
        group = self._cluster_security_group(resource_id, ctx)
        if group is not None:
            try:
                ctx.aws("ec2").delete_security_group(GroupId=group["GroupId"])
            except Exception as exc:
                if not is_not_found(exc):
                    raise

    @staticmethod
    def _resources_vpc_config(vpc_config: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "subnetIds": list(vpc_config.get("subnetIds") or []),
            "securityGroupIds": list(vpc_config.get("securityGroupIds") or []),
            "endpointPublicAccess": bool(vpc_config.get("endpointPublicAccess", True)),
            "endpointPrivateAccess": bool(vpc_config.get("endpointPrivateAccess", False)),
        }
        if vpc_config.get("publicAccessCidrs"):
            config["publicAccessCidrs"] = list(vpc_config["publicAccessCidrs"])
        return config

    @staticmethod
    def _logging(inputs: dict[str, Any]) -> dict[str, Any]:
        types = list(inputs.get("enabledClusterLogTypes") or [])
        all_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
        disabled = [kind for kind in all_types if kind not in types]
        entries = ([{"types": types, "enabled": True}] if types else []) + ([{"types": disabled, "enabled": False}] if disabled else [])
        return {"clusterLogging": entries}

    @staticmethod
    def _describe(cluster_name: str, ctx: EmulationContext) -> dict[str, Any]:
        try:
            return dict(ctx.aws("eks").describe_cluster(name=cluster_name)["cluster"])
        except Exception as exc:
            if is_not_found(exc):
                return {}
            raise

    @staticmethod
    def _cluster_security_group(cluster_name: str, ctx: EmulationContext) -> dict[str, Any] | None:
        groups = ctx.aws("ec2").describe_security_groups(
            Filters=[{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster_name]}]
        )["SecurityGroups"]
        return groups[0] if groups else None

    def _ensure_cluster_security_group(
        self, cluster_name: str, subnet_ids: list[str], inputs: dict[str, Any], ctx: EmulationContext
    ) -> None:
        if not subnet_ids or self._cluster_security_group(cluster_name, ctx) is not None:
            return
        ec2 = ctx.aws("ec2")
        vpc_id = ec2.describe_subnets(SubnetIds=subnet_ids[:1])["Subnets"][0]["VpcId"]
        group_name = f"eks-cluster-sg-{cluster_name}-{ctx.suffix(cluster_name, 10)}"
        tags = {
            **tags_of(inputs),
            "Name": group_name,
            CLUSTER_TAG: cluster_name,
            f"kubernetes.io/cluster/{cluster_name}": "owned",
        }
        group_id = ec2.create_security_group(
            GroupName=group_name, Description=CLUSTER_SG_DESCRIPTION, VpcId=vpc_id,
            TagSpecifications=tag_specifications("security-group", tags),
        )["GroupId"]
        try:
            ec2.authorize_security_group_ingress(
                GroupId=group_id, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]}]
            )
        except Exception as exc:
            if error_code(exc) != "InvalidPermission.Duplicate":
                raise

    def _state(self, cluster_name: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        cluster = self._describe(cluster_name, ctx)
        described_vpc = cluster.get("resourcesVpcConfig") or {}
        wanted_vpc = self._resources_vpc_config(inputs.get("vpcConfig") or {})
        subnet_ids = list(described_vpc.get("subnetIds") or wanted_vpc["subnetIds"])
        group = self._cluster_security_group(cluster_name, ctx)
        public = bool(described_vpc.get("endpointPublicAccess", wanted_vpc["endpointPublicAccess"]))
        vpc_config = {
            "subnetIds": subnet_ids,
            "securityGroupIds": list(described_vpc.get("securityGroupIds") or wanted_vpc["securityGroupIds"]),
            "endpointPublicAccess": public,
            "endpointPrivateAccess": bool(described_vpc.get("endpointPrivateAccess", wanted_vpc["endpointPrivateAccess"])),
            "publicAccessCidrs": list(
                described_vpc.get("publicAccessCidrs") or wanted_vpc.get("publicAccessCidrs") or (["0.0.0.0/0"] if public else [])
            ),
            "clusterSecurityGroupId": described_vpc.get("clusterSecurityGroupId") or (group or {}).get("GroupId", ""),
            "vpcId": described_vpc.get("vpcId") or (group or {}).get("VpcId", ""),
        }
        logging = (cluster.get("logging") or {}).get("clusterLogging") or []
        enabled_logs = [kind for entry in logging if entry.get("enabled") for kind in entry.get("types", [])]
        network = cluster.get("kubernetesNetworkConfig") or {}
        access = cluster.get("accessConfig") or {
            "authenticationMode": "CONFIG_MAP",
            **{key: value for key, value in (inputs.get("accessConfig") or {}).items() if value is not None},
        }
        return {
            **inputs,
            "name": cluster["name"],
            "arn": cluster["arn"],
            "endpoint": cluster["endpoint"],
            "version": cluster["version"],
            "platformVersion": cluster.get("platformVersion", ""),
            "status": cluster["status"],
            "roleArn": cluster["roleArn"],
            "createdAt": iso(cluster.get("createdAt")),
            "certificateAuthority": {"data": (cluster.get("certificateAuthority") or {}).get("data", "")},
            "identities": [{"oidcs": [{"issuer": cluster_issuer(cluster["arn"], iso(cluster.get("createdAt")), ctx.region)}]}],
            "vpcConfig": vpc_config,
            "kubernetesNetworkConfig": {
                "serviceIpv4Cidr": network.get("serviceIpv4Cidr", ""),
                "ipFamily": network.get("ipFamily", "ipv4"),
            },
            "enabledClusterLogTypes": enabled_logs,
            "accessConfig": access,
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class NodeGroupEmulator(Emulator):
    """aws:eks/nodeGroup:NodeGroup; its id is ``<cluster>:<node group>``. Without a ``version`` it takes
    the cluster's, as EKS does."""


    def find_orphan(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> str | None:
        eks = ctx.aws("eks")
        cluster_name = str(inputs["clusterName"])
        group_name = ctx.physical_name(name, inputs, key="nodeGroupName", limit=63)
        found = find_named_orphan(
            group_name,
            lambda group: eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=group)["nodegroup"].get("tags") or {},
            inputs,
        )
        return f"{cluster_name}:{found}" if found else None

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        eks = ctx.aws("eks")
        cluster_name = str(inputs["clusterName"])
        group_name = ctx.physical_name(name, inputs, key="nodeGroupName", limit=63)
        scaling = inputs.get("scalingConfig") or {}
        params: dict[str, Any] = {
            "clusterName": cluster_name,
            "nodegroupName": group_name,
            "nodeRole": inputs["nodeRoleArn"],
            "subnets": list(inputs.get("subnetIds") or []),
            "scalingConfig": {key: int(scaling[key]) for key in ("minSize", "maxSize", "desiredSize") if key in scaling},
            "version": str(inputs.get("version") or eks.describe_cluster(name=cluster_name)["cluster"]["version"]),
        }
        for key in ("instanceTypes", "capacityType", "amiType", "labels", "releaseVersion", "launchTemplate", "remoteAccess"):
            if inputs.get(key) not in (None, [], {}):
                params[key] = inputs[key]
        if inputs.get("diskSize") is not None:
            params["diskSize"] = int(inputs["diskSize"])
        if inputs.get("updateConfig"):
            params["updateConfig"] = {key: int(value) for key, value in inputs["updateConfig"].items() if value is not None}
        if (params.get("launchTemplate") or {}).get("version") is not None:
            params["launchTemplate"] = {**params["launchTemplate"], "version": str(params["launchTemplate"]["version"])}
        if inputs.get("taints"):
            params["taints"] = [{k: t[k] for k in ("key", "value", "effect") if t.get(k) is not None} for t in inputs["taints"]]
        if tags_of(inputs):
            params["tags"] = tags_of(inputs)
        eks.create_nodegroup(**params)
        wait_for(eks, "nodegroup_active", clusterName=cluster_name, nodegroupName=group_name)
        return f"{cluster_name}:{group_name}", self._state(cluster_name, group_name, inputs, ctx)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        eks = ctx.aws("eks")
        cluster_name, _, group_name = resource_id.partition(":")
        current = self._describe(cluster_name, group_name, ctx)
        wanted_version = inputs.get("version")
        if wanted_version and str(wanted_version) != current.get("version"):
            try:
                eks.update_nodegroup_version(clusterName=cluster_name, nodegroupName=group_name, version=str(wanted_version))
            except Exception as exc:
                if _not_implemented(exc):
                    raise RuntimeError(
                        f"the emulator (moto) cannot upgrade node group {group_name}: UpdateNodegroupVersion is not implemented"
                    ) from exc
                raise
        changes: dict[str, Any] = {}
        scaling = inputs.get("scalingConfig") or {}
        if scaling:
            changes["scalingConfig"] = {key: int(scaling[key]) for key in ("minSize", "maxSize", "desiredSize") if key in scaling}
        old_labels, new_labels = dict(current.get("labels") or {}), dict(inputs.get("labels") or {})
        if old_labels != new_labels:
            changes["labels"] = {"addOrUpdateLabels": new_labels, "removeLabels": [k for k in old_labels if k not in new_labels]}
        old_taints = [dict(t) for t in current.get("taints") or []]
        new_taints = [{k: t[k] for k in ("key", "value", "effect") if t.get(k) is not None} for t in inputs.get("taints") or []]
        if old_taints != new_taints:
            changes["taints"] = {"addOrUpdateTaints": new_taints, "removeTaints": [t for t in old_taints if t not in new_taints]}
        if changes:
            eks.update_nodegroup_config(clusterName=cluster_name, nodegroupName=group_name, **changes)
        _sync_eks_tags(ctx, current["nodegroupArn"], tags_of(old), tags_of(inputs))
        return self._state(cluster_name, group_name, inputs, ctx)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        cluster_name, _, group_name = resource_id.partition(":")
        group = self._describe(cluster_name, group_name, ctx)
        return bool(group) and group.get("status") != "DELETING"

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        """Delete the node group and wait (bounded) until EKS no longer lists it."""
        cluster_name, _, group_name = resource_id.partition(":")
        if not self._describe(cluster_name, group_name, ctx):
            return
        try:
            ctx.aws("eks").delete_nodegroup(clusterName=cluster_name, nodegroupName=group_name)
        except Exception as exc:
            if not is_not_found(exc):
                raise
        wait_for(ctx.aws("eks"), "nodegroup_deleted", timeout=60, clusterName=cluster_name, nodegroupName=group_name)

    @staticmethod
    def _describe(cluster_name: str, group_name: str, ctx: EmulationContext) -> dict[str, Any]:
        try:
            return dict(ctx.aws("eks").describe_nodegroup(clusterName=cluster_name, nodegroupName=group_name)["nodegroup"])
        except Exception as exc:
            if is_not_found(exc):
                return {}
            raise

    def _state(self, cluster_name: str, group_name: str, inputs: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        group = self._describe(cluster_name, group_name, ctx)
        resources = group.get("resources") or {}
        return {
            **inputs,
            "clusterName": cluster_name,
            "nodeGroupName": group_name,
            "arn": group["nodegroupArn"],
            "status": group["status"],
            "version": group.get("version", ""),
            "releaseVersion": group.get("releaseVersion", ""),
            "capacityType": group.get("capacityType", "ON_DEMAND"),
            "amiType": group.get("amiType", ""),
            "diskSize": group.get("diskSize"),
            "instanceTypes": list(group.get("instanceTypes") or []),
            "scalingConfig": dict(group.get("scalingConfig") or {}),
            "labels": dict(group.get("labels") or {}),
            "taints": [dict(t) for t in group.get("taints") or []],
            "resources": [
                {
                    "autoscalingGroups": [{"name": asg["name"]} for asg in resources.get("autoScalingGroups", [])],
                    "remoteAccessSecurityGroupId": resources.get("remoteAccessSecurityGroup", ""),
                }
            ],
            "region": ctx.region,
            "tagsAll": tags_of(inputs),
        }


class AddonEmulator(Emulator):
    """aws:eks/addon:Addon. moto 5.2 has no EKS add-ons: the cluster must exist in moto, and the add-on is
    recorded with synthesized outputs (its id is ``cluster:addon``, as the provider's)."""

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        cluster_name, addon = str(inputs["clusterName"]), str(inputs["addonName"])
        cluster = ctx.aws("eks").describe_cluster(name=cluster_name)["cluster"]  # ResourceNotFoundException if not there
        arn = cluster["arn"].replace(":cluster/", ":addon/") + f"/{addon}"
        return f"{cluster_name}:{addon}", {**inputs, "arn": arn, "createdAt": iso(cluster.get("createdAt"))}

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        return {**old, **inputs}

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        return bool(ClusterEmulator._describe(resource_id.partition(":")[0], ctx))

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        return None  # nothing in moto to remove; EKS removes an add-on with its cluster


HANDLERS: dict[str, Emulator] = {
    "aws:eks/cluster:Cluster": ClusterEmulator(),
    "aws:eks/nodeGroup:NodeGroup": NodeGroupEmulator(),
    "aws:eks/addon:Addon": AddonEmulator(),
}
