"""AWS connectors against a moto server: verify, list-resources and scoped credentials, through the CLI.

What moto 5.2.5 (server mode) enforces, found by reading moto/core/authorization.py and
moto/iam/access_control.py and by trying it:

* IAM is checked only after ``POST /moto-api/reset-auth`` with the number of requests to let
  through unchecked (``0`` = check everything from now on; ``inf`` = never). The server's
  ``/moto-api/config`` endpoint has no IAM switch, and the ``INITIAL_NO_AUTH_ACTION_COUNT`` env
  var is read once, when moto is imported, so it cannot be changed for a running server.
* When checked: access keys and signatures (unknown key -> InvalidClientTokenId), identity
  policies of IAM users and of assumed roles (inline and attached, Allow and Deny with resource
  ARNs for S3), role trust policies on AssumeRole including a wrong ``sts:ExternalId`` (a missing
  one passes: moto skips conditions on keys the request does not carry).
* Not checked: AssumeRole *session policies* (stored on the session, never evaluated), so the
  narrowing of scoped credentials is asserted on the exact policy moto received instead.
* Quirks: moto authorizes HeadBucket as the made-up action ``s3:HeadBucket`` (AWS uses
  ``s3:ListBucket``), so test roles allow both; non-S3 services are authorized against resource
  ``*`` only; EKS requests fail signature checks (SignatureDoesNotMatch) while IAM is enforced,
  so EKS is exercised with IAM off.
"""

from __future__ import annotations

import json
import shlex
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from provisioner.connectors.aws import session_policy
from provisioner.registry.models import ResourceType
from tests.helpers import cli, cli_json

REGION = "eu-west-1"
ACCOUNT = "123456789012"
TEAM_BUCKET = "team-artifacts"
OTHER_BUCKET = "other-team-data"
REPOSITORY = "team/images"
EXTERNAL_ID = "ext-7f3a"
MASK = "********"


# ----- moto plumbing -----------------------------------------------------------------------------


def _reset_auth(endpoint: str, unchecked_requests: str) -> None:
    """moto server: check IAM after ``unchecked_requests`` more requests ("0": from now on, "inf": never)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=unchecked_requests.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},  # a form content type would hide the body from moto
    )
    urllib.request.urlopen(request, timeout=10).read()


@pytest.fixture()
def enforce_iam(aws_world: dict[str, str]) -> Iterator[None]:
    """IAM checked on every request during the test (after aws_world is set up); off again afterwards."""
    _reset_auth(aws_world["endpoint"], "0")
    try:
        yield
    finally:
        _reset_auth(aws_world["endpoint"], "inf")


def _moto_session(endpoint: str, access_key_id: str) -> dict[str, Any]:
    """What moto holds for the assumed-role session that issued ``access_key_id`` (policy, secret key...)."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    for session in data["sts"]["AssumedRole"]:
        if session["access_key_id"] == access_key_id:
            return dict(session)
    raise AssertionError(f"moto has no assumed-role session for {access_key_id}")


def _recorded_session_policy(endpoint: str, access_key_id: str) -> dict[str, Any]:
    """The session policy moto received with the AssumeRole that issued ``access_key_id``."""
    return dict(json.loads(_moto_session(endpoint, access_key_id)["policy"]))


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _s3_allow(*buckets: str) -> list[dict[str, Any]]:
    arns = [arn for bucket in buckets for arn in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")]
    return [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "*"},
        # s3:HeadBucket: moto's name for HeadBucket (AWS checks s3:ListBucket for it).
        {"Effect": "Allow", "Action": ["s3:HeadBucket", "s3:ListBucket", "s3:GetObject", "s3:PutObject"], "Resource": arns},
    ]


