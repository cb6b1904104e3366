"""Kubernetes connectors: reach the API server with a token or a kubeconfig, and check what it allows.

The official client is imported inside functions only. Each connector gets its own ApiClient:
``~/.kube/config`` is never read and the client's global default configuration is never changed.
Requests have a connect and a read timeout and are not retried, so an unreachable server fails
within ``connect_timeout_s`` (a silent one within ``read_timeout_s``).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pydantic import Field

from provisioner.connectors.base import ConnectorTypeSpec
from provisioner.connectors.models import ReachableResources, ResourceCheck, VerifyReport
from provisioner.errors import InputError, OperationFailedError
from provisioner.registry.flavors.base import FlavorConfig, secret_field
from provisioner.registry.models import Connector, ResourceType
from provisioner.teardown.cluster import api_message, one_line, parse_kubeconfig

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0


class KubernetesTokenConfig(FlavorConfig):
    server: str = Field(description="API server URL.")
    token: str = secret_field("Bearer token.")
    certificate_authority: str = Field("", description="CA certificate (PEM) of the API server.")
    insecure: bool = Field(False, description="Skip TLS verification.")


class KubernetesKubeconfigConfig(FlavorConfig):
    kubeconfig: str = secret_field("Contents of a kubeconfig file.")
    context: str = Field("", description="Context to use; empty means the current context.")


class _ClusterError(Exception):
    """The API could not be used; the message says why, in one line."""


def cluster_id(connector: Connector, config: Mapping[str, Any]) -> str:
    """How the connector names its cluster: the server URL (token) or the kubeconfig context."""
    if connector.auth_method == "token":
        return str(config["server"]).rstrip("/")
    if connector.auth_method == "kubeconfig":
        context = str(config.get("context") or "")
        if context:
            return context
        current = parse_kubeconfig(str(config["kubeconfig"])).get("current-context")
        if not current:
            raise InputError(f"connector {connector.name!r}: the kubeconfig has no current-context; set 'context'")
        return str(current)
    raise InputError(f"connector {connector.name!r}: unknown Kubernetes auth method {connector.auth_method!r}")


@contextmanager
def api_client_for(connector: Connector, config: Mapping[str, Any]) -> Iterator[ApiClient]:
    """A fresh ApiClient for the connector; a CA file written for it is removed on exit."""
    from kubernetes import client
    from kubernetes import config as kube_config

    configuration = client.Configuration()
    ca_file: str | None = None
    try:
        if connector.auth_method == "token":
            configuration.host = str(config["server"]).rstrip("/")
            # "Bearer <token>" under the legacy key works with every client version (36 reads it as an alias).
            configuration.api_key = {"authorization": f"Bearer {config['token']}"}
            configuration.verify_ssl = not bool(config.get("insecure"))
            if config.get("certificate_authority"):
                ca_file = _write_ca(str(config["certificate_authority"]))
                configuration.ssl_ca_cert = ca_file
        elif connector.auth_method == "kubeconfig":
            try:
                kube_config.load_kube_config_from_dict(
                    parse_kubeconfig(str(config["kubeconfig"])),
                    context=str(config.get("context") or "") or None,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except InputError:
                raise
            except Exception as exc:  # ConfigException, missing keys, unreadable certificates
                raise InputError(f"connector {connector.name!r}: cannot load the kubeconfig: {one_line(exc)}") from None
        else:
            raise InputError(f"connector {connector.name!r}: unknown Kubernetes auth method {connector.auth_method!r}")
        configuration.retries = 0  # no retries: the timeouts below bound each check
        api = client.ApiClient(configuration)
        try:
            yield api
        finally:
            api.close()
    finally:
        if ca_file is not None:
            os.unlink(ca_file)


# ----- plumbing ----------------------------------------------------------------------------------


def _cluster_or_input_error(connector: Connector, config: Mapping[str, Any], resource_id: str | None) -> str:
    cluster = cluster_id(connector, config)
    if resource_id is not None and resource_id.rstrip("/") != cluster:
        raise InputError(f"connector {connector.name!r} reaches only cluster {cluster!r}, not {resource_id!r}")
    return cluster


def _check(cluster: str, reachable: bool, message: str) -> ResourceCheck:
    return ResourceCheck(
        resource_type=ResourceType.KUBERNETES_CLUSTER, resource_id=cluster, reachable=reachable, message=message
    )


def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """One API request; every failure becomes a _ClusterError with a one-line reason."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        return method(*args, **kwargs)
    except ApiException as exc:
        raise _ClusterError(api_message(exc)) from None
    except (HTTPError, OSError, ValueError) as exc:
        raise _ClusterError(_network_message(exc)) from None


