"""The GCP sweep takes only what this deployment owns, reads every page, reports what it cannot read, and keeps prod data."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from provisioner.engine.emulators.gcp_api.server import FakeGcpServer
from provisioner.engine.emulators.gcp_api.store import (
    ADDRESSES,
    BUCKETS,
    CLUSTERS,
    INSTANCES,
    NETWORKS,
    REPOSITORIES,
    SERVICE_ACCOUNTS,
    SUBNETWORKS,
    GcpFakeStore,
)
from provisioner.recipe_api import TAG_DEPLOYMENT, TAG_ENV, TAG_STACK
from provisioner.teardown.gcp_sweep import LABEL_DEPLOYMENT, LABEL_ENV, LABEL_STACK, GcpEndpoints, GcpSweeper
from provisioner.teardown.sweep_report import SweepScope
from tests.helpers import deploy_cli, destroy_cli

PROJECT = "proj-shared"
REGION = "europe-west1"
OURS = "a" * 26
THEIRS = "b" * 26
COMPUTE = "https://www.googleapis.com/compute/v1"


@pytest.fixture()
def fake() -> Iterator[FakeGcpServer]:
    with FakeGcpServer() as server:
        yield server


def _labels(deployment: str, stack: str = "gcp-staging") -> dict[str, str]:
    return {LABEL_STACK: stack, LABEL_ENV: "staging", LABEL_DEPLOYMENT: deployment}


def _stack(store: GcpFakeStore, tag: str, deployment: str) -> dict[str, str]:
    """One deployment's resources of every kind the sweep lists; returns kind -> id as the sweep reports them."""
    labels = _labels(deployment)
    network = f"projects/{PROJECT}/global/networks/net-{tag}"
    ids = {
        "gcs-bucket": f"bucket-{tag}",
        "artifact-repository": f"projects/{PROJECT}/locations/{REGION}/repositories/images-{tag}",
        "gke-cluster": f"projects/{PROJECT}/locations/{REGION}-b/clusters/gke-{tag}",
        "cloudsql-instance": f"db-{tag}",
        "compute-global-address": f"projects/{PROJECT}/global/addresses/range-{tag}",
        "compute-subnetwork": f"projects/{PROJECT}/regions/{REGION}/subnetworks/sub-{tag}",
        "compute-network": network,
        "service-account": f"projects/{PROJECT}/serviceAccounts/sa-{tag}@{PROJECT}.iam.gserviceaccount.com",
    }
    store.put(BUCKETS, ids["gcs-bucket"], PROJECT, {"name": ids["gcs-bucket"], "location": REGION.upper(), "labels": labels})
    store.put(REPOSITORIES, ids["artifact-repository"], PROJECT, {"name": ids["artifact-repository"], "labels": labels})
    store.put(CLUSTERS, ids["gke-cluster"], PROJECT, {"name": f"gke-{tag}", "location": f"{REGION}-b", "resourceLabels": labels})
    store.put(INSTANCES, f"projects/{PROJECT}/instances/db-{tag}", PROJECT,
              {"name": f"db-{tag}", "region": REGION, "settings": {"userLabels": labels, "deletionProtectionEnabled": True}})
    store.put(ADDRESSES, ids["compute-global-address"], PROJECT, {"name": f"range-{tag}", "labels": labels})
    store.put(SUBNETWORKS, ids["compute-subnetwork"], PROJECT,
              {"name": f"sub-{tag}", "region": f"{COMPUTE}/projects/{PROJECT}/regions/{REGION}", "network": f"{COMPUTE}/{network}"})
    store.put(NETWORKS, network, PROJECT, {"name": f"net-{tag}"})
    store.put(SERVICE_ACCOUNTS, ids["service-account"], PROJECT, {"name": ids["service-account"], "email": f"sa-{tag}@{PROJECT}.iam.gserviceaccount.com"})
    return ids


def _sweeper(server: FakeGcpServer, owned: tuple[str, ...] = (), page_size: int | None = None) -> GcpSweeper:
    scope = SweepScope("gcp-staging", OURS, owned_ids=owned)
    return GcpSweeper(scope, PROJECT, REGION, endpoints=GcpEndpoints.all_at(server.url), page_size=page_size, retry_wait_s=0.01)


