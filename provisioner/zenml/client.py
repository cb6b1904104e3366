"""A small client for ZenML's REST API (/api/v1), following ZenML's own conventions for where to connect.

The URL comes from ``--zenml-url`` or ``ZENML_STORE_URL``; credentials only from the environment,
never arguments: ``ZENML_STORE_API_KEY`` (a service account's key), or ``ZENML_STORE_USERNAME`` and
``ZENML_STORE_PASSWORD``. A local server (`zenml login --local`) needs none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import httpx

from provisioner.errors import InputError, OperationFailedError

# The ZenML server releases this client was tested against (tests/zenml run a real 0.98.0).
TESTED_SERIES = "0.98."
PATHS = {"secret": "secrets", "service_connector": "service_connectors", "component": "components", "stack": "stacks"}


class ZenMLRefusedError(InputError):
    """The ZenML server can't be used: unreachable, an untested version, bad credentials, no such project."""


class ZenMLFailedError(OperationFailedError):
    """A ZenML request failed after the push had started."""


@dataclass(frozen=True)
class ZenMLTarget:
    """Where to push: the server's URL and the project (pipelines and runs live in projects)."""

    url: str
    project: str = "default"

    @classmethod
    def from_options(cls, url: str | None, project: str) -> ZenMLTarget:
        chosen = (url or os.environ.get("ZENML_STORE_URL", "")).rstrip("/")
        if not chosen:
            raise ZenMLRefusedError("no ZenML server: give --zenml-url URL or set ZENML_STORE_URL")
        if not chosen.startswith(("http://", "https://")):
            raise ZenMLRefusedError(f"--zenml-url must be an http(s) URL, not {chosen!r}")
        return cls(chosen, project)


class ZenMLClient:
    """Authenticated calls to one ZenML server; errors become one-line ProvisionerErrors."""

    def __init__(self, target: ZenMLTarget, *, allow_untested: bool = False, timeout: float = 30) -> None:
        self.target = target
        self._http = httpx.Client(base_url=f"{target.url}/api/v1", timeout=timeout)
        info = self._checked(self._send("GET", "/info"), "reading the server's info")
        self.version = str(info.get("version", "?"))
        if not self.version.startswith(TESTED_SERIES) and not allow_untested:
            raise ZenMLRefusedError(
                f"the ZenML server at {target.url} runs {self.version}; stack push is tested with "
                f"{TESTED_SERIES}x (--allow-untested-zenml to push anyway)"
            )
        if info.get("auth_scheme") != "NO_AUTH":
            self._login()
        self._checked(self._send("GET", f"/projects/{target.project}"), f"finding the project {target.project!r}",
                      refused=True)

    def close(self) -> None:
        self._http.close()

    def _login(self) -> None:
        api_key = os.environ.get("ZENML_STORE_API_KEY")
        if api_key:
            form = {"password": api_key}
        elif os.environ.get("ZENML_STORE_USERNAME"):
            form = {"username": os.environ["ZENML_STORE_USERNAME"], "password": os.environ.get("ZENML_STORE_PASSWORD", "")}
        else:
            raise ZenMLRefusedError(
                f"the ZenML server at {self.target.url} needs credentials: set ZENML_STORE_API_KEY "
                "(or ZENML_STORE_USERNAME and ZENML_STORE_PASSWORD)"
            )
        response = self._send("POST", "/login", data=form)
        if response.status_code in (401, 403):
            raise ZenMLRefusedError(f"the ZenML server at {self.target.url} refused the credentials")
        token = self._checked(response, "logging in", refused=True).get("access_token")
        self._http.headers["Authorization"] = f"Bearer {token}"

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ZenMLRefusedError(f"cannot reach the ZenML server at {self.target.url}: {exc or type(exc).__name__}") from None

    def _checked(self, response: httpx.Response, doing: str, *, refused: bool = False) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        if response.status_code in (401, 403):
            raise ZenMLRefusedError(f"the ZenML server at {self.target.url} refused {doing}: not authorized")
        detail = " ".join(response.text[:300].split())
        error = ZenMLRefusedError if refused or response.status_code == 404 else ZenMLFailedError
        raise error(f"ZenML answered {response.status_code} to {doing}: {detail}")

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object of this kind and exact name, hydrated, or None."""
        found = self._checked(self._send("GET", f"/{PATHS[kind]}", params={"name": name, "hydrate": "true"}),
                              f"looking up {kind} {name!r}")
        items = [item for item in found.get("items", []) if item.get("name") == name]
        return items[0] if items else None

    def exists(self, kind: str, object_id: str) -> bool:
        response = self._send("GET", f"/{PATHS[kind]}/{object_id}")
        if response.status_code == 404:
            return False
        self._checked(response, f"reading {kind} {object_id}")
        return True

    def create(self, kind: str, body: dict[str, Any]) -> str:
        created = self._checked(self._send("POST", f"/{PATHS[kind]}", json=body), f"creating {kind} {body.get('name')!r}")
        return str(created["id"])

    def update(self, kind: str, object_id: str, body: dict[str, Any]) -> None:
        self._checked(self._send("PUT", f"/{PATHS[kind]}/{object_id}", json=body), f"updating {kind} {body.get('name')!r}")

    def delete(self, kind: str, object_id: str) -> bool:
        """Delete by id; False when it was already gone."""
        response = self._send("DELETE", f"/{PATHS[kind]}/{object_id}")
        if response.status_code == 404:
            return False
        self._checked(response, f"deleting {kind} {object_id}")
        return True
