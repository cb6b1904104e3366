"""AWS connectors: authenticate, check what they reach, and issue credentials scoped to one resource.

boto3 is imported inside functions only. Every client gets short timeouts and at most two attempts,
so a wrong endpoint or a black-holed network fails in seconds, not minutes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from provisioner.connectors.base import ConnectorTypeSpec
from provisioner.connectors.models import ReachableResources, ResourceCheck, ScopedCredentials, VerifyReport
from provisioner.errors import InputError, OperationFailedError
from provisioner.registry.flavors.base import FlavorConfig, secret_field
from provisioner.registry.models import Connector, ResourceType

if TYPE_CHECKING:
    import boto3

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
MIN_DURATION_S = 900
MAX_DURATION_S = 43200

_ECR_URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repo>[^:@]+)")
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$")

# Actions a scoped credential may use, per resource type. No wildcard actions.
S3_BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
S3_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
ECR_REPOSITORY_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
EKS_CLUSTER_ACTIONS = ("eks:DescribeCluster",)

GENERIC_REFUSAL = (
    "aws-generic credentials cannot be scoped: a resource is needed; give --resource-type "
    "s3-bucket, docker-registry or kubernetes-cluster and its --resource-id"
)

_CHECKED_TYPES = (ResourceType.S3_BUCKET, ResourceType.KUBERNETES_CLUSTER, ResourceType.DOCKER_REGISTRY)


# ----- configuration, per auth method ------------------------------------------------------------


class _AwsBase(FlavorConfig):
    region: str = Field(description="AWS region, for example eu-west-1.")


class AwsIamRoleConfig(_AwsBase):
    role_arn: str = Field(description="Role the connector assumes.")
    external_id: str = secret_field("External id the role's trust policy requires.", default="")


class AwsSecretKeyConfig(_AwsBase):
    aws_access_key_id: str = secret_field("Access key id.")
    aws_secret_access_key: str = secret_field("Secret access key.")


class AwsSessionTokenConfig(AwsSecretKeyConfig):
    aws_session_token: str = secret_field("Session token of temporary credentials.")


class AwsImplicitConfig(_AwsBase):
    profile: str = Field("", description="Named profile; empty means the default credential chain.")


# ----- sessions ----------------------------------------------------------------------------------


def _client_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": 2, "mode": "standard"},
    )


def _session_name(connector: Connector) -> str:
    return f"provisioner-{connector.name}"[:64]


def _assume_role(
    connector: Connector, config: Mapping[str, Any], *, duration_s: int = MIN_DURATION_S, policy: dict[str, Any] | None = None
) -> dict[str, Any]:
    """AssumeRole of the connector's role with the ambient (default chain) credentials; the STS Credentials."""
    import boto3

    ambient = boto3.Session(region_name=config["region"])
    params: dict[str, Any] = {
        "RoleArn": config["role_arn"],
        "RoleSessionName": _session_name(connector),
        "DurationSeconds": duration_s,
    }
    if config.get("external_id"):
        params["ExternalId"] = config["external_id"]
    if policy is not None:
        params["Policy"] = json.dumps(policy)
    credentials: dict[str, Any] = ambient.client("sts", config=_client_config()).assume_role(**params)["Credentials"]
    return credentials


def _session_from_credentials(credentials: Mapping[str, Any], region: str) -> boto3.Session:
    import boto3

    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def session_for(connector: Connector, config: Mapping[str, Any]) -> boto3.Session:
    """A boto3 session with the connector's identity, from its resolved configuration.

    iam-role assumes the role with the ambient credentials (the default chain), passing the
    external id if one is set; secret-key and session-token use the stored keys; implicit uses
    the named profile, or the default chain when none is set.
    """
    import boto3

    region = config["region"]
    method = connector.auth_method
    if method == "iam-role":
        return _session_from_credentials(_assume_role(connector, config), region)
    if method == "secret-key":
        return boto3.Session(
            aws_access_key_id=config["aws_access_key_id"],
            aws_secret_access_key=config["aws_secret_access_key"],
            region_name=region,
        )
    if method == "session-token":
        return boto3.Session(
            aws_access_key_id=config["aws_access_key_id"],
            aws_secret_access_key=config["aws_secret_access_key"],
            aws_session_token=config["aws_session_token"],
            region_name=region,
        )
    if method == "implicit":
        return boto3.Session(profile_name=config.get("profile") or None, region_name=region)
    raise InputError(f"connector {connector.name!r}: unknown AWS auth method {method!r}")