def _network_message(exc: BaseException) -> str:
    """urllib3's reason without its wrapper: "Failed to establish a new connection: [Errno 111] Connection refused"."""
    reason = getattr(exc, "reason", None) or exc
    return one_line(re.sub(r"^(?:<[^>]*>|\w+\([^)]*\)): ", "", str(reason)))


def _version(api: ApiClient, timeout: tuple[float, float]) -> str:
    """The server's gitVersion, read from /version as plain JSON (no strict model)."""
    data = _call(
        api.call_api,
        "/version",
        "GET",
        header_params={"Accept": "application/json"},
        response_types_map={200: "object"},
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
        _preload_content=True,
        _request_timeout=timeout,
    )
    if not isinstance(data, dict):
        raise _ClusterError(f"/version did not answer with JSON: {one_line(data)}")
    return str(data.get("gitVersion") or "(unknown version)")


def _namespaces(api: ApiClient, timeout: tuple[float, float]) -> list[str]:
    from kubernetes import client

    listing = _call(client.CoreV1Api(api).list_namespace, _request_timeout=timeout)
    return sorted(item.metadata.name for item in listing.items)


def _write_ca(certificate: str) -> str:
    """Write a PEM certificate (or base64 of one, as in kubeconfig ``certificate-authority-data``) to a temp file."""
    text = certificate.strip()
    if "-----BEGIN" not in text:
        try:
            text = base64.b64decode(text, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InputError("certificate_authority is neither a PEM certificate nor base64 of one") from None
    handle, path = tempfile.mkstemp(prefix="provisioner-ca-", suffix=".crt")
    with os.fdopen(handle, "w") as out:
        out.write(text + "\n")
    return path


# ----- the connector type ------------------------------------------------------------------------


class KubernetesConnectorType(ConnectorTypeSpec):
    """Kubernetes: one cluster's API server, with a bearer token or a kubeconfig."""

    name = "kubernetes"
    auth_methods = {"token": KubernetesTokenConfig, "kubeconfig": KubernetesKubeconfigConfig}
    resource_types = (ResourceType.KUBERNETES_CLUSTER,)

    def infer_resource_type(self, connector: Connector, resource_id: str) -> ResourceType:
        """Always kubernetes-cluster: a server URL or a kubeconfig context, whatever its spelling."""
        return ResourceType.KUBERNETES_CLUSTER

    def verify(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        resource_id: str | None = None,
        resource_type: ResourceType | None = None,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> VerifyReport:
        """GET /version, then list namespaces; one kubernetes-cluster check says which worked.

        ``resource_type`` is not used: the one resource is the cluster, named by ``resource_id``.

        An unusable configuration (bad kubeconfig, unknown context, bad CA) raises InputError.
        """
        report = VerifyReport(connector=connector.name, ok=False)
        cluster = _cluster_or_input_error(connector, config, resource_id)
        try:
            with api_client_for(connector, config) as api:
                server = api.configuration.host
                version = _version(api, (connect_timeout_s, read_timeout_s))
                try:
                    namespaces = _namespaces(api, (connect_timeout_s, read_timeout_s))
                except _ClusterError as exc:
                    report.checks.append(_check(cluster, False, f"reached {server} (Kubernetes {version}) but cannot list namespaces: {exc}"))
                    return report
        except _ClusterError as exc:
            report.checks.append(_check(cluster, False, f"cannot reach the Kubernetes API of {cluster}: {exc}"))
            return report
        report.checks.append(
            _check(cluster, True, f"Kubernetes {version} at {server}; can list namespaces ({len(namespaces)})")
        )
        report.ok = True
        return report

    def list_resources(
        self,
        connector: Connector,
        config: Mapping[str, Any],
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> ReachableResources:
        """The cluster (server URL or context) and its namespaces; OperationFailedError if it cannot be reached."""
        cluster = cluster_id(connector, config)
        try:
            with api_client_for(connector, config) as api:
                namespaces = _namespaces(api, (connect_timeout_s, read_timeout_s))
        except _ClusterError as exc:
            raise OperationFailedError(f"cannot list namespaces of {cluster}: {exc}") from None
        return ReachableResources(
            connector=connector.name,
            resources={ResourceType.KUBERNETES_CLUSTER: [cluster]},
            namespaces={cluster: namespaces},
        )