def _left(store: GcpFakeStore) -> dict[str, list[str]]:
    return {name: sorted(resources) for name, resources in store.read().collections.items() if resources}


def test_label_keys_are_the_ones_the_gcp_recipe_writes() -> None:
    from recipes.gcp.labels import gcp_labels

    assert sorted(gcp_labels({TAG_STACK: "s", TAG_ENV: "e", TAG_DEPLOYMENT: "d"})) == sorted([LABEL_STACK, LABEL_ENV, LABEL_DEPLOYMENT])


def test_the_sweep_deletes_every_kind_of_ours_and_never_touches_a_neighbours_stack_in_the_same_project(fake: FakeGcpServer) -> None:
    ours = _stack(fake.store, "ours", OURS)
    theirs = _stack(fake.store, "theirs", THEIRS)
    with fake.store.edit() as state:  # a bucket the destroy could not delete: it holds an object
        state.collection(BUCKETS)["bucket-ours"].objects["model.pkl"] = {"name": "model.pkl", "generation": "3"}
    owned = (ours["compute-subnetwork"], ours["compute-network"], ours["service-account"])

    result = _sweeper(fake, owned).sweep(delete_data=True)

    assert [(item.kind, item.id) for item in result.deleted] == [
        ("gke-cluster", ours["gke-cluster"]), ("cloudsql-instance", "db-ours"),
        ("compute-global-address", ours["compute-global-address"]), ("compute-subnetwork", ours["compute-subnetwork"]),
        ("compute-network", ours["compute-network"]), ("gcs-bucket", "bucket-ours"),
        ("artifact-repository", ours["artifact-repository"]), ("service-account", ours["service-account"]),
    ]
    assert result.remaining == [] and result.errors == {}
    assert _left(fake.store) == {
        "buckets": ["bucket-theirs"], "repositories": [theirs["artifact-repository"]], "clusters": [theirs["gke-cluster"]],
        "instances": [f"projects/{PROJECT}/instances/db-theirs"], "networks": [theirs["compute-network"]],
        "subnetworks": [theirs["compute-subnetwork"]], "addresses": [theirs["compute-global-address"]],
        "serviceAccounts": [theirs["service-account"]],
    }
    assert not [path for method, path in fake.requests if method in ("DELETE", "PATCH") and "theirs" in path]


def test_an_unlabelled_network_named_like_ours_is_left_without_our_state_to_prove_it(fake: FakeGcpServer) -> None:
    ours = _stack(fake.store, "ours", OURS)

    found = _sweeper(fake).find()  # our state holds no network, subnetwork or service account

    assert sorted(item.kind for item in found) == ["artifact-repository", "cloudsql-instance", "compute-global-address", "gcs-bucket", "gke-cluster"]
    assert ours["compute-network"] in _left(fake.store)["networks"]


def test_the_sweep_follows_every_page_of_every_list(fake: FakeGcpServer) -> None:
    for index in range(4):
        _stack(fake.store, f"ours{index}", OURS)
        _stack(fake.store, f"theirs{index}", THEIRS)
    owned = tuple(f"projects/{PROJECT}/serviceAccounts/sa-ours{i}@{PROJECT}.iam.gserviceaccount.com" for i in range(4))

    found = _sweeper(fake, owned, page_size=3).find()

    lists = Counter(path for method, path in fake.requests if method == "GET")
    assert {path: lists[path] for path in (
        "/storage/v1/b", f"/v1/projects/{PROJECT}/instances", f"/compute/v1/projects/{PROJECT}/global/networks",
        f"/v1/projects/{PROJECT}/locations/{REGION}/repositories", f"/v1/projects/{PROJECT}/serviceAccounts",
    )} == {"/storage/v1/b": 3, f"/v1/projects/{PROJECT}/instances": 3, f"/compute/v1/projects/{PROJECT}/global/networks": 3,
           f"/v1/projects/{PROJECT}/locations/{REGION}/repositories": 3, f"/v1/projects/{PROJECT}/serviceAccounts": 3}  # 8 each: 3+3+2
    assert Counter(item.kind for item in found) == Counter(
        {"gke-cluster": 4, "cloudsql-instance": 4, "compute-global-address": 4, "artifact-repository": 4, "gcs-bucket": 4, "service-account": 4}
    )
    assert {item.deployment for item in found} == {OURS}