def _authenticate(connector: Connector, config: Mapping[str, Any]) -> tuple[boto3.Session, str]:
    """The connector's session and the ARN it authenticates as; raises OperationFailedError naming what failed."""
    try:
        session = session_for(connector, config)
    except InputError:
        raise
    except Exception as exc:
        if connector.auth_method == "iam-role":
            raise OperationFailedError(f"cannot assume role {config['role_arn']}: {describe_error(exc)}") from None
        raise OperationFailedError(f"cannot set up AWS credentials: {describe_error(exc)}") from None
    try:
        identity = session.client("sts", config=_client_config()).get_caller_identity()
    except Exception as exc:
        raise OperationFailedError(f"cannot authenticate to AWS ({connector.auth_method}): {describe_error(exc)}") from None
    return session, str(identity["Arn"])


# ----- errors ------------------------------------------------------------------------------------

_STATUS_CODES = {"400": "BadRequest", "401": "Unauthorized", "403": "AccessDenied", "404": "NotFound"}


def describe_error(exc: BaseException) -> str:
    """An AWS error in one line: the error code and message, or the exception's text."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _STATUS_CODES:  # HEAD requests carry no body: only the status is known
            return f"{_STATUS_CODES[code]} (HTTP {code})"
        message = " ".join(str(error.get("Message") or "").split())
        text = f"{code}: {message}" if message else code or f"HTTP {status}"
        return text if len(text) <= 300 else text[:297] + "..."
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text if len(text) <= 300 else text[:297] + "..."
    return text + _emulator_hint(exc)


def _emulator_hint(exc: BaseException) -> str:
    """What to set when an emulator (AWS_ENDPOINT_URL) is asked without credentials: it takes any fake ones."""
    import os

    from botocore.exceptions import NoCredentialsError

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint or not isinstance(exc, NoCredentialsError):
        return ""
    return (f" (AWS_ENDPOINT_URL points at an emulator, {endpoint}, which takes any credentials: "
            "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing; provisioner simulate serve prints these lines)")


# ----- resource ids ------------------------------------------------------------------------------


def normalize_resource_id(resource_type: ResourceType, resource_id: str) -> str:
    """The plain name of a resource given as a name, an ARN, an s3:// URL or an ECR image URI."""
    value = resource_id.strip()
    if resource_type is ResourceType.S3_BUCKET:
        if value.startswith("s3://"):
            value = value[len("s3://"):]
        elif value.startswith("arn:") and ":s3:::" in value:
            value = value.split(":s3:::", 1)[1]
        value = value.split("/", 1)[0]
    elif resource_type is ResourceType.DOCKER_REGISTRY:
        if match := _ECR_URI.match(value):
            value = match.group("repo")
        elif (arn := _ARN.match(value)) and arn.group("service") == "ecr":
            value = arn.group("resource").removeprefix("repository/")
    elif resource_type is ResourceType.KUBERNETES_CLUSTER:
        if (arn := _ARN.match(value)) and arn.group("service") == "eks":
            value = arn.group("resource").removeprefix("cluster/")
    if not value:
        raise InputError(f"empty {resource_type.value} id in {resource_id!r}")
    return value


# ----- checks ------------------------------------------------------------------------------------


def _require_offered(connector: Connector, resource_type: ResourceType) -> None:
    if resource_type not in connector.resource_types:
        offered = ", ".join(t.value for t in connector.resource_types)
        raise InputError(f"connector {connector.name!r} does not offer {resource_type.value!r} (it offers: {offered})")


