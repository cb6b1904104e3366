"""Pre-destroy inside the cluster: delete what leaves cloud resources behind, then wait until it is gone.

A Service of type LoadBalancer leaves a cloud load balancer (and its ENIs and security groups), a
PersistentVolumeClaim leaves a cloud volume; either blocks deleting the VPC. This step deletes them
through the Kubernetes API and waits, bounded, until the API no longer lists them and (optionally)
the cloud side reports them gone. It never raises for cluster trouble and never hangs: what is still
there, and why, goes into the result.

``kubernetes`` (the official client) is imported lazily, only when a cluster is really reached.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, model_validator

if TYPE_CHECKING:
    from kubernetes.client import ApiClient, CoreV1Api

SERVICE = "Service"
PVC = "PersistentVolumeClaim"


class ClusterTarget(BaseModel):
    """How to reach a cluster's API: a kubeconfig (text, optional context) or a plain URL with no auth."""

    kubeconfig: str | None = Field(None, repr=False, description="kubeconfig as YAML or JSON text; may hold credentials")
    context: str | None = None
    server: str | None = Field(None, description="API base URL with no auth, e.g. the simulation's emulator")
    connect_timeout_s: float = Field(5.0, gt=0)
    read_timeout_s: float = Field(15.0, gt=0)

    @model_validator(mode="after")
    def _exactly_one_way(self) -> "ClusterTarget":
        if (self.kubeconfig is None) == (self.server is None):
            raise ValueError("give exactly one of kubeconfig or server")
        if self.server is not None and self.context is not None:
            raise ValueError("context only applies to a kubeconfig")
        return self

    def describe(self) -> str:
        """A short, credential-free name for messages."""
        if self.server is not None:
            return self.server
        return f"kubeconfig context {self.context!r}" if self.context else "kubeconfig (current context)"


class ClusterCleanup(BaseModel):
    """What the in-cluster pre-destroy did; entries read "namespace/kind/name"."""

    deleted: list[str] = Field(default_factory=list)
    remaining: list[str] = Field(default_factory=list)
    skipped_namespaces: list[str] = Field(default_factory=list)
    error: str | None = None
    waited_s: float = Field(0.0, description="seconds the whole step took, deleting included")
    timed_out: bool = False
    # True when a ``cloud_gone`` check was given and never confirmed the cloud side gone.
    cloud_pending: bool = False

    @property
    def clean(self) -> bool:
        """Nothing left in the API or the cloud, and no error."""
        return not self.remaining and not self.cloud_pending and self.error is None and not self.timed_out


def api_client(target: ClusterTarget) -> "ApiClient":
    """A fresh ApiClient for the target; never reads ~/.kube/config nor changes the global client configuration."""
    from kubernetes import client, config

    if target.server is not None:
        configuration = client.Configuration()
        configuration.host = target.server.rstrip("/")
    else:
        config_dict = parse_kubeconfig(target.kubeconfig or "")
        configuration = client.Configuration()
        # persist_config=False: never write refreshed tokens back anywhere.
        config.load_kube_config_from_dict(
            config_dict, context=target.context, client_configuration=configuration, persist_config=False
        )
    # One quick retry at most: the wait loop below does the real retrying, against its own deadline.
    configuration.retries = 1
    return client.ApiClient(configuration)


def parse_kubeconfig(text: str) -> dict[str, Any]:
    """A kubeconfig (YAML or JSON text) as a dict; anything else is a one-line InputError."""
    import yaml

    from provisioner.errors import InputError

    try:
        data = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise InputError(f"the kubeconfig is not valid YAML or JSON: {one_line(exc)}") from None
    if not isinstance(data, dict):
        raise InputError("the kubeconfig is not a mapping")
    return data


def clean_cluster(
    target: ClusterTarget,
    namespaces: list[str],
    *,
    timeout_s: float = 300,
    poll_s: float = 2,
    on_event: Callable[[str], None] | None = None,
    cloud_gone: Callable[[], bool] | None = None,
    keep_claims: bool = False,
) -> ClusterCleanup:
    """Delete every LoadBalancer Service and PVC in ``namespaces``, then wait (bounded) until they are gone.

    With ``keep_claims`` (data retained), volume claims are left alone: they hold the data.

    Waits until the API no longer lists them and, if ``cloud_gone`` is given, until it returns True.
    Missing namespaces are skipped. On timeout, an unreachable API or a bad target, returns a result
    that says what is left and why; never raises for those.
    """
    if timeout_s < 0 or poll_s <= 0:
        raise ValueError("timeout_s must be >= 0 and poll_s > 0")
    return _Cleaner(target, list(dict.fromkeys(namespaces)), timeout_s, poll_s, on_event, cloud_gone, keep_claims).run()


