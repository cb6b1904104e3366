"""Preflight: read-only checks against a moto server (and the fake GCP API, a kubeconfig), table or JSON, exit 1 on a failure."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import boto3
import httpx
import pytest

from provisioner.cli._deploy_common import resolve
from provisioner.errors import InputError
from provisioner.facts import AS_OF_ENV
from provisioner.facts import eks as eks_facts
from provisioner.preflight import aws as aws_preflight
from provisioner.preflight.gcp import NOT_SIMULATED
from provisioner.preflight.run import run_preflight
from provisioner.recipe_api import Recipe
from tests.helpers import deploy_cli

AS_OF = date(2026, 12, 1)
REGION = "eu-west-1"
# A version in standard support on AS_OF (and for months after it), so the checks do not hinge on the default.
SUPPORTED = "cluster.kubernetes_version=1.35"


@pytest.fixture(autouse=True)
def fixed_today() -> None:
    """Versions are judged on AS_OF, not on the day the tests run (os.environ is restored after each test)."""
    os.environ[AS_OF_ENV] = AS_OF.isoformat()


def _preflight_json(*args: str) -> tuple[int, dict[str, Any], str]:
    result = deploy_cli(*args, "--preflight", "--output", "json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def _checks(report: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {check["name"]: (check["status"], check["detail"]) for check in report["checks"]}


def _inventory() -> dict[str, Any]:
    """What exists in the moto server, per kind a deploy would make."""
    ec2 = boto3.client("ec2", region_name=REGION)
    return {
        "vpcs": sorted(vpc["VpcId"] for vpc in ec2.describe_vpcs()["Vpcs"]),
        "addresses": ec2.describe_addresses()["Addresses"],
        "clusters": boto3.client("eks", region_name=REGION).list_clusters()["clusters"],
        "buckets": boto3.client("s3").list_buckets()["Buckets"],
        "roles": boto3.client("iam").list_roles()["Roles"],
        "repositories": boto3.client("ecr", region_name=REGION).describe_repositories()["repositories"],
    }


def _allocate_addresses(count: int) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    for _ in range(count):
        ec2.allocate_address(Domain="vpc")


# ----- the simulated path, through the CLI, against the moto server -----------------------------------


def test_preflight_passes_on_a_fresh_moto_server(aws_endpoint: str) -> None:
    code, report, _ = _preflight_json("aws", "--env", "staging", "--simulate", "--set", SUPPORTED)

    assert code == 0
    assert report["passed"] is True
    assert _checks(report) == {
        "identity": ("ok", "arn:aws:sts::123456789012:user/moto (account 123456789012)"),
        "region": ("ok", "eu-west-1 is enabled for this account"),
        "Kubernetes version": ("ok", "1.35 is in standard support on EKS in eu-west-1"),
        "instance types": ("ok", "t3.xlarge offered in eu-west-1a, eu-west-1b"),
        "quota: VPCs": ("ok", "VPCs: 1 of 5 used, 1 needed (limit: Service Quotas)"),
        "quota: Elastic IPs": ("ok", "Elastic IPs: 0 of 5 used, 1 needed (limit: AWS default, recorded 2026-12-01)"),
        "quota: NAT gateways per AZ": ("ok", "NAT gateways per AZ: 0 of 5 used, 1 needed in eu-west-1a (limit: Service Quotas)"),
        "quota: EKS clusters": ("ok", "EKS clusters: 0 of 100 used, 1 needed (limit: AWS default, recorded 2026-12-01)"),
        "quota: RDS DB instances": ("ok", "RDS DB instances: 0 of 40 used, 1 needed (limit: AWS default, recorded 2026-12-01)"),
        "permissions": ("skipped", "the check of 22 action(s) was not run against a real IAM: moto has no SimulatePrincipalPolicy"),
    }


def test_preflight_creates_and_writes_nothing(aws_endpoint: str, isolated_environ: Path) -> None:
    before = _inventory()

    code, _report, _ = _preflight_json("aws", "--env", "staging", "--simulate", "--set", SUPPORTED)

    assert code == 0
    assert _inventory() == before
    assert not isolated_environ.exists()  # no state, no registry, no Pulumi stack, no secrets key


@pytest.mark.parametrize(
    ("allocated", "exit_code", "status", "detail"),
    [
        pytest.param(4, 0, "ok", "Elastic IPs: 4 of 5 used, 1 needed (limit: AWS default, recorded 2026-12-01)", id="one-left"),
        pytest.param(5, 1, "fail", "Elastic IPs: 5 of 5 used, 1 needed (limit: AWS default, recorded 2026-12-01)", id="quota-used-up"),
    ],
)
def test_preflight_fails_when_the_elastic_ip_quota_is_used_up(
    aws_endpoint: str, allocated: int, exit_code: int, status: str, detail: str
) -> None:
    _allocate_addresses(allocated)

    code, report, stderr = _preflight_json("aws", "--env", "staging", "--simulate", "--set", SUPPORTED)

    assert code == exit_code
    assert _checks(report)["quota: Elastic IPs"] == (status, detail)
    if exit_code:
        assert stderr == (
            f"error: preflight of aws-staging failed: {detail} "
            "(fix: free 1, or ask AWS for more (Service Quotas ec2 L-0263D0A3))\n"
        )


def test_preflight_table_names_the_failed_check_and_its_fix(aws_endpoint: str) -> None:
    _allocate_addresses(5)
    os.environ["COLUMNS"] = "250"  # rich wraps cells to the terminal's width

    result = deploy_cli("aws", "--env", "staging", "--simulate", "--set", SUPPORTED, "--preflight")

    assert result.exit_code == 1
    rows = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert (
        "│ quota: Elastic IPs │ fail │ Elastic IPs: 5 of 5 used, 1 needed (limit: AWS default, recorded 2026-12-01) │ "
        "free 1, or ask AWS for more (Service Quotas ec2 L-0263D0A3) │"
    ) in rows
    assert "SIMULATION: nothing is deployed to a real cloud." in result.stderr


def test_preflight_counts_per_az_nat_gateways_as_elastic_ips(aws_endpoint: str) -> None:
    _allocate_addresses(4)

    code, report, _ = _preflight_json(
        "aws", "--env", "staging", "--simulate", "--set", SUPPORTED, "--set", "network.nat_gateways=per_az"
    )

    assert code == 1
    assert _checks(report)["quota: Elastic IPs"] == (
        "fail", "Elastic IPs: 4 of 5 used, 2 needed (limit: AWS default, recorded 2026-12-01)"
    )


def test_preflight_names_instance_types_not_offered_in_the_chosen_zones(aws_endpoint: str) -> None:
    code, report, _ = _preflight_json(
        "aws", "--env", "staging", "--simulate", "--set", SUPPORTED,
        "--set", "cluster.gpu_nodes.enabled=true", "--set", "cluster.gpu_nodes.instance_type=p4d.24xlarge",
    )

    assert code == 1
    assert _checks(report)["instance types"] == ("fail", "not offered: p4d.24xlarge in eu-west-1a, p4d.24xlarge in eu-west-1b")


def test_simulated_preflight_answers_the_kubernetes_version_from_the_dated_facts(aws_endpoint: str) -> None:
    code, report, _ = _preflight_json(
        "aws", "--env", "staging", "--simulate", "--set", "cluster.kubernetes_version=1.33", "--set", "cluster.allow_extended_support=true"
    )

    assert code == 0
    assert _checks(report)["Kubernetes version"] == ("ok", "1.33 is in extended support on EKS in eu-west-1")


def _plan(version: str | None, *, extended: bool = False) -> aws_preflight.AwsPlan:
    return aws_preflight.AwsPlan.model_validate(
        {"cluster": {"kubernetes_version": version, "allow_extended_support": extended, "nodes": {"instance_type": "t3.large"}}}
    )


@pytest.mark.parametrize(
    ("version", "extended", "status", "detail"),
    [
        pytest.param(None, False, "ok", "1.35 (the newest in standard support in eu-west-1)", id="resolved"),
        pytest.param("1.34", False, "ok", "1.34 is in standard support on EKS in eu-west-1", id="standard"),
        pytest.param("1.33", True, "ok", "1.33 is in extended support on EKS in eu-west-1", id="extended-allowed"),
        pytest.param("1.33", False, "fail", "1.33 is in extended support only (billed at the extended rate)", id="extended-unasked"),
        pytest.param("1.31", True, "fail", "EKS in eu-west-1 creates no clusters on Kubernetes 1.31", id="past-extended"),
    ],
)
def test_kubernetes_version_check_follows_the_support_calendar(version: str | None, extended: bool, status: str, detail: str) -> None:
    versions = aws_preflight.available_versions(None, simulated=True, on=AS_OF)

    check = aws_preflight.check_kubernetes_version(_plan(version, extended=extended), versions, REGION)

    assert (check.status.value, check.detail) == (status, detail)


# ----- the real path against the moto server, with the two calls moto lacks stubbed ------------------


def _stub(session: boto3.Session, service: str, operation: str, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Answer one API call in botocore's before-call event, so the code under test still builds and pages it."""

    def handler(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        return SimpleNamespace(status_code=200, headers={}), answer(params)

    session.events.register(f"before-call.{service}.{operation}", handler)


def _cluster_versions(_params: dict[str, Any]) -> dict[str, Any]:
    """What EKS's DescribeClusterVersions answers on AS_OF (from the dated facts)."""
    status = {"standard": "STANDARD_SUPPORT", "extended": "EXTENDED_SUPPORT"}
    return {"clusterVersions": [
        {"clusterVersion": v.version, "versionStatus": status[v.support(AS_OF)]} for v in eks_facts.in_support(AS_OF, extended=True)
    ]}


def _requested_actions(params: dict[str, Any]) -> list[str]:
    body = params["body"]
    keys = sorted((key for key in body if key.startswith("ActionNames.member.")), key=lambda key: int(key.rsplit(".", 1)[1]))
    return [body[key] for key in keys]


def _decisions(decide: Callable[[str], str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def answer(params: dict[str, Any]) -> dict[str, Any]:
        results = [{"EvalActionName": action, "EvalDecision": decide(action)} for action in _requested_actions(params)]
        return {"EvaluationResults": results, "IsTruncated": False}

    return answer


def _real_session(**credentials: str) -> boto3.Session:
    session = boto3.Session(region_name=REGION, **credentials)
    _stub(session, "eks", "DescribeClusterVersions", _cluster_versions)
    return session


def _real_preflight(session: boto3.Session, recipe: str = "aws", env: str = "staging") -> Any:
    recipe_obj, request, args = resolve(recipe, env, config_file=None, sets=[SUPPORTED], region=None, name=None, backend=None)
    return run_preflight(recipe_obj, request, args, simulated=False, aws_session=session, on=AS_OF)


def test_real_preflight_passes_on_a_fresh_moto_server_with_every_action_allowed(aws_endpoint: str) -> None:
    session = _real_session()
    _stub(session, "iam", "SimulatePrincipalPolicy", _decisions(lambda _action: "allowed"))

    report = _real_preflight(session)

    assert report.passed
    assert {check.name: check.detail for check in report.checks}["permissions"] == (
        "22 action(s) allowed for arn:aws:sts::123456789012:user/moto"
    )


@pytest.fixture()
def deployer_without_create_cluster(aws_endpoint: str) -> Iterator[dict[str, str]]:
    """An IAM user allowed every action preflight reads and the recipe uses, except eks:CreateCluster; then
    moto's IAM enforcement on (``/moto-api/reset-auth``: every request from now on is authenticated and authorized)."""
    iam = boto3.client("iam")
    allowed = [action for action in aws_preflight.AwsPlan.model_validate(
        {"database": {"enabled": True}, "cluster": {"nodes": {"instance_type": "t3.large"}}}).actions if action != "eks:CreateCluster"]
    reads = ["sts:GetCallerIdentity", "ec2:Describe*", "eks:List*", "eks:Describe*", "rds:Describe*", "servicequotas:Get*",
             "iam:SimulatePrincipalPolicy"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": reads + allowed, "Resource": "*"}]}
    iam.create_user(UserName="deployer")
    iam.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    _reset_auth(aws_endpoint, "0")
    try:
        yield {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    finally:
        _reset_auth(aws_endpoint, "inf")


def _reset_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=count.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request).read()


def _moto_iam_decision(access_key_id: str) -> Callable[[str], str]:
    """IAM's decision for the key's user, by moto's own policy evaluator (the one its enforcement runs).

    moto has no SimulatePrincipalPolicy, so this stands in for that one call: it reads the user's
    real policies from the moto server (same process) instead of answering a fixed decision.
    """
    from moto.iam.access_control import IAMPolicy, IAMUserAccessKey, PermissionResult

    policies = IAMUserAccessKey("123456789012", "aws", access_key_id, {}).collect_policies()

    def decide(action: str) -> str:
        results = {IAMPolicy(policy).is_action_permitted(action) for policy in policies}
        if PermissionResult.DENIED in results:
            return "explicitDeny"
        return "allowed" if PermissionResult.PERMITTED in results else "implicitDeny"

    return decide


def test_real_preflight_names_the_action_the_caller_lacks_under_moto_iam_enforcement(
    deployer_without_create_cluster: dict[str, str],
) -> None:
    """moto enforces IAM on every call preflight makes, except two it cannot serve: SimulatePrincipalPolicy
    (moto has none: answered by moto's own policy evaluator over the user's real policies) and EKS
    ListClusters (moto 5.2's server mis-verifies the SigV4 signature of EKS's REST calls and answers 403
    SignatureDoesNotMatch to any key, so it is answered with the fresh server's empty list)."""
    session = _real_session(**deployer_without_create_cluster)
    _stub(session, "eks", "ListClusters", lambda _params: {"clusters": []})
    _stub(session, "iam", "SimulatePrincipalPolicy",
          _decisions(_moto_iam_decision(deployer_without_create_cluster["aws_access_key_id"])))

    report = _real_preflight(session)

    assert not report.passed
    assert [(check.name, check.detail, check.fix) for check in report.failures] == [
        ("permissions", "denied: eks:CreateCluster (implicitDeny)", "grant arn:aws:iam::123456789012:user/deployer these actions"),
    ]
    # Every read preflight makes passed moto's enforcement: no other check failed.
    assert {check.name for check in report.checks if check.status.value == "ok"} >= {"identity", "region", "instance types"}


def test_moto_enforcement_refuses_a_read_the_policy_does_not_allow(deployer_without_create_cluster: dict[str, str]) -> None:
    """The enforcement is really on: the deployer may not list S3 buckets, which its policy leaves out."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError, match="AccessDenied"):
        boto3.client("s3", **deployer_without_create_cluster).list_buckets()


# ----- the hook before a real deploy -----------------------------------------------------------------


OUTPUTS = {"bucket_name": "demo-staging-artifacts-1a2b3c4", "tracking_uri": "https://mlflow.demo-staging.example.com",
           "tracking_username": "admin", "tracking_password": "pw"}


@pytest.fixture()
def fake_pulumi(monkeypatch: pytest.MonkeyPatch, demo_recipe: Path) -> Any:
    """deploy-stack's real engine, on a fake Pulumi CLI that records its invocations."""
    from provisioner.engine.pulumi import PulumiEngine
    from tests.fakes.pulumi_cli import FakePulumiCommand

    fake = FakePulumiCommand(outputs=OUTPUTS, secret_outputs={"tracking_password"},
                             resources=[("aws:s3/bucket:Bucket", "demo-staging-artifacts")])
    monkeypatch.setattr("provisioner.cli.deploy.make_engine", lambda _simulate, backend: PulumiEngine(backend_url=backend, pulumi_command=fake))
    return fake


@pytest.fixture()
def no_aws_credentials(tmp_path: Path) -> None:
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update({
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": REGION,
    })


@pytest.mark.usefixtures("no_aws_credentials")
def test_a_real_deploy_runs_preflight_first_and_stops_before_pulumi_up(fake_pulumi: Any) -> None:
    result = deploy_cli("demo", "--env", "staging")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "error: preflight of demo-staging failed: AWS did not say who you are: Unable to locate credentials "
        "(fix: configure AWS credentials (aws configure, AWS_PROFILE, or aws sso login) for the target account); "
        "nothing was deployed (--no-preflight skips these checks)"
    )
    assert not any("up" in argv or "init" in argv for argv in fake_pulumi.argvs())


@pytest.mark.usefixtures("no_aws_credentials")
def test_no_preflight_skips_the_checks_before_a_real_deploy(fake_pulumi: Any) -> None:
    result = deploy_cli("demo", "--env", "staging", "--no-preflight", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert any(argv[1] == "up" for argv in fake_pulumi.argvs())


# ----- other recipes, and what --preflight does not go with --------------------------------------------


def test_demo_preflight_checks_the_identity_only(aws_endpoint: str, demo_recipe: Path) -> None:
    code, report, _ = _preflight_json("demo", "--env", "dev", "--simulate")

    assert code == 0
    assert _checks(report) == {"identity": ("ok", "arn:aws:sts::123456789012:user/moto (account 123456789012)")}


@pytest.fixture()
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "kind-ml",
        "clusters": [{"name": "kind-ml", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "kind-ml", "user": {"token": "t"}}],
        "contexts": [{"name": "kind-ml", "context": {"cluster": "kind-ml", "user": "kind-ml"}}],
    }))
    os.environ["KUBECONFIG"] = str(path)
    return path


@pytest.mark.parametrize(
    ("context", "code", "check"),
    [
        pytest.param("kind-ml", 0, ("ok", "kind-ml is in the kubeconfig"), id="known"),
        pytest.param("prod-eks", 1, ("fail", "kubeconfig has no context 'prod-eks' (contexts: kind-ml)"), id="unknown"),
    ],
)
def test_kubernetes_preflight_checks_that_the_context_exists(kubeconfig: Path, context: str, code: int, check: tuple[str, str]) -> None:
    exit_code, report, _ = _preflight_json("kubernetes", "--env", "dev", "--context", context, "--simulate")

    assert exit_code == code
    assert _checks(report) == {"kubeconfig context": check}


@pytest.mark.parametrize("flag", [pytest.param("--plan", id="plan"), pytest.param("--compare-envs", id="compare-envs"),
                                  pytest.param("--no-preflight", id="no-preflight")])
def test_preflight_with_a_flag_it_does_not_go_with_exits_2(flag: str, isolated_environ: Path) -> None:
    result = deploy_cli("aws", "--env", "staging", "--simulate", "--preflight", flag)

    assert result.exit_code == 2
    assert result.stderr == f"error: --preflight only runs the read-only checks: it does not go with {flag}\n"
    assert not isolated_environ.exists()


def test_preflight_of_a_recipe_with_no_cloud_and_no_context_is_an_input_error() -> None:
    from provisioner.config import DeployRequest
    from provisioner.recipe_api import RecipeArgs

    class Bare(Recipe):
        name = "bare"
        presets: ClassVar[dict[str, dict[str, Any]]] = {}

    request = DeployRequest(recipe="bare", env="dev", stack_name="bare-dev", region=None, backend=None, args={})
    with pytest.raises(InputError, match="preflight knows no checks for recipe 'bare': it deploys to no cloud and takes no --context"):
        run_preflight(Bare(), request, RecipeArgs(), simulated=True)


# ----- GCP ------------------------------------------------------------------------------------------------


def test_simulated_gcp_preflight_says_what_it_did_not_check() -> None:
    code, report, _ = _preflight_json("gcp", "--env", "staging", "--simulate")

    assert code == 0
    assert _checks(report) == {
        "project": ("ok", "provisioner-simulated (simulated)"),
        "APIs": ("skipped", NOT_SIMULATED),
        "quota: CPUs": ("skipped", NOT_SIMULATED),
    }


def _fake_gcp(enabled: list[str], cpus: tuple[int, int]) -> httpx.Client:
    """Service Usage (two pages) and Compute's region answer, as the REST APIs shape them."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "serviceusage.googleapis.com":
            assert request.url.path == "/v1/projects/ml-proj/services"
            assert request.url.params["filter"] == "state:ENABLED"
            half = len(enabled) // 2
            if request.url.params.get("pageToken") == "2":
                return httpx.Response(200, json={"services": [{"config": {"name": name}} for name in enabled[half:]]})
            return httpx.Response(200, json={"services": [{"config": {"name": name}} for name in enabled[:half]], "nextPageToken": "2"})
        assert request.url.path == "/compute/v1/projects/ml-proj/regions/europe-west1"
        limit, usage = cpus
        return httpx.Response(200, json={"quotas": [{"metric": "CPUS", "limit": float(limit), "usage": float(usage)}]})

    return httpx.Client(transport=httpx.MockTransport(handler))


def _gcp_preflight(http: httpx.Client) -> Any:
    recipe, request, args = resolve("gcp", "staging", config_file=None, sets=["project=ml-proj"], region=None, name=None, backend=None)
    return run_preflight(recipe, request, args, simulated=False, gcp_http=http)


def test_real_gcp_preflight_passes_with_every_api_and_enough_cpus() -> None:
    from recipes.gcp.defaults import REQUIRED_APIS

    report = _gcp_preflight(_fake_gcp(list(REQUIRED_APIS), (24, 0)))

    assert [(check.name, check.status.value, check.detail) for check in report.checks] == [
        ("project", "ok", "ml-proj"),
        ("APIs", "ok", f"{len(REQUIRED_APIS)} required API(s) enabled in ml-proj"),
        ("quota: CPUs", "ok", "CPUS in europe-west1: 0 of 24 used, 16 needed at the node pool's maximum"),
    ]


def test_real_gcp_preflight_names_a_disabled_api_and_a_short_cpu_quota() -> None:
    from recipes.gcp.defaults import REQUIRED_APIS

    enabled = [api for api in REQUIRED_APIS if api != "sqladmin.googleapis.com"]

    report = _gcp_preflight(_fake_gcp(enabled, (24, 12)))

    assert [(check.name, check.detail, check.fix) for check in report.failures] == [
        ("APIs", "not enabled in ml-proj: sqladmin.googleapis.com", "gcloud services enable sqladmin.googleapis.com --project ml-proj"),
        ("quota: CPUs", "CPUS in europe-west1: 12 of 24 used, 16 needed at the node pool's maximum",
         "lower cluster.nodes.max, or ask for more CPUS quota in europe-west1"),
    ]


def test_failure_line_names_each_failed_check_and_its_fix() -> None:
    from provisioner.preflight.models import Check, PreflightReport
    from provisioner.preflight.run import failure_line

    report = PreflightReport(stack="s", recipe="aws", env="dev", region=REGION, simulated=False,
                             checks=[Check.ok("identity", "me"), Check.fail("quota: VPCs", "VPCs: 5 of 5 used, 1 needed", "free 1")])

    assert failure_line(report) == "preflight of s failed: VPCs: 5 of 5 used, 1 needed (fix: free 1)"



def test_a_redeploy_needs_no_quota_for_what_the_stack_already_has(aws_endpoint: str) -> None:
    deployed = deploy_cli("aws", "--env", "staging", "--simulate", "--set", SUPPORTED, "--output", "json")
    assert deployed.exit_code == 0, deployed.stderr

    code, report, _ = _preflight_json("aws", "--env", "staging", "--simulate", "--set", SUPPORTED)

    assert code == 0
    quotas = {name: detail for name, (_status, detail) in _checks(report).items() if name.startswith("quota: ")}
    assert quotas == {
        "quota: VPCs": "VPCs: 2 of 5 used, 0 needed (limit: Service Quotas)",
        "quota: Elastic IPs": "Elastic IPs: 1 of 5 used, 0 needed (limit: AWS default, recorded 2026-12-01)",
        "quota: NAT gateways per AZ": "NAT gateways per AZ: 1 of 5 used, 0 needed in eu-west-1a (limit: Service Quotas)",
        "quota: EKS clusters": "EKS clusters: 1 of 100 used, 0 needed (limit: AWS default, recorded 2026-12-01)",
        "quota: RDS DB instances": "RDS DB instances: 1 of 40 used, 0 needed (limit: AWS default, recorded 2026-12-01)",
    }


def test_preflight_without_simulate_asks_the_account_boto3_is_configured_for(aws_endpoint: str, demo_recipe: Path) -> None:
    """Here that account is the moto server (AWS_ENDPOINT_URL): no emulation is set up, no banner printed."""
    code, report, stderr = _preflight_json("demo", "--env", "dev")

    assert (code, report["simulated"], stderr) == (0, False, "")
    assert _checks(report) == {"identity": ("ok", "arn:aws:sts::123456789012:user/moto (account 123456789012)")}


def test_real_gcp_preflight_without_google_auth_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.auth.exceptions", None)

    with pytest.raises(InputError, match=r"^GCP preflight needs google-auth: pip install 'provisioner\[gcp\]' \(or skip it with --no-preflight\)$"):
        _gcp_preflight(None)  # type: ignore[arg-type]