def _generic_check(config: Mapping[str, Any], identity: str) -> ResourceCheck:
    return ResourceCheck(
        resource_type=ResourceType.AWS_GENERIC,
        resource_id=str(config["region"]),
        reachable=True,
        message=f"authenticated as {identity}",
    )


def _check_bucket(session: boto3.Session, bucket: str) -> ResourceCheck:
    s3 = session.client("s3", config=_client_config())
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        return _failed(ResourceType.S3_BUCKET, bucket, f"cannot read bucket {bucket}: {describe_error(exc)}")
    try:
        s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except Exception as exc:
        return _failed(ResourceType.S3_BUCKET, bucket, f"cannot list objects in bucket {bucket}: {describe_error(exc)}")
    return ResourceCheck(
        resource_type=ResourceType.S3_BUCKET, resource_id=bucket, reachable=True, message=f"can read and list bucket {bucket}"
    )


def _check_cluster(session: boto3.Session, name: str) -> ResourceCheck:
    try:
        cluster = session.client("eks", config=_client_config()).describe_cluster(name=name)["cluster"]
    except Exception as exc:
        return _failed(ResourceType.KUBERNETES_CLUSTER, name, f"cannot describe EKS cluster {name}: {describe_error(exc)}")
    status = cluster.get("status", "unknown status")
    return ResourceCheck(
        resource_type=ResourceType.KUBERNETES_CLUSTER,
        resource_id=name,
        reachable=True,
        message=f"EKS cluster {name} is {status}",
    )


def _check_repository(session: boto3.Session, name: str) -> ResourceCheck:
    try:
        repositories = session.client("ecr", config=_client_config()).describe_repositories(repositoryNames=[name])
    except Exception as exc:
        return _failed(ResourceType.DOCKER_REGISTRY, name, f"cannot describe ECR repository {name}: {describe_error(exc)}")
    uri = repositories["repositories"][0].get("repositoryUri", name)
    return ResourceCheck(
        resource_type=ResourceType.DOCKER_REGISTRY, resource_id=name, reachable=True, message=f"can describe ECR repository {uri}"
    )


_CHECKERS: dict[ResourceType, Callable[[Any, str], ResourceCheck]] = {
    ResourceType.S3_BUCKET: _check_bucket,
    ResourceType.KUBERNETES_CLUSTER: _check_cluster,
    ResourceType.DOCKER_REGISTRY: _check_repository,
}
_LISTED_WHAT = {
    ResourceType.S3_BUCKET: "buckets",
    ResourceType.KUBERNETES_CLUSTER: "EKS clusters",
    ResourceType.DOCKER_REGISTRY: "ECR repositories",
}


def _failed(resource_type: ResourceType, resource_id: str, message: str) -> ResourceCheck:
    return ResourceCheck(resource_type=resource_type, resource_id=resource_id, reachable=False, message=message)


def _check_all(session: boto3.Session, resource_type: ResourceType) -> list[ResourceCheck]:
    """A check for every resource of the type the session can list (one failed check if it cannot list)."""
    what = _LISTED_WHAT[resource_type]
    try:
        names = list(_list_names(session, resource_type))
    except Exception as exc:
        return [_failed(resource_type, "*", f"cannot list {what}: {describe_error(exc)}")]
    if not names:
        return [ResourceCheck(resource_type=resource_type, resource_id="*", reachable=True, message=f"can list {what}; none found")]
    if resource_type is ResourceType.DOCKER_REGISTRY:  # DescribeRepositories already read each one
        return [
            ResourceCheck(resource_type=resource_type, resource_id=name, reachable=True, message=f"can describe ECR repository {name}")
            for name in names
        ]
    return [_CHECKERS[resource_type](session, name) for name in names]


