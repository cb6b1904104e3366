"""Find and delete what is left of one deployment on GCP, through each service's REST API.

Ownership is proven, never assumed. A labelled kind (bucket, Artifact Registry repository, GKE
cluster, Cloud SQL instance, global address) is swept only when the sweep has read the resource
itself (a GET per resource) and its labels carry this deployment's id. VPC networks, subnetworks
and service accounts take no labels in GCP: they are swept only when their id was in this
deployment's own state before destroy, never by their name. Every list follows ``nextPageToken``
(GKE's clusters.list has no pages; its ``missingZones`` is reported). A resource whose labels
cannot be read is reported as unreadable, never skipped and never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from provisioner.errors import OperationFailedError
from provisioner.teardown.sweep_report import Leftover, RoundSweeper, SweepScope

# The recipe's label keys: its tags (provisioner:stack, ...) as GCP label keys (recipes/gcp/labels.py).
LABEL_STACK = "provisioner-stack"
LABEL_ENV = "provisioner-env"
LABEL_DEPLOYMENT = "provisioner-deployment"
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})

# Deletion order: what holds other things goes first.
ORDER = {
    "gke-cluster": 1, "cloudsql-instance": 3, "compute-global-address": 6, "compute-subnetwork": 9, "compute-network": 11,
    "artifact-repository": 12, "gcs-bucket": 12, "service-account": 13, "unknown": 99, "unreadable": 99,
}


class GcpEndpoints(BaseModel):
    """The base URL of each service: the real googleapis.com hosts by default."""

    storage: str = "https://storage.googleapis.com"
    artifactregistry: str = "https://artifactregistry.googleapis.com"
    container: str = "https://container.googleapis.com"
    sqladmin: str = "https://sqladmin.googleapis.com"
    compute: str = "https://compute.googleapis.com"
    iam: str = "https://iam.googleapis.com"

    @classmethod
    def all_at(cls, url: str) -> GcpEndpoints:
        """Every service at one base URL (the fake GCP API serves them all on one port)."""
        return cls(**{name: url for name in cls.model_fields})


class GcpApiError(OperationFailedError):
    """A GCP API answered with an error (after retries)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


class MissingGoogleAuthError(OperationFailedError):
    """google-auth is needed to call the real GCP APIs."""


def google_auth() -> Any:
    """An httpx auth that signs requests with the application default credentials (google-auth, lazily)."""
    try:
        import google.auth
        import google.auth.transport.requests
    except ImportError:
        raise MissingGoogleAuthError("the GCP leftover sweep needs google-auth: pip install 'provisioner[gcp]'") from None
    import httpx

    credentials, _project = google.auth.default(scopes=list(SCOPES))

    class _GoogleAuth(httpx.Auth):
        def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
            request.headers["Authorization"] = f"Bearer {credentials.token}"
            yield request

    return _GoogleAuth()


def label_value(value: str) -> str:
    """A tag value as the recipe writes it into a label (lowercase letters, digits, _ and -; 63 characters)."""
    return re.sub(r"[^a-z0-9_-]", "-", value.lower())[:63]


@dataclass(frozen=True)
class _Kind:
    """One kind of resource: where it is listed, how one is addressed, and where its labels are."""

    kind: str
    service: str
    list_path: str  # formatted with project and region
    items: str
    page_param: str | None  # None: the list has no pages (GKE)
    item_path: Callable[[str, dict[str, Any]], str]  # (project, listed item) -> its REST path
    leftover_id: Callable[[str, dict[str, Any]], str]  # the id our state and the report use
    labels: Callable[[dict[str, Any]], Any] | None  # None: the kind takes no labels
    location: Callable[[dict[str, Any], str], str]


def _last(link: Any) -> str:
    return str(link or "").rstrip("/").rsplit("/", 1)[-1]


def _compute(collection: str, scope: str) -> Callable[[str, dict[str, Any]], str]:
    return lambda project, item: f"projects/{project}/{scope}/{collection}/{item['name']}"


def _cluster_path(project: str, item: dict[str, Any]) -> str:
    return f"projects/{project}/locations/{item['location']}/clusters/{item['name']}"


