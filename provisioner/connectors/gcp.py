"""GCP connectors: authenticate with google-auth and check the project, buckets and GKE clusters.

Only ``google-auth`` (and ``requests``, which it uses) is needed: the checks are plain REST calls
through an authorized session. Both are imported lazily; without them an InputError says what to
install. Artifact Registry (docker-registry) is not checked: it needs a location the connector
configuration does not have, so the report says so in ``notes``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field

from provisioner.connectors.base import ConnectorTypeSpec
from provisioner.connectors.models import ReachableResources, ResourceCheck, VerifyReport
from provisioner.errors import InputError, OperationFailedError
from provisioner.registry.flavors.base import FlavorConfig, secret_field
from provisioner.registry.models import Connector, ResourceType

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

TIMEOUT_S = 15.0
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
PROJECTS_URL = "https://cloudresourcemanager.googleapis.com/v1/projects/{project}"
BUCKETS_URL = "https://storage.googleapis.com/storage/v1/b"
CLUSTERS_URL = "https://container.googleapis.com/v1/projects/{project}/locations/-/clusters"
INSTALL_HINT = "GCP connectors need google-auth, which is not installed: pip install 'provisioner[gcp]'"
REGISTRY_NOTE = "docker-registry (Artifact Registry) is not checked: it needs a location the connector does not configure"


class GcpServiceAccountConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")
    service_account_json: str = secret_field("Service account key, as JSON.")


class GcpImpersonationConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")
    target_principal: str = Field(description="Service account email to impersonate.")


class GcpImplicitConfig(FlavorConfig):
    project_id: str = Field(description="GCP project id.")


class _GcpError(Exception):
    """A GCP call failed; the message says why, in one line."""


def _require_google_auth() -> None:
    try:
        import google.auth  # noqa: F401
        import google.auth.transport.requests  # noqa: F401
    except ImportError:
        raise InputError(INSTALL_HINT) from None


def _bounded_request() -> Any:
    """A google-auth transport request whose calls never wait longer than TIMEOUT_S."""
    import google.auth.transport.requests as transport

    class _Bounded(transport.Request):
        def __call__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
            return super().__call__(*args, timeout=min(timeout or TIMEOUT_S, TIMEOUT_S), **kwargs)

    return _Bounded()


def credentials_for(connector: Connector, config: Mapping[str, Any]) -> Credentials:
    """Unrefreshed google-auth credentials for the connector's auth method."""
    _require_google_auth()
    import google.auth
    import google.auth.exceptions

    method = connector.auth_method
    if method == "service-account":
        from google.oauth2 import service_account

        try:
            info = json.loads(str(config["service_account_json"]))
            return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"connector {connector.name!r}: service_account_json is not a service account key: {_one_line(exc)}") from None
    if method in ("implicit", "impersonation"):
        try:
            source, _project = google.auth.default(scopes=SCOPES)
        except google.auth.exceptions.DefaultCredentialsError as exc:
            raise OperationFailedError(f"no application default credentials for GCP: {_one_line(exc)}") from None
        if method == "implicit":
            return source
        from google.auth import impersonated_credentials

        return impersonated_credentials.Credentials(
            source_credentials=source,
            target_principal=str(config["target_principal"]),
            target_scopes=SCOPES,
            lifetime=900,
        )
    raise InputError(f"connector {connector.name!r}: unknown GCP auth method {method!r}")


def _identity(connector: Connector, config: Mapping[str, Any], creds: Any) -> str | None:
    if connector.auth_method == "impersonation":
        return str(config["target_principal"])
    email = getattr(creds, "service_account_email", None)
    return str(email) if email and email != "default" else None


def _authenticate(connector: Connector, config: Mapping[str, Any]) -> tuple[Any, str | None]:
    """Refreshed credentials and the identity; OperationFailedError if the token cannot be obtained."""
    creds = credentials_for(connector, config)
    identity = _identity(connector, config, creds)
    try:
        creds.refresh(_bounded_request())
    except Exception as exc:  # RefreshError, TransportError, network errors
        who = identity or "application default credentials"
        raise OperationFailedError(f"cannot authenticate to GCP as {who}: {_one_line(exc)}") from None
    return creds, _identity(connector, config, creds)  # metadata-server credentials learn their email on refresh


