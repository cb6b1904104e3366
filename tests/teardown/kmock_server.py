"""A kmock Kubernetes emulator served on 127.0.0.1 from a background thread, for synchronous clients.

kmock's ``KubernetesEmulator`` keeps objects in memory (create, list, fetch, patch, delete, with
finalizers honoured: a DELETE on an object with finalizers only sets ``deletionTimestamp``; it goes
away once a PATCH empties them). ``ClusterEmulator`` fills the gaps the official client runs into:

* Namespaces: kmock parses ``/api/v1/namespaces/<name>`` as "namespace <name>", not as an object, and
  fails on ``/api/v1/namespaces``; they are served here from a plain dict (no cascading delete).
* Selectors: kmock ignores ``labelSelector`` and ``fieldSelector`` on lists; they are applied here
  (labels: ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``; fields: ``=``, ``==``, ``!=`` on
  any dotted path, e.g. ``metadata.name`` or ``spec.type``, laxer than a real API server).
* Created objects get ``metadata.namespace``, ``uid``, ``creationTimestamp`` and ``resourceVersion``.

The server runs on its own event loop in a daemon thread and is started and stopped with timeouts.
It does not use ``kmock.Server``, which patches aiohttp's resolver process-wide while it runs.
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any

import aiohttp.test_utils
import aiohttp.web
import kmock

NAMESPACES_PATH = re.compile(r"/api/v1/namespaces/?")
NAMESPACE_PATH = re.compile(r"/api/v1/namespaces/(?P<name>[^/]+)/?")
DEFAULT_NAMESPACES = ("default", "kube-system")


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
    body = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
            "code": code, "reason": reason, "message": message}
    return aiohttp.web.json_response(body, status=code)


def _terms(selector: str) -> list[str]:
    """Split a selector on the commas that are not inside ``( )``."""
    terms, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term.strip() for term in terms if term.strip()]


def label_selector_matches(labels: Mapping[str, str], selector: str) -> bool:
    """Whether labels match a Kubernetes label selector; ValueError on a malformed one."""
    for term in _terms(selector):
        if match := re.fullmatch(r"(\S+?)\s*(==|=|!=)\s*(\S*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif match := re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", term):
            key, op, values = match.groups()
            if (labels.get(key) in {v.strip() for v in values.split(",")}) != (op == "in"):
                return False
        elif match := re.fullmatch(r"(!?)\s*([^\s!=(),]+)", term):
            negated, key = match.groups()
            if (key in labels) == bool(negated):
                return False
        else:
            raise ValueError(f"unable to parse label selector term {term!r}")
    return True


def field_selector_matches(obj: Mapping[str, Any], selector: str) -> bool:
    """Whether an object matches a field selector (dotted paths; a missing field reads as "")."""
    for term in _terms(selector):
        match = re.fullmatch(r"([\w.-]+?)\s*(==|=|!=)\s*(\S*)", term)
        if match is None:
            raise ValueError(f"unable to parse field selector term {term!r}")
        path, op, value = match.groups()
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, Mapping) else None
        actual = "" if current is None else str(current).lower() if isinstance(current, bool) else str(current)
        if (actual == value) != (op != "!="):
            return False
    return True


def select(items: list[dict[str, Any]], params: Mapping[str, str]) -> list[dict[str, Any]]:
    """The items a list request's ``labelSelector`` and ``fieldSelector`` keep; ValueError on a malformed one."""
    labels, fields = params.get("labelSelector", ""), params.get("fieldSelector", "")
    label_selector_matches({}, labels)  # a malformed selector is an error even when nothing is listed
    field_selector_matches({}, fields)
    return [
        item for item in items
        if label_selector_matches((item.get("metadata") or {}).get("labels") or {}, labels)
        and field_selector_matches(item, fields)
    ]