def test_a_resource_whose_labels_cannot_be_read_is_reported_unreadable_and_kept(fake: FakeGcpServer) -> None:
    fake.store.put(BUCKETS, "locked", PROJECT, {"name": "locked", "location": "EU", "labels": _labels(OURS)})
    with fake.store.edit() as state:
        state.collection(BUCKETS)["locked"].denied = True

    result = _sweeper(fake).sweep(delete_data=True)

    assert [(item.kind, item.id, item.detail) for item in result.remaining] == [
        ("unreadable", "locked", "gcs-bucket: could not read its labels: HTTP 403: Permission denied on resource 'locked' (or it may not exist).")
    ]
    assert result.deleted == [] and _left(fake.store) == {"buckets": ["locked"]}


def test_without_delete_data_our_bucket_and_database_are_kept_and_the_rest_swept(fake: FakeGcpServer) -> None:
    ours = _stack(fake.store, "ours", OURS)

    result = _sweeper(fake).sweep(delete_data=False)

    assert sorted((item.kind, item.id) for item in result.kept) == [("cloudsql-instance", "db-ours"), ("gcs-bucket", "bucket-ours")]
    assert sorted(item.kind for item in result.deleted) == ["artifact-repository", "compute-global-address", "gke-cluster"]
    assert _left(fake.store)["instances"] == [f"projects/{PROJECT}/instances/db-ours"]
    assert _left(fake.store)["buckets"] == ["bucket-ours"] and "repositories" not in _left(fake.store)
    assert ours["compute-network"] in _left(fake.store)["networks"]


def _deployment_id(env: str) -> str:
    path = Path(os.environ["PROVISIONER_HOME"]) / "simulated" / "provisioner-gcp" / f"{env}.json"
    return str(json.loads(path.read_text())["deployment_id"])


def test_destroy_stack_gcp_staging_simulate_sweeps_a_lost_bucket_of_ours_through_the_fake_api_and_says_so() -> None:
    assert deploy_cli("gcp", "--env", "staging", "--simulate").exit_code == 0
    deployment = _deployment_id("staging")
    store = GcpFakeStore()  # a bucket the engine does not know about, labelled as this deployment's
    store.put(BUCKETS, "gcp-staging-lost", "provisioner-simulated",
              {"name": "gcp-staging-lost", "location": "EUROPE-WEST1", "labels": _labels(deployment)})
    store.put(BUCKETS, "gcp-staging-neighbour", "provisioner-simulated",
              {"name": "gcp-staging-neighbour", "location": "EUROPE-WEST1", "labels": _labels(THEIRS)})

    result = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    sweep = next(index for index, line in enumerate(lines) if line.startswith("Leftover sweep"))
    assert lines[sweep : sweep + 2] == [
        "Leftover sweep of GCP project provisioner-simulated (region europe-west1) through the simulated GCP API on 127.0.0.1 "
        "(46 API calls): deleted 1, kept 0, still there 0.",
        "  swept gcs-bucket gcp-staging-lost (europe-west1)",
    ]
    assert lines[sweep - 1].endswith(f"and swept 1 leftover(s) carrying deployment id {deployment}.")
    assert _left(store) == {"buckets": ["gcp-staging-neighbour"]}


def test_gcp_prod_destroy_keeps_the_bucket_and_database_in_the_fake_and_the_sweep_reports_them_kept() -> None:
    assert deploy_cli("gcp", "--env", "prod", "--simulate", "--yes").exit_code == 0

    result = destroy_cli("gcp", "--env", "prod", "--simulate", "--yes", "--output", "json")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["report"]
    assert sorted(item["kind"] for item in report["kept_leftovers"]) == ["cloudsql-instance", "compute-global-address", "compute-network", "gcs-bucket"]
    assert report["swept"] == [] and report["remaining"] == []
    left = _left(GcpFakeStore())
    assert sorted(left) == ["addresses", "buckets", "instances", "networks"]
    assert left["instances"][0].startswith("projects/provisioner-simulated/instances/gcp-prod-mlflow-db-postgres")


