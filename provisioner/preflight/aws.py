"""AWS preflight: identity, region, Kubernetes version, instance offerings, quotas and permissions, read-only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Literal

from pydantic import Field

from provisioner.facts import quotas as quota_facts
from provisioner.preflight.models import ArgsView, Check
from provisioner.recipe_api import TAG_STACK

# What the aws recipe creates, as IAM actions; the network's only without an existing VPC, RDS's only with a database.
BASE_ACTIONS = (
    "eks:CreateCluster", "eks:CreateNodegroup", "iam:CreateRole", "iam:AttachRolePolicy", "iam:PutRolePolicy",
    "iam:PassRole", "iam:CreateOpenIDConnectProvider", "s3:CreateBucket", "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration", "ecr:CreateRepository", "ecr:PutLifecyclePolicy", "ec2:CreateSecurityGroup",
)
NETWORK_ACTIONS = (
    "ec2:CreateVpc", "ec2:CreateSubnet", "ec2:CreateInternetGateway", "ec2:AllocateAddress", "ec2:CreateNatGateway",
    "ec2:CreateRouteTable", "ec2:CreateRoute",
)
DATABASE_ACTIONS = ("rds:CreateDBSubnetGroup", "rds:CreateDBInstance")
SIMULATED_PERMISSIONS = "not run against a real IAM: moto has no SimulatePrincipalPolicy"
CREDENTIALS_FIX = "configure AWS credentials (aws configure, AWS_PROFILE, or aws sso login) for the target account"


class _Nodes(ArgsView):
    instance_type: str
    enabled: bool = True


class _Cluster(ArgsView):
    kubernetes_version: str | None = None
    allow_extended_support: bool = False
    nodes: _Nodes
    gpu_nodes: _Nodes = Field(default_factory=lambda: _Nodes(instance_type="", enabled=False))


class _Network(ArgsView):
    az_count: int = 2
    nat_gateways: Literal["single", "per_az"] = "single"
    vpc_id: str = ""


class _Database(ArgsView):
    enabled: bool = False


class AwsPlan(ArgsView):
    """What preflight reads of an EKS recipe's args: network shape, cluster version and nodes, database.

    ``AwsPlan.of(args)`` is None for a recipe without a cluster (the identity is all it checks).
    """

    network: _Network = Field(default_factory=_Network)
    cluster: _Cluster
    database: _Database = Field(default_factory=_Database)

    @property
    def instance_types(self) -> list[str]:
        pools = [self.cluster.nodes, self.cluster.gpu_nodes]
        return list(dict.fromkeys(pool.instance_type for pool in pools if pool.enabled and pool.instance_type))

    @property
    def nat_count(self) -> int:
        if self.network.vpc_id:
            return 0
        return self.network.az_count if self.network.nat_gateways == "per_az" else 1

    @property
    def actions(self) -> list[str]:
        return [
            *BASE_ACTIONS, *(() if self.network.vpc_id else NETWORK_ACTIONS), *(DATABASE_ACTIONS if self.database.enabled else ()),
        ]


# (iam client, caller ARN, actions) -> {action: decision}; tests stub the IAM call moto lacks.
PermissionSimulator = Callable[[Any, str, list[str]], dict[str, str]]


def simulate_principal_policy(iam: Any, caller_arn: str, actions: list[str]) -> dict[str, str]:
    """IAM's decision for each action (allowed, explicitDeny, implicitDeny), every page."""
    pages = iam.get_paginator("simulate_principal_policy").paginate(PolicySourceArn=caller_arn, ActionNames=actions)
    return {result["EvalActionName"]: result["EvalDecision"] for page in pages for result in page["EvaluationResults"]}


def policy_source_arn(caller_arn: str) -> str:
    """The IAM principal behind an STS caller ARN: an assumed role's session is simulated as its role."""
    if ":assumed-role/" in caller_arn:
        prefix, _, rest = caller_arn.partition(":assumed-role/")
        account_prefix = prefix.replace(":sts:", ":iam:")
        return f"{account_prefix}:role/{rest.split('/')[0]}"
    return caller_arn


def available_versions(eks: Any, *, simulated: bool, on: date) -> dict[str, str]:
    """Kubernetes versions EKS creates clusters on: version -> "standard" or "extended"."""
    if simulated:
        # moto 5.2 has no DescribeClusterVersions: under --simulate the dated facts answer.
        from provisioner.facts import eks as eks_facts

        return {v.version: v.support(on) for v in eks_facts.in_support(on, extended=True)}
    pages = eks.get_paginator("describe_cluster_versions").paginate()
    support = {"STANDARD_SUPPORT": "standard", "EXTENDED_SUPPORT": "extended"}
    return {
        item["clusterVersion"]: support[item["versionStatus"]]
        for page in pages for item in page["clusterVersions"] if item.get("versionStatus") in support
    }


def _newest(versions: Iterable[str]) -> str:
    return max(versions, key=lambda v: tuple(int(part) for part in v.split(".")))


