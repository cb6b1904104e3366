"""The fake GCP API's data: one JSON file per provisioner home, shared by every simulated GCP stack in it.

Each collection maps a resource's REST path (a bucket: its name) to the JSON body the real API
returns for it, with the project it lives in. Every change is a locked read-modify-write, written
atomically, so a deploy and a destroy in two processes (or the server's threads) never lose one
another's changes. The refusals the sweep must meet live here, so the HTTP API and the emulators
that feed it refuse alike: a non-empty bucket, a network still in use, a protected Cloud SQL instance.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

FILE_NAME = "gcp-api.json"
BUCKETS, REPOSITORIES, CLUSTERS, INSTANCES = "buckets", "repositories", "clusters", "instances"
NETWORKS, SUBNETWORKS, ADDRESSES, SERVICE_ACCOUNTS = "networks", "subnetworks", "addresses", "serviceAccounts"
COLLECTIONS = (BUCKETS, REPOSITORIES, CLUSTERS, INSTANCES, NETWORKS, SUBNETWORKS, ADDRESSES, SERVICE_ACCOUNTS)


class FakeApiError(Exception):
    """An error the fake API answers with, in Google's JSON error shape."""

    def __init__(self, code: int, status: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message, self.reason = code, status, message, reason

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status,
                          "errors": [{"message": self.message, "domain": "global", "reason": self.reason}]}}


def not_found(path: str) -> FakeApiError:
    return FakeApiError(404, "NOT_FOUND", f"The resource '{path}' was not found", "notFound")


class FakeResource(BaseModel):
    """One resource: its project, its REST body, and (buckets) its objects."""

    project: str
    body: dict[str, Any]
    objects: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # Test hook: a GET of this resource answers 403, as for a caller allowed to list but not to read.
    denied: bool = False


class FakeGcpState(BaseModel):
    collections: dict[str, dict[str, FakeResource]] = Field(default_factory=lambda: {name: {} for name in COLLECTIONS})

    def collection(self, name: str) -> dict[str, FakeResource]:
        return self.collections.setdefault(name, {})


def fake_api_path() -> Path:
    """Where the fake keeps its data: next to the simulated engine's state."""
    from provisioner.paths import home

    return home() / "simulated" / FILE_NAME


class GcpFakeStore:
    """Locked, atomic access to the fake API's JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or fake_api_path()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        from provisioner.paths import private_dir

        private_dir(self.path.parent)
        # flock on a separate open file description also excludes other threads of this process.
        descriptor = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _load(self) -> FakeGcpState:
        try:
            return FakeGcpState.model_validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return FakeGcpState()

    def read(self) -> FakeGcpState:
        """A consistent snapshot of every collection."""
        with self._locked():
            return self._load()

    @contextmanager
    def edit(self) -> Iterator[FakeGcpState]:
        """Change the data under the lock; it is written back (atomically) when the block ends without error."""
        from provisioner.paths import write_private_file

        with self._locked():
            state = self._load()
            yield state
            write_private_file(self.path, state.model_dump_json(indent=1).encode())

    def put(self, collection: str, key: str, project: str, body: dict[str, Any]) -> None:
        """Create or replace a resource (its objects and test flags are kept on a replace)."""
        with self.edit() as state:
            old = state.collection(collection).get(key)
            state.collection(collection)[key] = FakeResource(
                project=project, body=body, objects=old.objects if old else {}, denied=old.denied if old else False
            )

    def delete(self, collection: str, key: str, *, force: bool = False) -> None:
        """Delete a resource as the real API would, refusing what it refuses.

        Raises:
            FakeApiError: 404 when it is not there; 409 for a non-empty bucket (unless ``force``, as
                the provider's force_destroy empties it first); 400 for a network with subnetworks or a
                Cloud SQL instance with deletion protection on.
        """
        with self.edit() as state:
            resources = state.collection(collection)
            resource = resources.get(key)
            if resource is None:
                raise not_found(key)
            if collection == BUCKETS and resource.objects and not force:
                raise FakeApiError(409, "CONFLICT", "The bucket you tried to delete is not empty.", "conflict")
            if collection == NETWORKS:
                users = [path for path, sub in state.collection(SUBNETWORKS).items() if str(sub.body.get("network", "")).endswith(key)]
                if users:
                    raise FakeApiError(
                        400, "BAD_REQUEST", f"The network resource '{key}' is already being used by '{users[0]}'",
                        "resourceInUseByAnotherResource",
                    )
            if collection == INSTANCES and resource.body.get("settings", {}).get("deletionProtectionEnabled"):
                # The message is ours; the real API refuses with a 4xx too.
                raise FakeApiError(
                    400, "FAILED_PRECONDITION", f"The instance {key} has deletion protection enabled; turn it off first.", "instanceProtected"
                )
            del resources[key]