KINDS = (
    _Kind("gke-cluster", "container", "/v1/projects/{project}/locations/-/clusters", "clusters", None,
          lambda p, i: f"/v1/{_cluster_path(p, i)}", _cluster_path, lambda i: i.get("resourceLabels"), lambda i, _r: str(i.get("location"))),
    _Kind("cloudsql-instance", "sqladmin", "/v1/projects/{project}/instances", "items", "maxResults",
          lambda p, i: f"/v1/projects/{p}/instances/{i['name']}", lambda _p, i: str(i["name"]),
          lambda i: (i.get("settings") or {}).get("userLabels"), lambda i, _r: str(i.get("region"))),
    _Kind("compute-global-address", "compute", "/compute/v1/projects/{project}/global/addresses", "items", "maxResults",
          lambda p, i: f"/compute/v1/{_compute('addresses', 'global')(p, i)}", _compute("addresses", "global"),
          lambda i: i.get("labels"), lambda _i, _r: "global"),
    _Kind("compute-subnetwork", "compute", "/compute/v1/projects/{project}/regions/{region}/subnetworks", "items", "maxResults",
          lambda p, i: f"/compute/v1/projects/{p}/regions/{_last(i.get('region'))}/subnetworks/{i['name']}",
          lambda p, i: f"projects/{p}/regions/{_last(i.get('region'))}/subnetworks/{i['name']}", None, lambda i, _r: _last(i.get("region"))),
    _Kind("compute-network", "compute", "/compute/v1/projects/{project}/global/networks", "items", "maxResults",
          lambda p, i: f"/compute/v1/{_compute('networks', 'global')(p, i)}", _compute("networks", "global"), None, lambda _i, _r: "global"),
    _Kind("artifact-repository", "artifactregistry", "/v1/projects/{project}/locations/{region}/repositories", "repositories", "pageSize",
          lambda _p, i: f"/v1/{i['name']}", lambda _p, i: str(i["name"]), lambda i: i.get("labels"), lambda _i, region: region),
    _Kind("gcs-bucket", "storage", "/storage/v1/b", "items", "maxResults", lambda _p, i: f"/storage/v1/b/{quote(i['name'], safe='')}",
          lambda _p, i: str(i["name"]), lambda i: i.get("labels"), lambda i, _r: str(i.get("location", "")).lower()),
    _Kind("service-account", "iam", "/v1/projects/{project}/serviceAccounts", "accounts", "pageSize",
          lambda _p, i: f"/v1/{i['name']}", lambda _p, i: str(i["name"]), None, lambda _i, _r: "global"),
)
_BY_KIND = {kind.kind: kind for kind in KINDS}


