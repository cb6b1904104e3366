"""Pulumi AWS data sources (invokes) answered from moto, keyed by their invoke tokens.

Each function takes the invoke's arguments (camelCase wire names) and returns the result object with the
property names of pulumi_aws's ``Get...Result`` class."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from provisioner.engine.emulators.base import EmulationContext

PARTITION = "aws"
DNS_SUFFIX = "amazonaws.com"


def _client(service: str, region: str | None, ctx: EmulationContext) -> Any:
    """The context's client, or a fresh one when the invoke asks about another region."""
    if not region or region == ctx.region:
        return ctx.aws(service)
    import boto3

    return boto3.client(service, region_name=region)


def get_availability_zones(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.get_availability_zones: moto's zones for the region, filtered like the provider does."""
    region = str(args.get("region") or ctx.region)
    params: dict[str, Any] = {}
    if args.get("allAvailabilityZones") is not None:
        params["AllAvailabilityZones"] = bool(args["allAvailabilityZones"])
    filters = [{"Name": f["name"], "Values": list(f.get("values") or [])} for f in args.get("filters") or []]
    if args.get("state"):
        filters.append({"Name": "state", "Values": [str(args["state"])]})
    if filters:
        params["Filters"] = filters
    zones = _client("ec2", region, ctx).describe_availability_zones(**params)["AvailabilityZones"]
    if args.get("state"):
        zones = [zone for zone in zones if zone.get("State") == args["state"]]
    excluded_names = set(args.get("excludeNames") or [])
    excluded_ids = set(args.get("excludeZoneIds") or [])
    zones = sorted(
        (z for z in zones if z["ZoneName"] not in excluded_names and z.get("ZoneId") not in excluded_ids),
        key=lambda zone: zone["ZoneName"],
    )
    return {
        **{key: args[key] for key in ("allAvailabilityZones", "excludeNames", "excludeZoneIds", "filters", "state") if key in args},
        "id": region,
        "region": region,
        "names": [zone["ZoneName"] for zone in zones],
        "zoneIds": [zone.get("ZoneId", "") for zone in zones],
        "groupNames": sorted({str(zone.get("GroupName") or region) for zone in zones}),
    }


def get_caller_identity(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.get_caller_identity: moto's STS answer."""
    identity = ctx.aws("sts").get_caller_identity()
    return {"accountId": identity["Account"], "arn": identity["Arn"], "userId": identity["UserId"], "id": identity["Account"]}


def get_partition(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.get_partition: the commercial partition, which is all moto emulates."""
    return {"partition": PARTITION, "dnsSuffix": DNS_SUFFIX, "reverseDnsPrefix": "com.amazonaws", "id": PARTITION}


@lru_cache(maxsize=1)
def _region_descriptions() -> dict[str, str]:
    """Region descriptions (e.g. 'Europe (Ireland)') from botocore's bundled endpoint data."""
    import botocore.loaders

    partitions = botocore.loaders.Loader().load_data("endpoints")["partitions"]
    return {name: str(data.get("description", "")) for p in partitions for name, data in p.get("regions", {}).items()}


def get_region(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.get_region: the requested region (or the stack's), with its EC2 endpoint."""
    region = str(args.get("region") or args.get("name") or ctx.region)
    return {
        "name": region,
        "region": region,
        "id": region,
        "description": _region_descriptions().get(region, ""),
        "endpoint": f"ec2.{region}.{DNS_SUFFIX}",
    }


_STATUS = {"standard": "STANDARD_SUPPORT", "extended": "EXTENDED_SUPPORT", "unsupported": "UNSUPPORTED"}
# moto has no EKS add-on catalog: the simulated deploy reports this instead of inventing a version.
SIMULATED_ADDON_VERSION = "simulated-most-recent"


def get_cluster_versions(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.eks.get_cluster_versions, from the dated EKS calendar (moto 5.2 has no DescribeClusterVersions)."""
    from provisioner.facts import eks, today

    on = today()
    wanted = args.get("versionStatus")
    only = set(args.get("clusterVersionsOnlies") or [])
    versions = []
    for known in eks.VERSIONS:
        status = known.support(on)
        if status == "unreleased" or (status == "unsupported" and not args.get("includeAll")):
            continue
        if (wanted and _STATUS[status] != wanted) or (only and known.version not in only):
            continue
        versions.append({
            "clusterType": "eks", "clusterVersion": known.version, "controlPlaneComponentConfigs": [],
            "controlPlaneScalingTiers": [], "defaultPlatformVersion": "", "defaultVersion": known.version == eks.default_version(on),
            "endOfExtendedSupportDate": known.end_of_extended.isoformat(), "endOfStandardSupportDate": known.end_of_standard.isoformat(),
            "kubernetesPatchVersion": "", "releaseDate": known.released.isoformat(), "versionStatus": _STATUS[status],
        })
    return {"id": ctx.region, "clusterType": "eks", "clusterVersions": versions, "region": ctx.region}


def get_addon_version(args: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
    """aws.eks.get_addon_version: a marked simulated version (moto 5.2 has no EKS add-ons)."""
    name = str(args.get("addonName") or "")
    return {"id": name, "addonName": name, "kubernetesVersion": str(args.get("kubernetesVersion") or ""),
            "mostRecent": bool(args.get("mostRecent")), "version": SIMULATED_ADDON_VERSION, "region": ctx.region}


INVOKES: dict[str, Callable[[dict[str, Any], EmulationContext], dict[str, Any]]] = {
    "aws:eks/getClusterVersions:getClusterVersions": get_cluster_versions,
    "aws:eks/getAddonVersion:getAddonVersion": get_addon_version,
    "aws:index/getAvailabilityZones:getAvailabilityZones": get_availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": get_caller_identity,
    "aws:index/getPartition:getPartition": get_partition,
    "aws:index/getRegion:getRegion": get_region,
}