class ClusterEmulator(kmock.KubernetesEmulator):
    """kmock's stateful Kubernetes emulator, plus namespaces, list selectors and server-set metadata."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.resources.load_bundled()  # otherwise listing a kind with no objects yet is a 404
        self.namespaces: dict[str, dict[str, Any]] = {}
        self._versions = itertools.count(1)
        for name in DEFAULT_NAMESPACES:
            self._add_namespace({"metadata": {"name": name}})

    def _add_namespace(self, body: dict[str, Any]) -> dict[str, Any]:
        meta = body.setdefault("metadata", {})
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", _now())
        meta["resourceVersion"] = str(next(self._versions))
        body.update({"apiVersion": "v1", "kind": "Namespace", "status": {"phase": "Active"}})
        self.namespaces[meta["name"]] = body
        return body

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        if NAMESPACES_PATH.fullmatch(raw_request.path) or NAMESPACE_PATH.fullmatch(raw_request.path):
            return await self._serve_namespaces(raw_request)
        return await super().__call__(raw_request)

    async def _serve_namespaces(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        one = NAMESPACE_PATH.fullmatch(raw.path)
        name = one.group("name") if one else None
        if name is None and raw.method == "GET":
            try:
                items = select(list(self.namespaces.values()), raw.query)
            except ValueError as exc:
                return _status(400, "BadRequest", str(exc))
            return aiohttp.web.json_response(
                {"apiVersion": "v1", "kind": "NamespaceList", "metadata": {"resourceVersion": ""}, "items": items}
            )
        if name is None and raw.method == "POST":
            body = json.loads(await raw.read() or b"{}")
            new = body.get("metadata", {}).get("name")
            if not new:
                return _status(422, "Invalid", "metadata.name is required")
            if new in self.namespaces:
                return _status(409, "AlreadyExists", f'namespaces "{new}" already exists')
            return aiohttp.web.json_response(self._add_namespace(body), status=201)
        if name is not None and raw.method in ("GET", "DELETE"):
            if name not in self.namespaces:
                return _status(404, "NotFound", f'namespaces "{name}" not found')
            found = self.namespaces[name] if raw.method == "GET" else self.namespaces.pop(name)
            return aiohttp.web.json_response(found)
        return _status(405, "MethodNotAllowed", f"{raw.method} {raw.path} is not emulated")

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        if request.action == kmock.action.CREATE and isinstance(request.data, dict):
            meta = request.data.setdefault("metadata", {})
            if request.namespace is not None:
                meta.setdefault("namespace", request.namespace)
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", _now())
            meta["resourceVersion"] = str(next(self._versions))
        return await super()._handle(request)

    async def _serve_list(self, request: kmock.Request) -> Any:
        listing = await super()._serve_list(request)
        try:
            listing["items"] = select(listing["items"], request.params)
        except ValueError as exc:
            raise kmock.KubernetesError(status=400, reason="BadRequest", message=str(exc)) from None
        return listing


class KubeEmulatorServer:
    """Serves a ``ClusterEmulator`` on 127.0.0.1 and a free port, from its own thread and event loop."""

    def __init__(
        self,
        *,
        configure: Callable[[ClusterEmulator], None] | None = None,
        start_timeout_s: float = 10.0,
        stop_timeout_s: float = 10.0,
    ) -> None:
        self._configure = configure
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._url: str | None = None
        self.emulator: ClusterEmulator | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        if self._url is None:
            raise RuntimeError("the emulator is not running")
        return self._url

    def start(self) -> str:
        """Start serving; returns the base URL. Raises if it is not up within ``start_timeout_s``."""
        if self._thread is not None:
            raise RuntimeError("the emulator can be started only once")
        self._thread = threading.Thread(target=self._run, name="kmock-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout_s):
            self.stop()
            raise RuntimeError(f"the kmock emulator did not start within {self._start_timeout_s:g}s")
        if self._failure is not None:
            raise RuntimeError(f"the kmock emulator failed to start: {self._failure!r}") from self._failure
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the thread, at most ``stop_timeout_s`` (it is a daemon either way)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if self._thread is not None:
            self._thread.join(self._stop_timeout_s)
            if self._thread.is_alive():
                raise RuntimeError(f"the kmock emulator did not stop within {self._stop_timeout_s:g}s")
        self._url = None

    def __enter__(self) -> "KubeEmulatorServer":
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(loop))
        except BaseException as exc:  # reported to start(); nothing else to tell it to
            self._failure = exc
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        self._stop = asyncio.Event()
        self._loop = loop
        # Built inside the loop: kmock's locks and buses belong to it.
        self.emulator = ClusterEmulator()
        if self._configure is not None:
            self._configure(self.emulator)
        async with self.emulator:
            server = aiohttp.test_utils.RawTestServer(self.emulator, host="127.0.0.1", port=0)
            await server.start_server()
            try:
                self._url = str(server.make_url("")).rstrip("/")
                self._ready.set()
                await self._stop.wait()
            finally:
                # A lingering watch stream must not hold the shutdown.
                await asyncio.wait_for(server.close(), timeout=self._stop_timeout_s / 2)