@pytest.fixture()
def aws_world(aws_endpoint: str) -> dict[str, str]:
    """Two buckets, a repository, a deployer user (the ambient credentials) and three roles it may assume.

    team-role: S3 on the team bucket only. denied-role: S3 everywhere but an explicit Deny on the team
    bucket. broad-role: S3 on both buckets. The trust policies require the external id.
    """
    s3 = boto3.client("s3")
    for bucket in (TEAM_BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello")
    boto3.client("ecr").create_repository(repositoryName=REPOSITORY)

    iam = boto3.client("iam")
    user_arn = iam.create_user(UserName="deployer")["User"]["Arn"]
    iam.put_user_policy(
        UserName="deployer",
        PolicyName="assume",
        PolicyDocument=_doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
    )
    key = iam.create_access_key(UserName="deployer")["AccessKey"]
    trust = _doc({
        "Effect": "Allow",
        "Principal": {"AWS": user_arn},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
    })
    roles = {
        "team-role": _s3_allow(TEAM_BUCKET),
        "denied-role": [
            *_s3_allow(TEAM_BUCKET, OTHER_BUCKET),
            {"Effect": "Deny", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{TEAM_BUCKET}", f"arn:aws:s3:::{TEAM_BUCKET}/*"]},
        ],
        "broad-role": _s3_allow(TEAM_BUCKET, OTHER_BUCKET),
    }
    arns: dict[str, str] = {}
    for role, statements in roles.items():
        arns[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        iam.put_role_policy(RoleName=role, PolicyName="access", PolicyDocument=_doc(*statements))
    # From here on, boto3's default chain (what iam-role connectors assume the role with) is the deployer.
    import os

    os.environ["AWS_ACCESS_KEY_ID"] = key["AccessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = key["SecretAccessKey"]
    return {**arns, "endpoint": aws_endpoint}


def _register_role(name: str, role_arn: str, *resource_types: str, external_id: str = EXTERNAL_ID) -> None:
    args = ["connector", "register", name, "-t", "aws", "-a", "iam-role", "-c", f"region={REGION}",
            "-c", f"role_arn={role_arn}", "--value-in-args", "-c", f"external_id={external_id}"]
    for resource_type in resource_types:
        args += ["-r", resource_type]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr


def _verify(*args: str) -> tuple[int, dict[str, Any], str]:
    result = cli("connector", "verify", *args, "--output", "json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def _exports(stdout: str) -> dict[str, str]:
    pairs = [shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in stdout.splitlines() if line.startswith("export ")]
    return {key: value for key, value in pairs}


def _session(env: dict[str, str]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=env["AWS_REGION"],
    )


# ----- verify and list-resources, IAM enforced ---------------------------------------------------


def test_verify_passes_for_a_role_that_reaches_the_bucket(aws_world: dict[str, str], enforce_iam: None) -> None:
    _register_role("team-s3", aws_world["team-role"], "s3-bucket")

    code, report, stderr = _verify("team-s3", "--resource-id", TEAM_BUCKET)

    assert code == 0, stderr
    assert report["ok"] is True
    assert report["identity"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/team-role/provisioner-team-s3"
    assert [(c["resource_type"], c["resource_id"], c["reachable"]) for c in report["checks"]] == [
        ("s3-bucket", TEAM_BUCKET, True)
    ]


def test_verify_fails_naming_the_bucket_a_role_is_denied(aws_world: dict[str, str], enforce_iam: None) -> None:
    _register_role("denied-s3", aws_world["denied-role"], "s3-bucket")

    result = cli("connector", "verify", "denied-s3", "--resource-id", f"s3://{TEAM_BUCKET}/some/prefix")

    assert result.exit_code == 1
    assert TEAM_BUCKET in result.stdout  # the report is printed first
    assert "NO" in result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error_lines == [f"error: connector 'denied-s3' cannot reach s3-bucket {TEAM_BUCKET}"]

    _code, report, _stderr = _verify("denied-s3", "--resource-id", TEAM_BUCKET)
    [check] = report["checks"]
    assert report["ok"] is False and check["reachable"] is False
    assert check["message"] == f"cannot read bucket {TEAM_BUCKET}: AccessDenied (HTTP 403)"


def test_verify_without_resource_id_checks_every_listed_bucket_and_list_resources_keeps_the_reachable(
    aws_world: dict[str, str], enforce_iam: None
) -> None:
    _register_role("team-s3", aws_world["team-role"], "s3-bucket")

    code, report, stderr = _verify("team-s3")

    assert code == 1
    by_bucket = {c["resource_id"]: c for c in report["checks"]}
    assert by_bucket[TEAM_BUCKET]["reachable"] is True
    assert by_bucket[OTHER_BUCKET]["reachable"] is False
    assert by_bucket[OTHER_BUCKET]["message"] == f"cannot read bucket {OTHER_BUCKET}: AccessDenied (HTTP 403)"
    assert f"cannot reach s3-bucket {OTHER_BUCKET}" in stderr

    listed = cli_json("connector", "list-resources", "team-s3")
    assert listed["resources"] == {"s3-bucket": [TEAM_BUCKET]}
    assert listed["errors"] == []


def test_verify_fails_when_the_external_id_is_wrong(aws_world: dict[str, str], enforce_iam: None) -> None:
    _register_role("wrong-ext", aws_world["team-role"], "s3-bucket", external_id="not-the-one")

    code, report, stderr = _verify("wrong-ext")

    assert code == 1
    assert report["identity"] is None
    [check] = report["checks"]
    assert check["resource_type"] == "aws-generic" and check["resource_id"] == aws_world["team-role"]
    assert check["message"].startswith(f"cannot assume role {aws_world['team-role']}: AccessDenied")
    assert "error: connector 'wrong-ext' cannot reach aws-generic" in stderr

    listed = cli("connector", "list-resources", "wrong-ext")
    assert listed.exit_code == 1
    assert f"cannot assume role {aws_world['team-role']}" in listed.stderr


def test_secret_key_connector_with_invalid_keys_fails_verify(aws_world: dict[str, str], enforce_iam: None) -> None:
    result = cli("connector", "register", "bad-keys", "-t", "aws", "-a", "secret-key", "-c", f"region={REGION}",
                 "--value-in-args", "-c", "aws_access_key_id=AKIAFAKEFAKEFAKEFAKE", "-c", "aws_secret_access_key=not-a-secret")
    assert result.exit_code == 0, result.stderr

    code, report, stderr = _verify("bad-keys")

    assert code == 1
    assert report["ok"] is False and report["identity"] is None
    [check] = report["checks"]
    assert check["reachable"] is False
    assert check["message"].startswith("cannot authenticate to AWS (secret-key): InvalidClientTokenId")
    assert "error: connector 'bad-keys' cannot reach aws-generic" in stderr


# ----- scoped credentials ------------------------------------------------------------------------


def test_scoped_credentials_read_the_components_bucket_and_not_another(aws_world: dict[str, str], enforce_iam: None) -> None:
    """The credentials are the role's: they read the component's bucket and are refused another one.

    The refusal here comes from the role's policy, which moto evaluates; the session policy that
    narrows them further is not evaluated by moto and is checked in the next test.
    """
    _register_role("team-s3", aws_world["team-role"], "s3-bucket")
    assert cli("component", "register", "artifacts", "-t", "artifact_store", "-f", "s3",
               "-c", f"path=s3://{TEAM_BUCKET}/runs", "--connector", "team-s3").exit_code == 0
    path = cli_json("component", "describe", "artifacts")["config"]["path"]

    result = cli("connector", "credentials", "team-s3", "--resource-id", path, "--show-secrets")

    assert result.exit_code == 0, result.stderr
    env = _exports(result.stdout)
    assert set(env) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"}
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_REGION"] == REGION
    s3 = _session(env).client("s3")
    assert s3.get_object(Bucket=TEAM_BUCKET, Key="hello.txt")["Body"].read() == b"hello"
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket=OTHER_BUCKET, Key="hello.txt")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"


def test_scoped_credentials_carry_a_session_policy_for_that_bucket_only(aws_world: dict[str, str], enforce_iam: None) -> None:
    """broad-role may read both buckets; the credentials are narrowed to one by their session policy.

    moto 5.2.5 stores AssumeRole's ``Policy`` but never evaluates it (AssumedRoleAccessKey.collect_policies
    reads the role's policies only), so instead of a refused read this asserts the exact policy moto
    received: the bucket's two ARNs, named actions only.
    """
    _register_role("broad-s3", aws_world["broad-role"], "s3-bucket", "docker-registry")

    issued = cli_json("connector", "credentials", "broad-s3", "--resource-id", TEAM_BUCKET,
                      "--resource-type", "s3-bucket", "--show-secrets")

    sent = _recorded_session_policy(aws_world["endpoint"], issued["env"]["AWS_ACCESS_KEY_ID"])
    assert sent == issued["session_policy"]
    assert sent == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Bucket", "Effect": "Allow", "Resource": f"arn:aws:s3:::{TEAM_BUCKET}",
             "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]},
            {"Sid": "Objects", "Effect": "Allow", "Resource": f"arn:aws:s3:::{TEAM_BUCKET}/*",
             "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                        "s3:ListMultipartUploadParts"]},
        ],
    }
    for statement in sent["Statement"]:
        assert statement["Effect"] == "Allow"
        assert all("*" not in action for action in statement["Action"])
    # The issued credentials are real ones of the role.
    assert _session(issued["env"]).client("s3").head_bucket(Bucket=TEAM_BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_credentials_are_masked_unless_show_secrets(aws_world: dict[str, str]) -> None:
    _register_role("team-s3", aws_world["team-role"], "s3-bucket")

    table = cli("connector", "credentials", "team-s3", "--resource-id", TEAM_BUCKET)
    masked_json = cli_json("connector", "credentials", "team-s3", "--resource-id", TEAM_BUCKET)
    shown_json = cli_json("connector", "credentials", "team-s3", "--resource-id", TEAM_BUCKET, "--show-secrets")

    assert table.exit_code == 0, table.stderr
    env = _exports(table.stdout)
    assert env["AWS_SECRET_ACCESS_KEY"] == MASK and env["AWS_SESSION_TOKEN"] == MASK
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_REGION"] == REGION
    assert "--show-secrets" in table.stderr
    assert masked_json["env"]["AWS_SECRET_ACCESS_KEY"] == MASK and masked_json["env"]["AWS_SESSION_TOKEN"] == MASK
    assert masked_json["resource_type"] == "s3-bucket" and masked_json["resource_id"] == TEAM_BUCKET
    assert masked_json["expires_at"] is not None
    assert MASK not in shown_json["env"].values()
    real = _moto_session(aws_world["endpoint"], shown_json["env"]["AWS_ACCESS_KEY_ID"])
    assert shown_json["env"]["AWS_SECRET_ACCESS_KEY"] == real["secret_access_key"]
    assert shown_json["env"]["AWS_SESSION_TOKEN"] == real["session_token"]
    for printed, access_key_id in ((table.stdout + table.stderr, env["AWS_ACCESS_KEY_ID"]),
                                   (json.dumps(masked_json), masked_json["env"]["AWS_ACCESS_KEY_ID"])):
        hidden = _moto_session(aws_world["endpoint"], access_key_id)
        assert hidden["secret_access_key"] not in printed and hidden["session_token"] not in printed


def test_ecr_and_eks_credentials_are_scoped_to_their_arns(aws_world: dict[str, str]) -> None:
    _register_role("broad", aws_world["broad-role"])  # every AWS resource type

    ecr = cli_json("connector", "credentials", "broad", "--resource-id",
                   f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}:latest")
    eks = cli_json("connector", "credentials", "broad", "--resource-id",
                   f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml")

    assert ecr["resource_type"] == "docker-registry" and ecr["resource_id"] == REPOSITORY
    login, pull_push = ecr["session_policy"]["Statement"]
    assert login["Action"] == ["ecr:GetAuthorizationToken"] and login["Resource"] == "*"
    assert pull_push["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{REPOSITORY}"
    assert {"ecr:BatchGetImage", "ecr:PutImage"} <= set(pull_push["Action"])
    assert eks["resource_type"] == "kubernetes-cluster" and eks["resource_id"] == "ml"
    assert eks["session_policy"]["Statement"] == [
        {"Sid": "Cluster", "Effect": "Allow", "Action": ["eks:DescribeCluster"],
         "Resource": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/ml"}
    ]
    for issued in (ecr, eks):
        sent = _recorded_session_policy(aws_world["endpoint"], issued["env"]["AWS_ACCESS_KEY_ID"])
        assert sent == issued["session_policy"]
        assert all("*" not in action for statement in sent["Statement"] for action in statement["Action"])


@pytest.mark.parametrize("resource_type", [ResourceType.S3_BUCKET, ResourceType.DOCKER_REGISTRY, ResourceType.KUBERNETES_CLUSTER])
def test_session_policies_name_no_wildcard_action_and_only_that_resource(resource_type: ResourceType) -> None:
    policy = session_policy(resource_type, "thing", partition="aws-cn", region="cn-north-1", account="111122223333")

    for statement in policy["Statement"]:
        assert all("*" not in action for action in statement["Action"])
        if statement["Action"] != ["ecr:GetAuthorizationToken"]:  # no resource-level permissions in AWS
            assert statement["Resource"].startswith("arn:aws-cn:")
            assert "thing" in statement["Resource"]


# ----- refusals ----------------------------------------------------------------------------------


def test_credentials_are_refused_for_a_non_iam_role_connector(aws_world: dict[str, str]) -> None:
    assert cli("connector", "register", "keys", "-t", "aws", "-a", "secret-key", "-c", f"region={REGION}",
               "--value-in-args", "-c", "aws_access_key_id=AKIAEXAMPLE", "-c", "aws_secret_access_key=secret").exit_code == 0

    result = cli("connector", "credentials", "keys", "--resource-id", TEAM_BUCKET)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "only iam-role connectors issue scoped credentials" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--resource-id", "anything", "--resource-type", "aws-generic"), "a resource is needed", id="aws-generic"),
        pytest.param(("--resource-id", TEAM_BUCKET), "could be any of s3-bucket, kubernetes-cluster, docker-registry: give --resource-type", id="ambiguous"),
        pytest.param(("--resource-id", "gs://bucket"), "gcs-bucket, which connector 'broad' does not offer", id="wrong-cloud"),
        pytest.param(("--resource-id", "x", "--resource-type", "blob"), "unknown resource type 'blob'", id="unknown-type"),
    ],
)
def test_credentials_input_errors_exit_2(aws_world: dict[str, str], args: tuple[str, ...], message: str) -> None:
    _register_role("broad", aws_world["broad-role"])

    result = cli("connector", "credentials", "broad", *args)

    assert result.exit_code == 2
    assert message in result.stderr


# ----- every resource type, IAM not enforced (moto's EKS fails signature checks when it is) -------


def test_implicit_connector_verifies_and_lists_buckets_clusters_and_repositories(aws_world: dict[str, str]) -> None:
    eks = boto3.client("eks")
    eks.create_cluster(name="ml", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks",
                       resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    assert cli("connector", "register", "ambient", "-t", "aws", "-a", "implicit", "-c", f"region={REGION}").exit_code == 0

    code, report, stderr = _verify("ambient")
    listed = cli_json("connector", "list-resources", "ambient")
    code_missing, missing, _ = _verify("ambient", "--resource-id", "ghost", "--resource-type", "kubernetes-cluster")

    assert code == 0, stderr
    assert report["identity"] == f"arn:aws:iam::{ACCOUNT}:user/deployer"
    assert {(c["resource_type"], c["resource_id"]) for c in report["checks"]} == {
        ("aws-generic", REGION),
        ("s3-bucket", TEAM_BUCKET),
        ("s3-bucket", OTHER_BUCKET),
        ("kubernetes-cluster", "ml"),
        ("docker-registry", REPOSITORY),
    }
    assert listed["resources"] == {
        "aws-generic": [REGION],
        "s3-bucket": sorted([TEAM_BUCKET, OTHER_BUCKET]),
        "kubernetes-cluster": ["ml"],
        "docker-registry": [REPOSITORY],
    }
    assert code_missing == 1
    assert missing["checks"][0]["message"].startswith("cannot describe EKS cluster ghost: ResourceNotFoundException")