def _get(session: Any, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    try:
        response = session.get(url, params=dict(params or {}), timeout=TIMEOUT_S)
    except Exception as exc:
        raise _GcpError(_one_line(exc)) from None
    if response.status_code >= 400:
        try:
            message = response.json().get("error", {}).get("message") or response.reason
        except ValueError:
            message = response.reason
        raise _GcpError(f"HTTP {response.status_code}: {_one_line(message)}")
    data: dict[str, Any] = response.json()
    return data


def _run_checks(
    creds: Any, project: str, resource_types: list[ResourceType], resource_id: str | None
) -> tuple[list[ResourceCheck], list[str]]:
    """The checks of each resource type, and notes on what was not checked."""
    from google.auth.transport.requests import AuthorizedSession

    session = AuthorizedSession(creds)
    checks: list[ResourceCheck] = []
    notes: list[str] = []
    for resource_type in resource_types:
        if resource_type is ResourceType.GCP_GENERIC:
            checks.append(_project_check(session, project))
        elif resource_type is ResourceType.GCS_BUCKET:
            checks.extend(_bucket_checks(session, project, _bucket_name(resource_id) if resource_id else None))
        elif resource_type is ResourceType.KUBERNETES_CLUSTER:
            checks.extend(_cluster_checks(session, project, resource_id))
        elif resource_type is ResourceType.DOCKER_REGISTRY:
            notes.append(REGISTRY_NOTE)
    return checks, notes


def _bucket_name(resource_id: str) -> str:
    return resource_id.removeprefix("gs://").split("/", 1)[0]


def _check(resource_type: ResourceType, resource_id: str, reachable: bool, message: str) -> ResourceCheck:
    return ResourceCheck(resource_type=resource_type, resource_id=resource_id, reachable=reachable, message=message)


def _project_check(session: Any, project: str) -> ResourceCheck:
    try:
        data = _get(session, PROJECTS_URL.format(project=project))
    except _GcpError as exc:
        return _check(ResourceType.GCP_GENERIC, project, False, f"cannot read project {project}: {exc}")
    return _check(ResourceType.GCP_GENERIC, project, True, f"project {project} is {data.get('lifecycleState', 'readable')}")


def _bucket_checks(session: Any, project: str, bucket: str | None) -> list[ResourceCheck]:
    if bucket is None:
        try:
            names = [item["name"] for item in _get(session, BUCKETS_URL, {"project": project}).get("items", [])]
        except _GcpError as exc:
            return [_check(ResourceType.GCS_BUCKET, "*", False, f"cannot list buckets of {project}: {exc}")]
        if not names:
            return [_check(ResourceType.GCS_BUCKET, "*", True, "can list buckets; none found")]
    else:
        names = [bucket]
    checks = []
    for name in names:
        try:
            _get(session, f"{BUCKETS_URL}/{name}/o", {"maxResults": 1})
        except _GcpError as exc:
            checks.append(_check(ResourceType.GCS_BUCKET, name, False, f"cannot list objects in bucket {name}: {exc}"))
        else:
            checks.append(_check(ResourceType.GCS_BUCKET, name, True, f"can list objects in bucket {name}"))
    return checks


def _cluster_checks(session: Any, project: str, name: str | None) -> list[ResourceCheck]:
    try:
        clusters = _get(session, CLUSTERS_URL.format(project=project)).get("clusters", [])
    except _GcpError as exc:
        return [_check(ResourceType.KUBERNETES_CLUSTER, name or "*", False, f"cannot list GKE clusters of {project}: {exc}")]
    found = {str(cluster["name"]): cluster for cluster in clusters}
    if name is not None:
        if name not in found:
            return [_check(ResourceType.KUBERNETES_CLUSTER, name, False, f"GKE cluster {name} not found in project {project}")]
        found = {name: found[name]}
    if not found:
        return [_check(ResourceType.KUBERNETES_CLUSTER, "*", True, "can list GKE clusters; none found")]
    return [
        _check(ResourceType.KUBERNETES_CLUSTER, cluster_name, True, f"GKE cluster {cluster_name} is {cluster.get('status', 'listed')}")
        for cluster_name, cluster in sorted(found.items())
    ]


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."


class GcpConnectorType(ConnectorTypeSpec):
    """GCP: a service account key, impersonation of a service account, or application default credentials."""

    name = "gcp"
    auth_methods = {
        "service-account": GcpServiceAccountConfig,
        "impersonation": GcpImpersonationConfig,
        "implicit": GcpImplicitConfig,
    }
    resource_types = (
        ResourceType.GCP_GENERIC,
        ResourceType.GCS_BUCKET,
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
        """Get a token, then check the project (gcp-generic), buckets (gcs-bucket) and GKE clusters."""
        if resource_type is not None and resource_type not in connector.resource_types:
            raise InputError(f"connector {connector.name!r} does not offer {resource_type.value!r}")
        report = VerifyReport(connector=connector.name, ok=False)
        try:
            creds, report.identity = _authenticate(connector, config)
        except OperationFailedError as exc:
            report.checks.append(_check(ResourceType.GCP_GENERIC, str(config["project_id"]), False, str(exc)))
            return report
        wanted = [resource_type] if resource_type is not None else list(connector.resource_types)
        report.checks, report.notes = _run_checks(creds, str(config["project_id"]), wanted, resource_id)
        report.ok = all(check.reachable for check in report.checks)
        return report

    def list_resources(self, connector: Connector, config: Mapping[str, Any]) -> ReachableResources:
        """The project, buckets and GKE clusters the connector reaches; failed listings go to ``errors``.

        Failing to authenticate raises OperationFailedError.
        """
        creds, _identity = _authenticate(connector, config)
        checks, notes = _run_checks(creds, str(config["project_id"]), list(connector.resource_types), None)
        result = ReachableResources(connector=connector.name, errors=notes)
        for check in checks:
            if check.reachable and check.resource_id != "*":
                result.resources.setdefault(check.resource_type, []).append(check.resource_id)
            elif not check.reachable:
                result.errors.append(check.message)
        return result