class _ApiError(Exception):
    """A request failed; ``status`` is the HTTP status, or None when the API was not reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Cleaner:
    """One clean_cluster run: its clock, its client and what it found."""

    def __init__(
        self,
        target: ClusterTarget,
        namespaces: list[str],
        timeout_s: float,
        poll_s: float,
        on_event: Callable[[str], None] | None,
        cloud_gone: Callable[[], bool] | None,
        keep_claims: bool = False,
    ) -> None:
        self.target = target
        self.keep_claims = keep_claims
        self.namespaces = namespaces
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.on_event = on_event
        self.cloud_gone = cloud_gone
        self.started = time.monotonic()
        self.deadline = self.started + timeout_s
        self.result = ClusterCleanup(cloud_pending=cloud_gone is not None)
        self.core: CoreV1Api | None = None
        self.waiting = False
        self.delete_errors: dict[str, str] = {}

    def run(self) -> ClusterCleanup:
        try:
            from kubernetes import client

            self.core = client.CoreV1Api(api_client(self.target))
        except Exception as exc:  # bad kubeconfig, unknown context, missing client: all reported, never raised
            return self._finish(error=f"cannot build a client for {self.target.describe()}: {one_line(exc)}")
        try:
            present = self._existing(self.namespaces)
            found = self._find(present)
        except _ApiError as exc:
            if exc.status is None:
                return self._finish(error=f"cannot reach the Kubernetes API at {self.target.describe()}: {exc}")
            return self._finish(error=f"the Kubernetes API at {self.target.describe()} refused: {exc}")
        self._delete(found)
        return self._wait(present)

    # ----- steps -----------------------------------------------------------------------------------

    def _existing(self, namespaces: list[str]) -> list[str]:
        present: list[str] = []
        for namespace in namespaces:
            try:
                self._call(self._core().read_namespace, namespace)
            except _ApiError as exc:
                if exc.status == 404:
                    self.result.skipped_namespaces.append(namespace)
                    self._event(f"namespace {namespace} does not exist; skipped")
                    continue
                if exc.status != 403:  # may not read namespaces: try the namespace anyway
                    raise
            present.append(namespace)
        return present

    def _find(self, namespaces: list[str]) -> dict[str, Any]:
        """Every LoadBalancer Service and PVC in the namespaces, by "namespace/kind/name"."""
        found: dict[str, Any] = {}
        core = self._core()
        for namespace in namespaces:
            # Services have no field selector on spec.type: filter here.
            for service in self._call(core.list_namespaced_service, namespace).items:
                if service.spec is not None and service.spec.type == "LoadBalancer":
                    found[_key(namespace, SERVICE, service.metadata.name)] = service
            if self.keep_claims:
                continue
            for claim in self._call(core.list_namespaced_persistent_volume_claim, namespace).items:
                found[_key(namespace, PVC, claim.metadata.name)] = claim
        return found

    def _delete(self, found: dict[str, Any]) -> None:
        """Ask the API to delete what is not already being deleted; a 404 means it is already gone."""
        core = self._core()
        for key, item in found.items():
            if key in self.result.deleted or item.metadata.deletion_timestamp is not None:
                continue
            namespace, kind, name = key.split("/", 2)
            delete = core.delete_namespaced_service if kind == SERVICE else core.delete_namespaced_persistent_volume_claim
            try:
                self._call(delete, name, namespace)
            except _ApiError as exc:
                if exc.status != 404:
                    message = f"cannot delete {key}: {exc}"
                    if self.delete_errors.get(key) != message:
                        self._event(message)
                    self.delete_errors[key] = message
                continue
            self.delete_errors.pop(key, None)
            self.result.deleted.append(key)
            self._event(f"deleted {key}")

    def _wait(self, namespaces: list[str]) -> ClusterCleanup:
        """Poll until nothing is listed (and the cloud agrees) or the deadline passes."""
        self.waiting = True
        while True:
            poll_error: str | None = None
            remaining: list[str] | None = None
            try:
                found = self._find(namespaces)
                self._delete(found)  # things that reappeared or were created meanwhile
                remaining = sorted(found)
                self.result.remaining = remaining
            except _ApiError as exc:
                poll_error = f"the Kubernetes API failed while waiting: {exc}"
            if remaining == []:
                if self.cloud_gone is None:
                    return self._finish(error=None)
                try:
                    if self.cloud_gone():
                        self.result.cloud_pending = False
                        return self._finish(error=None)
                    self._event("the API lists nothing; the cloud side still reports resources")
                except Exception as exc:  # a failing cloud check is reported, not raised
                    poll_error = f"the cloud check failed: {one_line(exc)}"
            elif remaining:
                self._event(f"waiting for {len(remaining)} object(s): {', '.join(remaining)}")
            if poll_error is not None:
                self._event(poll_error)
            left = self.deadline - time.monotonic()
            if left <= 0:
                self.result.timed_out = True
                self._event(f"gave up after {self.timeout_s:g}s")
                return self._finish(error=poll_error or next(iter(self.delete_errors.values()), None))
            time.sleep(min(self.poll_s, left))

    # ----- plumbing --------------------------------------------------------------------------------

    def _core(self) -> "CoreV1Api":
        assert self.core is not None
        return self.core

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """One API request with short timeouts; inside the wait, never past the deadline by much."""
        read = self.target.read_timeout_s
        if self.waiting:  # keep to the deadline
            read = min(read, max(1.0, self.deadline - time.monotonic()))
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return method(*args, _request_timeout=(self.target.connect_timeout_s, read))
        except ApiException as exc:
            raise _ApiError(api_message(exc), exc.status) from None
        except (HTTPError, OSError) as exc:
            raise _ApiError(one_line(exc)) from None

    def _event(self, message: str) -> None:
        if self.on_event is not None:
            self.on_event(message)

    def _finish(self, *, error: str | None) -> ClusterCleanup:
        self.result.error = error
        self.result.waited_s = round(time.monotonic() - self.started, 2)
        return self.result


def _key(namespace: str, kind: str, name: str) -> str:
    return f"{namespace}/{kind}/{name}"


def api_message(exc: Any) -> str:
    """HTTP status and the Status message from an ApiException, in one line."""
    message = exc.reason or ""
    try:
        message = json.loads(exc.body or "{}").get("message") or message
    except (ValueError, AttributeError):
        pass
    return f"HTTP {exc.status}: {one_line(message)}" if exc.status else one_line(message)


def one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."