def check_kubernetes_version(plan: AwsPlan, versions: dict[str, str], region: str) -> Check:
    name = "Kubernetes version"
    standard = sorted((v for v, s in versions.items() if s == "standard"), reverse=True)
    wanted = plan.cluster.kubernetes_version
    if not wanted:
        if not standard:
            return Check.fail(name, f"EKS offers no version in standard support in {region}", "set cluster.kubernetes_version")
        return Check.ok(name, f"{_newest(standard)} (the newest in standard support in {region})")
    support = versions.get(wanted)
    offered = ", ".join(standard) or "none"
    if support == "standard" or (support == "extended" and plan.cluster.allow_extended_support):
        return Check.ok(name, f"{wanted} is in {support} support on EKS in {region}")
    if support == "extended":
        return Check.fail(
            name, f"{wanted} is in extended support only (billed at the extended rate)",
            f"--set cluster.kubernetes_version to one of {offered}, or cluster.allow_extended_support=true",
        )
    return Check.fail(name, f"EKS in {region} creates no clusters on Kubernetes {wanted}", f"--set cluster.kubernetes_version to one of {offered}")


def chosen_zones(ec2: Any, count: int) -> list[str]:
    """The zones the recipe picks: the region's first ``count`` available ones, as get_availability_zones lists them."""
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
    return [zone["ZoneName"] for zone in zones][:count]


def check_offerings(ec2: Any, instance_types: list[str], zones: list[str]) -> Check:
    name = "instance types"
    pages = ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": instance_types}, {"Name": "location", "Values": zones}],
    )
    offered = {(item["InstanceType"], item["Location"]) for page in pages for item in page["InstanceTypeOfferings"]}
    missing = [f"{kind} in {zone}" for kind in instance_types for zone in zones if (kind, zone) not in offered]
    if missing:
        return Check.fail(
            name, f"not offered: {', '.join(missing)}",
            "--set cluster.nodes.instance_type (or cluster.gpu_nodes.instance_type) to a type offered there, or choose another --region",
        )
    return Check.ok(name, f"{', '.join(instance_types)} offered in {', '.join(zones)}")


