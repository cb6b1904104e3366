"""The fake GCP API: the real REST paths and JSON shapes of the list, get, patch and delete calls a sweep makes.

Lists paginate as the real ones do (``pageToken`` in, ``nextPageToken`` out, ``maxResults`` or
``pageSize`` honoured up to the service's maximum), except GKE's clusters.list, which has no
pagination in the real API either. Deletes answer with a finished operation (or 204 / ``{}``
where the real API does), so a sweep never needs to poll the fake.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from provisioner.engine.emulators.gcp_api.store import (
    ADDRESSES,
    BUCKETS,
    CLUSTERS,
    INSTANCES,
    NETWORKS,
    REPOSITORIES,
    SERVICE_ACCOUNTS,
    SUBNETWORKS,
    FakeApiError,
    FakeResource,
    GcpFakeStore,
    not_found,
)

Params = dict[str, str]
COMPUTE_LINK = "https://www.googleapis.com/compute/v1"


def _compute_operation(params: Params, key: str) -> dict[str, Any]:
    name = f"operation-{uuid.uuid4().hex[:20]}"
    return {"kind": "compute#operation", "name": name, "operationType": "delete", "status": "DONE", "progress": 100,
            "targetLink": f"{COMPUTE_LINK}/{key}", "selfLink": f"{COMPUTE_LINK}/projects/{params['project']}/global/operations/{name}"}


def _long_running(params: Params, _key: str) -> dict[str, Any]:
    """A google.longrunning.Operation that is already done (Artifact Registry)."""
    return {"name": f"projects/{params['project']}/locations/{params['location']}/operations/{uuid.uuid4()}", "done": True,
            "response": {"@type": "type.googleapis.com/google.protobuf.Empty"}}


def _gke_operation(params: Params, key: str) -> dict[str, Any]:
    name = f"operation-{uuid.uuid4().hex[:20]}"
    return {"name": name, "zone": params["location"], "operationType": "DELETE_CLUSTER", "status": "DONE",
            "selfLink": f"https://container.googleapis.com/v1/projects/{params['project']}/locations/{params['location']}/operations/{name}",
            "targetLink": f"https://container.googleapis.com/v1/{key}"}


def _sql_operation(params: Params, key: str) -> dict[str, Any]:
    return {"kind": "sql#operation", "name": str(uuid.uuid4()), "operationType": "DELETE", "status": "DONE",
            "targetId": key.rsplit("/", 1)[-1], "targetProject": params["project"]}


@dataclass(frozen=True)
class Paging:
    """How a list answers: the field its items go in, its page-size parameter and maximum (None: no pagination)."""

    field: str
    param: str | None = None
    maximum: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


InList = Callable[[str, FakeResource, Params, dict[str, str]], bool]


@dataclass(frozen=True)
class Kind:
    """One collection served over REST: where it is, what a list call covers, and what a delete answers."""

    collection: str
    list_path: str
    item_param: str
    key: Callable[[Params], str]
    paging: Paging
    deleted: Callable[[Params, str], dict[str, Any] | None]
    in_list: InList


def _under(prefix: Callable[[Params], str]) -> InList:
    return lambda key, _resource, params, _query: key.startswith(prefix(params))


def _in_project(key: str, resource: FakeResource, _params: Params, query: dict[str, str]) -> bool:
    return resource.project == query.get("project")


def _clusters_in(key: str, _resource: FakeResource, params: Params, _query: dict[str, str]) -> bool:
    location = params["location"]
    return key.startswith(f"projects/{params['project']}/locations/") and (location == "-" or f"/locations/{location}/" in key)


KINDS = (
    Kind(BUCKETS, "/storage/v1/b", "bucket", lambda p: p["bucket"], Paging("items", "maxResults", 1000, {"kind": "storage#buckets"}),
         lambda _p, _k: None, _in_project),
    Kind(REPOSITORIES, "/v1/projects/{project}/locations/{location}/repositories", "repository",
         lambda p: f"projects/{p['project']}/locations/{p['location']}/repositories/{p['repository']}", Paging("repositories", "pageSize", 1000),
         _long_running, _under(lambda p: f"projects/{p['project']}/locations/{p['location']}/repositories/")),
    Kind(CLUSTERS, "/v1/projects/{project}/locations/{location}/clusters", "cluster",
         lambda p: f"projects/{p['project']}/locations/{p['location']}/clusters/{p['cluster']}", Paging("clusters"), _gke_operation, _clusters_in),
    Kind(INSTANCES, "/v1/projects/{project}/instances", "instance", lambda p: f"projects/{p['project']}/instances/{p['instance']}",
         Paging("items", "maxResults", 1000, {"kind": "sql#instancesList"}), _sql_operation, _under(lambda p: f"projects/{p['project']}/instances/")),
    Kind(NETWORKS, "/compute/v1/projects/{project}/global/networks", "network",
         lambda p: f"projects/{p['project']}/global/networks/{p['network']}", Paging("items", "maxResults", 500, {"kind": "compute#networkList"}),
         _compute_operation, _under(lambda p: f"projects/{p['project']}/global/networks/")),
    Kind(SUBNETWORKS, "/compute/v1/projects/{project}/regions/{region}/subnetworks", "subnetwork",
         lambda p: f"projects/{p['project']}/regions/{p['region']}/subnetworks/{p['subnetwork']}",
         Paging("items", "maxResults", 500, {"kind": "compute#subnetworkList"}), _compute_operation,
         _under(lambda p: f"projects/{p['project']}/regions/{p['region']}/subnetworks/")),
    Kind(ADDRESSES, "/compute/v1/projects/{project}/global/addresses", "address",
         lambda p: f"projects/{p['project']}/global/addresses/{p['address']}", Paging("items", "maxResults", 500, {"kind": "compute#addressList"}),
         _compute_operation, _under(lambda p: f"projects/{p['project']}/global/addresses/")),
    Kind(SERVICE_ACCOUNTS, "/v1/projects/{project}/serviceAccounts", "account",
         lambda p: f"projects/{p['project']}/serviceAccounts/{p['account']}", Paging("accounts", "pageSize", 100), lambda _p, _k: {},
         _under(lambda p: f"projects/{p['project']}/serviceAccounts/")),
)
OBJECTS = Paging("items", "maxResults", 1000, {"kind": "storage#objects"})


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode())
    except ValueError:
        raise FakeApiError(400, "INVALID_ARGUMENT", f"Invalid page token: {token}", "invalid") from None


def _page(items: list[dict[str, Any]], query: dict[str, str], paging: Paging) -> dict[str, Any]:
    """One page of ``items`` (already in a stable order), with a token for the next when there is more."""
    if paging.param is None:
        return {paging.field: items} if items else {}
    start = _offset(query.get("pageToken"))
    size = min(int(query.get(paging.param) or paging.maximum), paging.maximum)
    page: dict[str, Any] = dict(paging.extra)
    if items[start : start + size]:
        page[paging.field] = items[start : start + size]
    if start + size < len(items):
        page["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    return page


def create_app(store: GcpFakeStore) -> FastAPI:
    """The FastAPI app over ``store``; ``app.state.requests`` records each (method, path) it answered."""
    app = FastAPI(title="fake GCP API (provisioner --simulate)", openapi_url=None)
    app.state.requests = []

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        app.state.requests.append((request.method, request.url.path))
        return await call_next(request)

    @app.exception_handler(FakeApiError)
    async def api_error(_request: Request, exc: FakeApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.code)

    def lister(kind: Kind) -> Callable[[Request], Any]:
        def list_items(request: Request) -> Any:
            params, query = dict(request.path_params), dict(request.query_params)
            if kind.collection == BUCKETS and not query.get("project"):
                raise FakeApiError(400, "INVALID_ARGUMENT", "Required parameter: project", "required")
            resources = store.read().collection(kind.collection)
            items = [resources[key].body for key in sorted(resources) if kind.in_list(key, resources[key], params, query)]
            return _page(items, query, kind.paging)

        return list_items

    def reader(kind: Kind) -> Callable[[Request], Any]:
        def get_item(request: Request) -> Any:
            key = kind.key(dict(request.path_params))
            resource = store.read().collection(kind.collection).get(key)
            if resource is None:
                raise not_found(key)
            if resource.denied:
                raise FakeApiError(403, "PERMISSION_DENIED", f"Permission denied on resource '{key}' (or it may not exist).", "forbidden")
            return resource.body

        return get_item

    def deleter(kind: Kind) -> Callable[[Request], Any]:
        def delete_item(request: Request) -> Any:
            params = dict(request.path_params)
            key = kind.key(params)
            store.delete(kind.collection, key)
            answer = kind.deleted(params, key)
            return Response(status_code=204) if answer is None else answer

        return delete_item

    for kind in KINDS:
        item_path = f"{kind.list_path}/{{{kind.item_param}}}"
        app.add_api_route(kind.list_path, lister(kind), methods=["GET"])
        app.add_api_route(item_path, reader(kind), methods=["GET"])
        app.add_api_route(item_path, deleter(kind), methods=["DELETE"])

    @app.patch("/v1/projects/{project}/instances/{instance}")
    async def patch_instance(project: str, instance: str, request: Request) -> Any:
        """Cloud SQL's instances.patch: here only ``settings`` is merged (what unlocking a database needs)."""
        changes = await request.json()
        key = f"projects/{project}/instances/{instance}"
        with store.edit() as state:
            resource = state.collection(INSTANCES).get(key)
            if resource is None:
                raise not_found(key)
            resource.body["settings"] = {**resource.body.get("settings", {}), **changes.get("settings", {})}
        return _sql_operation({"project": project}, key) | {"operationType": "UPDATE"}

    @app.get("/storage/v1/b/{bucket}/o")
    def list_objects(bucket: str, request: Request) -> Any:
        resource = store.read().collection(BUCKETS).get(bucket)
        if resource is None:
            raise not_found(bucket)
        items = [resource.objects[name] for name in sorted(resource.objects)]
        return _page(items, dict(request.query_params), OBJECTS)

    @app.delete("/storage/v1/b/{bucket}/o/{name:path}")
    def delete_object(bucket: str, name: str) -> Any:
        with store.edit() as state:
            resource = state.collection(BUCKETS).get(bucket)
            if resource is None or name not in resource.objects:
                raise not_found(f"{bucket}/{name}")
            del resource.objects[name]
        return Response(status_code=204)

    return app