def _list_names(session: boto3.Session, resource_type: ResourceType) -> Iterator[str]:
    if resource_type is ResourceType.S3_BUCKET:
        for bucket in session.client("s3", config=_client_config()).list_buckets().get("Buckets", []):
            yield bucket["Name"]
    elif resource_type is ResourceType.KUBERNETES_CLUSTER:
        paginator = session.client("eks", config=_client_config()).get_paginator("list_clusters")
        for page in paginator.paginate():
            yield from page.get("clusters", [])
    elif resource_type is ResourceType.DOCKER_REGISTRY:
        paginator = session.client("ecr", config=_client_config()).get_paginator("describe_repositories")
        for page in paginator.paginate():
            for repository in page.get("repositories", []):
                yield repository["repositoryName"]


# ----- scoped credentials ------------------------------------------------------------------------


def session_policy(
    resource_type: ResourceType, resource_id: str, *, partition: str, region: str, account: str
) -> dict[str, Any]:
    """An IAM session policy that allows only the actions needed on one resource; no wildcard actions.

    ``ecr:GetAuthorizationToken`` has no resource-level permissions in AWS, so it is allowed on ``*``.
    """
    if resource_type is ResourceType.S3_BUCKET:
        bucket_arn = f"arn:{partition}:s3:::{resource_id}"
        statements = [
            {"Sid": "Bucket", "Effect": "Allow", "Action": list(S3_BUCKET_ACTIONS), "Resource": bucket_arn},
            {"Sid": "Objects", "Effect": "Allow", "Action": list(S3_OBJECT_ACTIONS), "Resource": f"{bucket_arn}/*"},
        ]
    elif resource_type is ResourceType.DOCKER_REGISTRY:
        repository_arn = f"arn:{partition}:ecr:{region}:{account}:repository/{resource_id}"
        statements = [
            {"Sid": "Login", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
            {"Sid": "PullPush", "Effect": "Allow", "Action": list(ECR_REPOSITORY_ACTIONS), "Resource": repository_arn},
        ]
    elif resource_type is ResourceType.KUBERNETES_CLUSTER:
        cluster_arn = f"arn:{partition}:eks:{region}:{account}:cluster/{resource_id}"
        statements = [{"Sid": "Cluster", "Effect": "Allow", "Action": list(EKS_CLUSTER_ACTIONS), "Resource": cluster_arn}]
    elif resource_type is ResourceType.AWS_GENERIC:
        raise InputError(GENERIC_REFUSAL)
    else:
        raise InputError(f"AWS connectors do not issue credentials for {resource_type.value!r}")
    return {"Version": "2012-10-17", "Statement": statements}


def require_iam_role(connector: Connector) -> None:
    """Raise InputError unless the connector assumes a role: only those can scope credentials down."""
    if connector.auth_method != "iam-role":
        raise InputError(
            f"connector {connector.name!r} uses {connector.auth_method!r}: only iam-role connectors issue "
            "scoped credentials (they assume the role with a session policy limited to the resource)"
        )


# ----- the connector type ------------------------------------------------------------------------


class AwsConnectorType(ConnectorTypeSpec):
    """AWS: assume an IAM role, use access keys or a session token, or the default credential chain."""

    name = "aws"
    auth_methods = {
        "iam-role": AwsIamRoleConfig,
        "secret-key": AwsSecretKeyConfig,
        "session-token": AwsSessionTokenConfig,
        "implicit": AwsImplicitConfig,
    }
    resource_types = (
        ResourceType.AWS_GENERIC,
        ResourceType.S3_BUCKET,
        ResourceType.KUBERNETES_CLUSTER,
        ResourceType.DOCKER_REGISTRY,
    )

    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
    ) -> VerifyReport:
        """Authenticate, then check each offered resource type (or just ``resource_id`` of ``resource_type``).

        s3-bucket: HeadBucket and ListObjectsV2(MaxKeys=1); kubernetes-cluster: EKS DescribeCluster;
        docker-registry: ECR DescribeRepositories. Without a resource id, every bucket, cluster and
        repository the connector can list is checked. Failures become failed checks, never exceptions.
        """
        report = VerifyReport(connector=connector.name, ok=False)
        try:
            session, identity = _authenticate(connector, config)
        except OperationFailedError as exc:
            target = config.get("role_arn") if connector.auth_method == "iam-role" else config.get("region", "aws")
            report.checks.append(
                ResourceCheck(resource_type=ResourceType.AWS_GENERIC, resource_id=str(target), reachable=False, message=str(exc))
            )
            return report
        report.identity = identity
        if resource_id is not None:
            if resource_type is None:
                raise InputError("a resource id needs its resource type")
            _require_offered(connector, resource_type)
            if resource_type is ResourceType.AWS_GENERIC:
                report.checks.append(_generic_check(config, identity))
            else:
                name = normalize_resource_id(resource_type, resource_id)
                report.checks.append(_CHECKERS[resource_type](session, name))
        else:
            if ResourceType.AWS_GENERIC in connector.resource_types:
                report.checks.append(_generic_check(config, identity))
            for offered in _CHECKED_TYPES:
                if offered in connector.resource_types:
                    report.checks.extend(_check_all(session, offered))
        report.ok = all(check.reachable for check in report.checks)
        return report

    def list_resources(self, connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
        """The region (aws-generic), buckets, EKS clusters and ECR repositories the connector reaches.

        A listed resource counts only if its check passes (a bucket listed but denied is left out).
        A listing that fails is named in ``errors``; failing to authenticate raises OperationFailedError.
        """
        session, _identity = _authenticate(connector, config)
        result = ReachableResources(connector=connector.name)
        if ResourceType.AWS_GENERIC in connector.resource_types:
            result.resources[ResourceType.AWS_GENERIC] = [str(config["region"])]
        for resource_type in _CHECKED_TYPES:
            if resource_type not in connector.resource_types:
                continue
            checks = _check_all(session, resource_type)
            result.resources[resource_type] = sorted(c.resource_id for c in checks if c.reachable and c.resource_id != "*")
            result.errors.extend(c.message for c in checks if not c.reachable and c.resource_id == "*")
        return result

    def credentials(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_type: ResourceType | None,
        resource_id: str,
        duration_s: int = MIN_DURATION_S,
    ) -> ScopedCredentials:
        """Temporary credentials of the connector's role, narrowed by a session policy to one resource.

        Only iam-role connectors issue them: other auth methods hold long-lived keys that cannot be
        scoped down without an AssumeRole, so they are refused with an InputError. Without a
        ``resource_type``, it is inferred from ``resource_id``.
        """
        require_iam_role(connector)
        if resource_type is None:
            resource_type = self.infer_resource_type(connector, resource_id)
        if not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
            raise InputError(f"duration must be between {MIN_DURATION_S} and {MAX_DURATION_S} seconds (got {duration_s})")
        if resource_type is ResourceType.AWS_GENERIC:
            raise InputError(GENERIC_REFUSAL)
        _require_offered(connector, resource_type)
        name = normalize_resource_id(resource_type, resource_id)
        role = _ARN.match(str(config["role_arn"]))
        if role is None or role.group("service") != "iam":
            raise InputError(f"connector {connector.name!r}: role_arn {config['role_arn']!r} is not an IAM role ARN")
        region = str(config["region"])
        policy = session_policy(resource_type, name, partition=role.group("partition"), region=region, account=role.group("account"))
        try:
            issued = _assume_role(connector, config, duration_s=duration_s, policy=policy)
        except Exception as exc:
            raise OperationFailedError(f"cannot assume role {config['role_arn']}: {describe_error(exc)}") from None
        return ScopedCredentials(
            connector=connector.name,
            resource_type=resource_type,
            resource_id=name,
            env={
                "AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
                "AWS_SESSION_TOKEN": issued["SessionToken"],
                "AWS_REGION": region,
            },
            expires_at=issued.get("Expiration"),
            session_policy=policy,
        )