def test_without_state_destroy_reports_what_carries_the_stacks_labels_and_adopt_deletes_only_what_labels_prove() -> None:
    assert deploy_cli("gcp", "--env", "staging", "--simulate").exit_code == 0
    deployment = _deployment_id("staging")
    (Path(os.environ["PROVISIONER_HOME"]) / "simulated" / "provisioner-gcp" / "staging.json").unlink()  # the state is lost
    before = _left(GcpFakeStore())

    surveyed = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes")

    assert surveyed.exit_code == 0, surveyed.stdout + surveyed.stderr
    assert surveyed.stdout.splitlines()[1] == (
        f"5 resource(s) carry the stack's tag with deployment id {deployment}, env staging (the registry knows this deployment)."
    )
    assert _left(GcpFakeStore()) == before

    adopted = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes", "--adopt", deployment, "--output", "json")

    assert adopted.exit_code == 1  # networks and service accounts cannot be proven ours: reported, left, and the stack stays registered
    report = json.loads(adopted.stdout)["report"]
    assert sorted(item["kind"] for item in report["swept"]) == [
        "artifact-repository", "cloudsql-instance", "compute-global-address", "gcs-bucket", "gke-cluster",
    ]
    assert sorted(item["id"] for item in report["remaining"]) == sorted(before["networks"] + before["serviceAccounts"] + before["subnetworks"])
    assert {item["kind"] for item in report["remaining"]} == {"unknown"}
    assert sorted(_left(GcpFakeStore())) == ["networks", "serviceAccounts", "subnetworks"]


def test_a_throttled_or_failing_call_is_retried_and_then_succeeds() -> None:
    import httpx

    answers = iter([httpx.Response(503, json={"error": {"message": "backend error"}}), httpx.Response(429, json={}), httpx.Response(200, json={})])
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return next(answers) if request.url.path == "/storage/v1/b" else httpx.Response(200, json={})

    sweeper = GcpSweeper(SweepScope("gcp-staging", OURS), PROJECT, REGION, transport=httpx.MockTransport(handler), retry_wait_s=0.001)

    assert sweeper.find() == []
    assert seen.count("/storage/v1/b") == 3 and sweeper.calls == len(seen)


def test_the_real_apis_need_google_auth_and_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from provisioner.teardown.gcp_sweep import MissingGoogleAuthError, google_auth

    monkeypatch.setitem(sys.modules, "google.auth", None)

    with pytest.raises(MissingGoogleAuthError, match=r"^the GCP leftover sweep needs google-auth: pip install 'provisioner\[gcp\]'$"):
        google_auth()


def test_a_neighbour_stack_deployed_into_the_same_project_keeps_every_resource_when_ours_is_destroyed() -> None:
    assert deploy_cli("gcp", "--env", "staging", "--simulate", "--name", "team-b").exit_code == 0
    neighbour = _left(GcpFakeStore())
    assert deploy_cli("gcp", "--env", "staging", "--simulate").exit_code == 0

    result = destroy_cli("gcp", "--env", "staging", "--simulate", "--yes", "--output", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["report"]["swept"] == []
    assert _left(GcpFakeStore()) == neighbour


def test_a_zone_gke_could_not_list_is_reported_unreadable() -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/locations/-/clusters"):
            return httpx.Response(200, json={"missingZones": ["europe-west1-c"]})
        return httpx.Response(200, json={})

    sweeper = GcpSweeper(SweepScope("gcp-staging", OURS), PROJECT, REGION, transport=httpx.MockTransport(handler))

    assert [(item.kind, item.id, item.detail) for item in sweeper.find()] == [
        ("unreadable", f"projects/{PROJECT}/locations/europe-west1-c", "gke-cluster: GKE could not list the clusters of zone europe-west1-c")
    ]