class GcpSweeper(RoundSweeper):
    """Finds and deletes the resources of one deployment in one project (regional lists: one region)."""

    def __init__(
        self,
        scope: SweepScope | None,
        project: str,
        region: str,
        *,
        survey_stack: str | None = None,
        unproven_prefix: str | None = None,
        endpoints: GcpEndpoints | None = None,
        auth: Any = None,
        transport: Any = None,
        page_size: int | None = None,
        call_timeout_s: float = 20,
        retry_wait_s: float = 1.0,
        operation_timeout_s: float = 1200,
    ) -> None:
        """As :class:`RoundSweeper`; ``unproven_prefix`` (adopting, with no state): unlabelled resources
        named with it are reported as ``unknown``, never deleted. ``auth`` signs requests (see
        :func:`google_auth`); the fake GCP API needs none."""
        import httpx

        super().__init__(scope, survey_stack, page_size)
        self.unproven_prefix = unproven_prefix
        self.project = project
        self.region = region
        self.endpoints = endpoints or GcpEndpoints()
        self.calls = 0
        self._missing_zones: list[str] = []
        self._retry_wait_s = retry_wait_s
        self._operation_timeout_s = operation_timeout_s
        self._http = httpx.Client(auth=auth, transport=transport, timeout=call_timeout_s, event_hooks={"request": [self._count]})

    def _count(self, _request: Any) -> None:
        self.calls += 1

    def close(self) -> None:
        self._http.close()

    # ----- HTTP --------------------------------------------------------------------------------

    def _call(self, method: str, service: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None) -> dict[str, Any]:
        """One API call, retried on throttling, server errors and broken connections."""
        import httpx
        from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

        def transient(exc: BaseException) -> bool:
            return isinstance(exc, httpx.TransportError) or (isinstance(exc, GcpApiError) and exc.status_code in RETRIED_STATUS)

        url = f"{getattr(self.endpoints, service).rstrip('/')}{path}"
        for attempt in Retrying(
            retry=retry_if_exception(transient), stop=stop_after_attempt(4), wait=wait_exponential(multiplier=self._retry_wait_s, max=10),
            reraise=True,
        ):
            with attempt:
                response = self._http.request(method, url, params=params, json=body)
                if response.status_code >= 400:
                    raise GcpApiError(response.status_code, _error_message(response))
        return response.json() if response.content else {}

    def _pages(self, kind: _Kind) -> Iterator[dict[str, Any]]:
        """Every item of a list call, page after page."""
        path = kind.list_path.format(project=self.project, region=self.region)
        params: dict[str, Any] = {"project": self.project} if kind.service == "storage" else {}
        if kind.page_param and self.page_size:
            params[kind.page_param] = self.page_size
        while True:
            page = self._call("GET", kind.service, path, params=params)
            yield from page.get(kind.items, [])
            self._missing_zones.extend(page.get("missingZones", []))  # GKE could not answer for them: their clusters are unknown
            token = page.get("nextPageToken")
            if not token or kind.page_param is None:
                return
            params = {**params, "pageToken": token}

    # ----- ownership ---------------------------------------------------------------------------

    def _matches(self, kind: _Kind, resource_id: str, labels: dict[str, str]) -> bool:
        if self.scope is None:
            return kind.labels is not None and labels.get(LABEL_STACK) == label_value(self.survey_stack or "")
        if kind.labels is None:
            return resource_id in self.scope.owned_ids  # no labels: only our own state proves it is ours
        return labels.get(LABEL_DEPLOYMENT) == self.scope.deployment_id

    def _judged(self, kind: _Kind, item: dict[str, Any]) -> Iterator[Leftover]:
        """Read one listed resource's labels with a GET of its own: yield it if ours, as unreadable if it cannot be read."""
        resource_id = kind.leftover_id(self.project, item)
        location = kind.location(item, self.region)
        if kind.labels is None:
            if self._matches(kind, resource_id, {}):
                yield Leftover(kind=kind.kind, id=resource_id, region=location, deployment=self.scope.deployment_id if self.scope else None,
                               detail="no labels: ours by our own state")
            elif self.unproven_prefix and _last(item.get("name")).startswith(self.unproven_prefix):
                # Named like the stack, but nothing proves it is ours: reported for a person to judge, never deleted.
                yield Leftover(kind="unknown", id=resource_id, region=location,
                               detail=f"{kind.kind} takes no labels and is not in our state: delete it yourself if it is this stack's")
            return
        try:
            current = self._call("GET", kind.service, kind.item_path(self.project, item))
        except GcpApiError as exc:
            if exc.status_code != 404:  # gone meanwhile: nothing to do; anything else is reported, never skipped
                yield Leftover(kind="unreadable", id=resource_id, region=location, detail=f"{kind.kind}: could not read its labels: {exc}")
            return
        labels = {str(k): str(v) for k, v in (kind.labels(current) or {}).items()}
        if self._matches(kind, resource_id, labels):
            yield Leftover(kind=kind.kind, id=resource_id, region=location, deployment=labels.get(LABEL_DEPLOYMENT),
                           env=labels.get(LABEL_ENV), stack=labels.get(LABEL_STACK))

    def find(self) -> list[Leftover]:
        """Everything this sweeper may act on (or, surveying, everything labelled for the stack), in deletion order."""
        found: dict[tuple[str, str], Leftover] = {}
        self._missing_zones = []
        for kind in KINDS:
            for item in self._pages(kind):
                for leftover in self._judged(kind, item):
                    found[(leftover.kind, leftover.id)] = leftover
        for zone in self._missing_zones:
            unknown = Leftover(kind="unreadable", id=f"projects/{self.project}/locations/{zone}", region=zone,
                               detail=f"gke-cluster: GKE could not list the clusters of zone {zone}")
            found[(unknown.kind, unknown.id)] = unknown
        return sorted(found.values(), key=lambda item: (ORDER.get(item.kind, 50), item.id))

    # ----- deleting ----------------------------------------------------------------------------

    def delete(self, leftover: Leftover, *, delete_data: bool) -> None:
        """Delete one leftover and wait for its operation; raises when GCP refuses (a later round retries)."""
        self._require_scope()
        kind = _BY_KIND.get(leftover.kind)
        if kind is None:
            raise RuntimeError(f"provisioner cannot delete {leftover.kind} resources: delete {leftover.id} yourself")
        path = self._path_of(kind, leftover)
        try:
            if kind.kind == "gcs-bucket":
                self._empty_bucket(leftover.id)
            if kind.kind == "cloudsql-instance" and delete_data:
                self._unlock(leftover.id)
            self._wait(kind.service, self._call("DELETE", kind.service, path))
        except GcpApiError as exc:
            if exc.status_code != 404:
                raise

    def _path_of(self, kind: _Kind, leftover: Leftover) -> str:
        if kind.kind == "gcs-bucket":
            return f"/storage/v1/b/{quote(leftover.id, safe='')}"
        if kind.kind == "cloudsql-instance":
            return f"/v1/projects/{self.project}/instances/{leftover.id}"
        return f"/compute/v1/{leftover.id}" if kind.service == "compute" else f"/v1/{leftover.id}"

    def _empty_bucket(self, name: str) -> None:
        """Delete every object version (GCS refuses to delete a bucket that holds any)."""
        bucket = quote(name, safe="")
        objects: list[dict[str, Any]] = []
        params: dict[str, Any] = {"versions": "true", **({"maxResults": self.page_size} if self.page_size else {})}
        while True:
            page = self._call("GET", "storage", f"/storage/v1/b/{bucket}/o", params=params)
            objects.extend(page.get("items", []))
            if not page.get("nextPageToken"):
                break
            params = {**params, "pageToken": page["nextPageToken"]}
        for item in objects:
            generation = {"generation": item["generation"]} if item.get("generation") else {}
            self._call("DELETE", "storage", f"/storage/v1/b/{bucket}/o/{quote(item['name'], safe='')}", params=generation)

    def _unlock(self, instance: str) -> None:
        operation = self._call(
            "PATCH", "sqladmin", f"/v1/projects/{self.project}/instances/{instance}", body={"settings": {"deletionProtectionEnabled": False}}
        )
        self._wait("sqladmin", operation)

    def _wait(self, service: str, operation: dict[str, Any]) -> None:
        """Poll a long-running operation until it is done (bounded); raise if it failed."""
        from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_exponential

        def finished(op: dict[str, Any]) -> bool:
            return not op or op.get("done") is True or op.get("status") == "DONE"

        if not finished(operation):
            poll = Retrying(
                retry=retry_if_result(lambda op: not finished(op)), stop=stop_after_delay(self._operation_timeout_s),
                wait=wait_exponential(multiplier=self._retry_wait_s, max=15),
            )
            try:
                operation = poll(self._call, "GET", service, self._operation_path(service, operation))
            except RetryError:
                raise GcpApiError(504, f"operation {operation.get('name')} not done after {self._operation_timeout_s:.0f} s") from None
        error = operation.get("error")
        if error:
            errors = error.get("errors") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            raise GcpApiError(400, str(message or (errors[0].get("message") if errors else error)))

    def _operation_path(self, service: str, operation: dict[str, Any]) -> str:
        if service == "compute":
            return "/compute/v1/" + str(operation["selfLink"]).split("/compute/v1/", 1)[1]
        if service == "container":
            return "/v1/" + str(operation["selfLink"]).split("/v1/", 1)[1]
        if service == "sqladmin":
            return f"/v1/projects/{self.project}/operations/{operation['name']}"
        return f"/v1/{operation['name']}"

    def unlock_databases(self) -> list[str]:
        """Turn deletion protection off on the deployment's Cloud SQL instances (for --delete-data); returns their names."""
        self._require_scope()
        unlocked = []
        for leftover in self.find():
            if leftover.kind != "cloudsql-instance":
                continue
            instance = self._call("GET", "sqladmin", f"/v1/projects/{self.project}/instances/{leftover.id}")
            if (instance.get("settings") or {}).get("deletionProtectionEnabled"):
                self._unlock(leftover.id)
                unlocked.append(leftover.id)
        return unlocked


def _error_message(response: Any) -> str:
    try:
        error = response.json().get("error", {})
    except ValueError:
        return " ".join(response.text.split())[:300]
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)
