"""The fake GCP API answers as GCP does: real paths and shapes, pages, refusals, and what the simulated deploy fed it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from provisioner.engine.emulators.gcp_api.server import FakeGcpServer
from provisioner.engine.emulators.gcp_api.store import BUCKETS, INSTANCES, NETWORKS, SUBNETWORKS, GcpFakeStore
from tests.helpers import deploy_cli, destroy_cli

PROJECT = "proj-a"


@pytest.fixture()
def fake() -> Iterator[tuple[FakeGcpServer, httpx.Client]]:
    with FakeGcpServer() as server, httpx.Client(base_url=server.url) as client:
        yield server, client


def _bucket(store: GcpFakeStore, name: str, project: str = PROJECT) -> None:
    store.put(BUCKETS, name, project, {"kind": "storage#bucket", "name": name, "id": name})


def test_bucket_list_pages_with_max_results_and_next_page_token_and_keeps_to_the_project(fake: tuple[FakeGcpServer, httpx.Client]) -> None:
    server, client = fake
    for index in range(5):
        _bucket(server.store, f"b{index}")
    _bucket(server.store, "elsewhere", project="proj-b")

    first = client.get("/storage/v1/b", params={"project": PROJECT, "maxResults": 2}).json()
    second = client.get("/storage/v1/b", params={"project": PROJECT, "maxResults": 2, "pageToken": first["nextPageToken"]}).json()
    third = client.get("/storage/v1/b", params={"project": PROJECT, "maxResults": 2, "pageToken": second["nextPageToken"]}).json()

    assert [[b["name"] for b in page["items"]] for page in (first, second, third)] == [["b0", "b1"], ["b2", "b3"], ["b4"]]
    assert "nextPageToken" not in third
    assert first["kind"] == "storage#buckets"
    assert client.get("/storage/v1/b").status_code == 400  # project is required, as in GCS


def test_a_non_empty_bucket_is_refused_with_409_and_deleted_once_empty(fake: tuple[FakeGcpServer, httpx.Client]) -> None:
    server, client = fake
    _bucket(server.store, "full")
    with server.store.edit() as state:
        state.collection(BUCKETS)["full"].objects["dir/a.txt"] = {"name": "dir/a.txt", "bucket": "full", "generation": "7"}

    refused = client.delete("/storage/v1/b/full")
    assert (refused.status_code, refused.json()["error"]["message"]) == (409, "The bucket you tried to delete is not empty.")
    assert [o["name"] for o in client.get("/storage/v1/b/full/o", params={"versions": "true"}).json()["items"]] == ["dir/a.txt"]
    assert client.delete("/storage/v1/b/full/o/dir%2Fa.txt", params={"generation": "7"}).status_code == 204
    assert client.delete("/storage/v1/b/full").status_code == 204
    assert client.get("/storage/v1/b/full").status_code == 404


def test_a_network_with_a_subnetwork_is_refused_as_in_use(fake: tuple[FakeGcpServer, httpx.Client]) -> None:
    server, client = fake
    network = f"projects/{PROJECT}/global/networks/net"
    server.store.put(NETWORKS, network, PROJECT, {"kind": "compute#network", "name": "net"})
    subnet = f"projects/{PROJECT}/regions/europe-west1/subnetworks/sub"
    server.store.put(SUBNETWORKS, subnet, PROJECT, {"name": "sub", "network": f"https://www.googleapis.com/compute/v1/{network}"})

    refused = client.delete(f"/compute/v1/{network}")

    assert refused.status_code == 400
    assert refused.json()["error"]["errors"][0]["reason"] == "resourceInUseByAnotherResource"
    assert client.delete(f"/compute/v1/{subnet}").json()["status"] == "DONE"
    assert client.delete(f"/compute/v1/{network}").json()["kind"] == "compute#operation"


def test_a_protected_cloud_sql_instance_is_refused_until_patched(fake: tuple[FakeGcpServer, httpx.Client]) -> None:
    server, client = fake
    key = f"projects/{PROJECT}/instances/db"
    server.store.put(INSTANCES, key, PROJECT, {"kind": "sql#instance", "name": "db", "settings": {"deletionProtectionEnabled": True}})

    assert client.delete(f"/v1/{key}").status_code == 400
    assert client.patch(f"/v1/{key}", json={"settings": {"deletionProtectionEnabled": False}}).status_code == 200
    assert client.delete(f"/v1/{key}").json()["status"] == "DONE"
    assert client.get(f"/v1/projects/{PROJECT}/instances").json() == {"kind": "sql#instancesList"}


def test_a_denied_resource_is_listed_but_its_get_answers_403(fake: tuple[FakeGcpServer, httpx.Client]) -> None:
    server, client = fake
    _bucket(server.store, "locked")
    with server.store.edit() as state:
        state.collection(BUCKETS)["locked"].denied = True

    assert [b["name"] for b in client.get("/storage/v1/b", params={"project": PROJECT}).json()["items"]] == ["locked"]
    answer = client.get("/storage/v1/b/locked")
    assert (answer.status_code, answer.json()["error"]["status"]) == (403, "PERMISSION_DENIED")


def test_the_simulated_deploy_feeds_the_fake_and_destroy_empties_it() -> None:
    assert deploy_cli("gcp", "--env", "dev", "--simulate").exit_code == 0
    store = GcpFakeStore()

    fed = {name: sorted(resources) for name, resources in store.read().collections.items() if resources}

    assert sorted(fed) == ["buckets", "clusters", "networks", "repositories", "serviceAccounts", "subnetworks"]
    assert fed["clusters"] == ["projects/provisioner-simulated/locations/europe-west1-b/clusters/gcp-dev"]
    bucket = store.read().collection(BUCKETS)[fed["buckets"][0]].body
    assert bucket["labels"]["provisioner-stack"] == "gcp-dev" and len(bucket["labels"]["provisioner-deployment"]) == 26
    assert destroy_cli("gcp", "--env", "dev", "--simulate", "--yes").exit_code == 0
    assert {name: list(resources) for name, resources in store.read().collections.items() if resources} == {}


def test_a_resource_swept_from_the_fake_is_made_again_by_the_next_deploy() -> None:
    assert deploy_cli("gcp", "--env", "dev", "--simulate").exit_code == 0
    store = GcpFakeStore()
    bucket = next(iter(store.read().collection(BUCKETS)))
    store.delete(BUCKETS, bucket)  # gone behind the engine's back

    again = deploy_cli("gcp", "--env", "dev", "--simulate")

    assert again.exit_code == 0, again.stdout + again.stderr
    assert list(store.read().collection(BUCKETS)) == [bucket]