def quota_limit(service_quotas: Any, quota: quota_facts.DefaultQuota) -> tuple[int, str]:
    """The account's limit from Service Quotas, else AWS's default (moto knows few quotas); and where it came from."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value = service_quotas.get_service_quota(ServiceCode=quota.service_code, QuotaCode=quota.quota_code)["Quota"]["Value"]
        return int(value), "Service Quotas"
    except (ClientError, BotoCoreError):
        return quota.default, f"AWS default, recorded {quota.source.recorded}"


def _ours(tags: list[dict[str, str]] | None, stack: str) -> bool:
    return any(tag.get("Key") == TAG_STACK and tag.get("Value") == stack for tag in tags or [])


def _quota_check(quota: quota_facts.DefaultQuota, limit: tuple[int, str], used: int, needed: int, scope: str = "") -> Check:
    value, where = limit
    detail = f"{quota.name}: {used} of {value} used, {needed} needed{scope}"
    if used + needed > value:
        return Check.fail(
            f"quota: {quota.name}", detail + f" (limit: {where})",
            f"free {used + needed - value}, or ask AWS for more (Service Quotas {quota.service_code} {quota.quota_code})",
        )
    return Check.ok(f"quota: {quota.name}", detail + f" (limit: {where})")


def check_quotas(clients: Callable[[str], Any], plan: AwsPlan, zones: list[str], stack: str) -> list[Check]:
    """VPCs, Elastic IPs, NAT gateways per AZ, EKS clusters and RDS instances: in use (less this stack's) and needed."""
    ec2, service_quotas = clients("ec2"), clients("service-quotas")
    checks = []
    if not plan.network.vpc_id:
        vpcs = [vpc for page in ec2.get_paginator("describe_vpcs").paginate() for vpc in page["Vpcs"]]
        ours = sum(_ours(vpc.get("Tags"), stack) for vpc in vpcs)
        checks.append(_quota_check(quota_facts.VPCS, quota_limit(service_quotas, quota_facts.VPCS), len(vpcs), 1 - min(ours, 1)))
        # DescribeAddresses has no pages: it returns every address of the region.
        addresses = ec2.describe_addresses()["Addresses"]
        ours = sum(_ours(address.get("Tags"), stack) for address in addresses)
        needed = max(plan.nat_count - ours, 0)
        checks.append(_quota_check(quota_facts.ELASTIC_IPS, quota_limit(service_quotas, quota_facts.ELASTIC_IPS), len(addresses), needed))
        checks.append(_nat_check(ec2, service_quotas, plan, zones, stack))
    clusters = [name for page in clients("eks").get_paginator("list_clusters").paginate() for name in page["clusters"]]
    # The recipe names its cluster after the stack: a redeploy needs no new one.
    checks.append(_quota_check(quota_facts.EKS_CLUSTERS, quota_limit(service_quotas, quota_facts.EKS_CLUSTERS), len(clusters),
                               0 if stack in clusters else 1))
    if plan.database.enabled:
        rds = clients("rds")
        instances = [db for page in rds.get_paginator("describe_db_instances").paginate() for db in page["DBInstances"]]
        ours = sum(_ours(db.get("TagList"), stack) for db in instances)
        checks.append(_quota_check(quota_facts.RDS_INSTANCES, quota_limit(service_quotas, quota_facts.RDS_INSTANCES), len(instances),
                                   1 - min(ours, 1)))
    return checks


def _nat_check(ec2: Any, service_quotas: Any, plan: AwsPlan, zones: list[str], stack: str) -> Check:
    """The fullest zone decides: the plan needs one NAT gateway in each zone it uses that has none of this stack's."""
    nats = [
        nat for page in ec2.get_paginator("describe_nat_gateways").paginate(
            Filters=[{"Name": "state", "Values": ["pending", "available"]}]
        ) for nat in page["NatGateways"]
    ]
    subnet_ids = sorted({nat["SubnetId"] for nat in nats})
    zone_of = {
        subnet["SubnetId"]: subnet["AvailabilityZone"]
        for page in (ec2.get_paginator("describe_subnets").paginate(SubnetIds=subnet_ids) if subnet_ids else [])
        for subnet in page["Subnets"]
    }
    used = Counter(zone_of.get(nat["SubnetId"], "") for nat in nats)
    ours = Counter(zone_of.get(nat["SubnetId"], "") for nat in nats if _ours(nat.get("Tags"), stack))
    quota = quota_facts.NAT_GATEWAYS_PER_AZ
    limit = quota_limit(service_quotas, quota)
    if plan.nat_count == 0:
        return _quota_check(quota, limit, 0, 0)
    needs = [(zone, used[zone], 0 if ours[zone] else 1) for zone in zones[: plan.nat_count]]
    zone, in_use, needed = max(needs, key=lambda need: need[1] + need[2])
    return _quota_check(quota, limit, in_use, needed, f" in {zone}")


def check_permissions(
    iam: Any, caller_arn: str, actions: list[str], simulator: PermissionSimulator | None
) -> Check:
    name = "permissions"
    if simulator is None:
        return Check.skipped(name, f"the check of {len(actions)} action(s) was {SIMULATED_PERMISSIONS}")
    if caller_arn.endswith(":root"):
        return Check.ok(name, "the account's root user may do everything (use a role instead)")
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        decisions = simulator(iam, policy_source_arn(caller_arn), actions)
    except (ClientError, BotoCoreError) as exc:
        return Check.skipped(name, f"could not simulate the policy (the caller may lack iam:SimulatePrincipalPolicy): {exc}")
    denied = [f"{action} ({decisions.get(action, 'implicitDeny')})" for action in actions if decisions.get(action) != "allowed"]
    if denied:
        return Check.fail(name, f"denied: {', '.join(denied)}", f"grant {policy_source_arn(caller_arn)} these actions")
    return Check.ok(name, f"{len(actions)} action(s) allowed for {policy_source_arn(caller_arn)}")


def run_checks(
    session: Any,
    region: str,
    stack: str,
    plan: AwsPlan | None,
    *,
    simulated: bool,
    on: date,
    simulator: PermissionSimulator | None,
) -> list[Check]:
    """Every AWS check for one stack; after a failed identity check the rest are skipped."""
    from botocore.exceptions import BotoCoreError, ClientError

    def clients(service: str) -> Any:
        return session.client(service, region_name=region)

    def guarded(name: str, run: Callable[[], Check | list[Check]]) -> list[Check]:
        try:
            result = run()
        except (ClientError, BotoCoreError) as exc:
            return [Check.fail(name, f"could not check: {exc}", f"allow the read-only calls preflight makes, in {region}")]
        return result if isinstance(result, list) else [result]

    try:
        caller = clients("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as exc:
        return [Check.fail("identity", f"AWS did not say who you are: {exc}", CREDENTIALS_FIX)]
    checks = [Check.ok("identity", f"{caller['Arn']} (account {caller['Account']})")]
    if plan is None:
        return checks
    ec2 = clients("ec2")
    checks += guarded("region", lambda: _region_check(ec2, region))
    checks += guarded("Kubernetes version", lambda: check_kubernetes_version(
        plan, available_versions(clients("eks"), simulated=simulated, on=on), region))
    zones: list[str] = []

    def offerings() -> Check:
        zones.extend(chosen_zones(ec2, plan.network.az_count))
        return check_offerings(ec2, plan.instance_types, zones)

    checks += guarded("instance types", offerings)
    checks += guarded("quotas", lambda: check_quotas(clients, plan, zones, stack))
    checks += guarded("permissions", lambda: check_permissions(clients("iam"), caller["Arn"], plan.actions, simulator))
    return checks


def _region_check(ec2: Any, region: str) -> Check:
    enabled = sorted(item["RegionName"] for item in ec2.describe_regions()["Regions"])
    if region not in enabled:
        return Check.fail("region", f"{region} is not enabled for this account", f"enable it in the account settings, or choose one of {', '.join(enabled)}")
    return Check.ok("region", f"{region} is enabled for this account")
