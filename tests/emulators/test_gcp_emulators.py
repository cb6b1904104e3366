"""The GCP emulators: deterministic, provider-shaped outputs for every emulated type (there is no GCP
emulator to create anything in), stable across repeated creates and kept by updates; passwords never
reach the state; and a pulumi_gcp program sees the values it would get from the real provider."""

from __future__ import annotations

import base64
import copy
import importlib
import inspect
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from provisioner.engine.emulators import EmulationContext, handler_for
from provisioner.engine.emulators import gcp
from provisioner.engine.emulators.kubernetes import KubernetesObjectEmulator
from provisioner.engine.simulated import run_program_with_mocks
from tests.emulators.chain import as_wire
from tests.recipes.mocks import RecordingMocks

PROJECT = "mlops-sim-4711"
REGION = "europe-west1"
DB_PASSWORD = "gcp-s3cr3t-Passw0rd-never-in-state"
ROOT_PASSWORD = "gcp-r00t-Passw0rd-never-in-state"
NETWORK_ID = f"projects/{PROJECT}/global/networks/mlops-vpc"
CLUSTER_ID = f"projects/{PROJECT}/locations/{REGION}/clusters/mlops-gke"
REPOSITORY_ID = f"projects/{PROJECT}/locations/{REGION}/repositories/images"
SA_EMAIL = f"mlflow@{PROJECT}.iam.gserviceaccount.com"
COMPUTE = "https://www.googleapis.com/compute/v1"


def _ctx(**overrides: Any) -> EmulationContext:
    settings = {"stack": "dev", "project": "provisioner-gcp", "region": REGION, "project_id": PROJECT, **overrides}
    return EmulationContext(**settings)


def _create(type_token: str, name: str, inputs: dict[str, Any], ctx: EmulationContext | None = None) -> tuple[str, dict[str, Any]]:
    return handler_for(type_token).create(name, type_token, as_wire(inputs), ctx or _ctx())


# Realistic inputs for each type, as a GKE + Cloud SQL + GCS + Artifact Registry stack would send them.
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "network": ("gcp:compute/network:Network", "vpc", {
        "name": "mlops-vpc", "autoCreateSubnetworks": False, "routingMode": "REGIONAL",
    }),
    "subnetwork": ("gcp:compute/subnetwork:Subnetwork", "nodes", {
        "name": "mlops-nodes", "network": NETWORK_ID, "region": REGION, "ipCidrRange": "10.10.0.0/20",
        "privateIpGoogleAccess": True,
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.20.0.0/14"}, {"rangeName": "services", "ipCidrRange": "10.24.0.0/20"}],
    }),
    "global_address": ("gcp:compute/globalAddress:GlobalAddress", "psa-range", {
        "name": "mlops-psa", "purpose": "VPC_PEERING", "addressType": "INTERNAL", "prefixLength": 16, "network": NETWORK_ID,
    }),
    "connection": ("gcp:servicenetworking/connection:Connection", "psa", {
        "network": NETWORK_ID, "service": "servicenetworking.googleapis.com", "reservedPeeringRanges": ["mlops-psa"],
    }),
    "cluster": ("gcp:container/cluster:Cluster", "gke", {
        "name": "mlops-gke", "location": REGION, "network": NETWORK_ID,
        "subnetwork": f"projects/{PROJECT}/regions/{REGION}/subnetworks/mlops-nodes",
        "initialNodeCount": 1, "removeDefaultNodePool": True, "deletionProtection": False,
        "ipAllocationPolicy": {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"},
        "workloadIdentityConfig": {"workloadPool": f"{PROJECT}.svc.id.goog"},
        "releaseChannel": {"channel": "REGULAR"},
        "resourceLabels": {"env": "dev", "app": "mlops"},
    }),
    "node_pool": ("gcp:container/nodePool:NodePool", "workers", {
        "name": "ml-workers", "cluster": CLUSTER_ID, "nodeCount": 2,
        "autoscaling": {"minNodeCount": 1, "maxNodeCount": 3},
        "nodeConfig": {"machineType": "e2-standard-4", "diskSizeGb": 50, "serviceAccount": SA_EMAIL,
                       "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"], "labels": {"workload": "ml"}},
    }),
    "bucket": ("gcp:storage/bucket:Bucket", "artifacts", {
        "name": "mlops-artifacts-dev", "location": "europe-west1", "uniformBucketLevelAccess": True,
        "forceDestroy": True, "versioning": {"enabled": True}, "labels": {"env": "dev"},
    }),
    "repository": ("gcp:artifactregistry/repository:Repository", "images", {
        "repositoryId": "images", "location": REGION, "format": "DOCKER", "description": "model images", "labels": {"env": "dev"},
    }),
    "account": ("gcp:serviceaccount/account:Account", "mlflow-sa", {"accountId": "mlflow", "displayName": "MLflow server"}),
    "project_iam": ("gcp:projects/iAMMember:IAMMember", "mlflow-sql-client", {
        "project": PROJECT, "role": "roles/cloudsql.client", "member": f"serviceAccount:{SA_EMAIL}",
    }),
    "sa_iam": ("gcp:serviceaccount/iAMMember:IAMMember", "mlflow-wi", {
        "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}", "role": "roles/iam.workloadIdentityUser",
        "member": f"serviceAccount:{PROJECT}.svc.id.goog[mlflow/mlflow]",
    }),
    "bucket_iam": ("gcp:storage/bucketIAMMember:BucketIAMMember", "mlflow-artifacts", {
        "bucket": "mlops-artifacts-dev", "role": "roles/storage.objectAdmin", "member": f"serviceAccount:{SA_EMAIL}",
    }),
    "repository_iam": ("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "nodes-pull", {
        "repository": REPOSITORY_ID, "role": "roles/artifactregistry.reader", "member": f"serviceAccount:{SA_EMAIL}",
    }),
    "database_instance": ("gcp:sql/databaseInstance:DatabaseInstance", "db", {
        "name": "mlops-db", "region": REGION, "databaseVersion": "POSTGRES_16", "deletionProtection": False,
        "rootPassword": ROOT_PASSWORD,
        "settings": {"edition": "ENTERPRISE", "tier": "db-custom-1-3840", "ipConfiguration": {"ipv4Enabled": False, "privateNetwork": NETWORK_ID},
                     "backupConfiguration": {"enabled": True}, "userLabels": {"env": "dev"}},
    }),
    "database": ("gcp:sql/database:Database", "mlflow-db", {"name": "mlflow", "instance": "mlops-db"}),
    "user": ("gcp:sql/user:User", "mlflow-user", {"name": "mlflow", "instance": "mlops-db", "password": DB_PASSWORD}),
    "service": ("gcp:projects/service:Service", "container-api", {"service": "container.googleapis.com", "disableOnDestroy": False}),
}

EXPECTED_IDS = {
    "network": NETWORK_ID,
    "subnetwork": f"projects/{PROJECT}/regions/{REGION}/subnetworks/mlops-nodes",
    "global_address": f"projects/{PROJECT}/global/addresses/mlops-psa",
    "connection": f"{NETWORK_ID}:servicenetworking.googleapis.com",
    "cluster": CLUSTER_ID,
    "node_pool": f"{CLUSTER_ID}/nodePools/ml-workers",
    "bucket": "mlops-artifacts-dev",
    "repository": REPOSITORY_ID,
    "account": f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}",
    "project_iam": f"{PROJECT}/roles/cloudsql.client/serviceAccount:{SA_EMAIL}",
    "sa_iam": f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}/roles/iam.workloadIdentityUser/serviceAccount:{PROJECT}.svc.id.goog[mlflow/mlflow]",
    "bucket_iam": f"b/mlops-artifacts-dev/roles/storage.objectAdmin/serviceAccount:{SA_EMAIL}",
    "repository_iam": f"{REPOSITORY_ID}/roles/artifactregistry.reader/serviceAccount:{SA_EMAIL}",
    "database_instance": "mlops-db",
    "database": f"projects/{PROJECT}/instances/mlops-db/databases/mlflow",
    "user": "mlflow//mlops-db",
    "service": f"{PROJECT}/container.googleapis.com",
}

# Values the provider computes (or defaults), per case.
EXPECTED_OUTPUTS: dict[str, dict[str, Any]] = {
    "network": {"name": "mlops-vpc", "project": PROJECT, "selfLink": f"{COMPUTE}/{NETWORK_ID}", "mtu": 1460, "gatewayIpv4": ""},
    "subnetwork": {
        "name": "mlops-nodes", "region": REGION, "project": PROJECT, "gatewayAddress": "10.10.0.1",
        "selfLink": f"{COMPUTE}/projects/{PROJECT}/regions/{REGION}/subnetworks/mlops-nodes",
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.20.0.0/14"}, {"rangeName": "services", "ipCidrRange": "10.24.0.0/20"}],
        "stackType": "IPV4_ONLY", "purpose": "PRIVATE",
    },
    "global_address": {
        "name": "mlops-psa", "prefixLength": 16, "addressType": "INTERNAL",
        "selfLink": f"{COMPUTE}/projects/{PROJECT}/global/addresses/mlops-psa",
    },
    "connection": {"peering": "servicenetworking-googleapis-com", "network": NETWORK_ID, "reservedPeeringRanges": ["mlops-psa"]},
    "cluster": {
        "name": "mlops-gke", "location": REGION, "project": PROJECT,
        "selfLink": f"https://container.googleapis.com/v1/{CLUSTER_ID}",
        "workloadIdentityConfig": {"workloadPool": f"{PROJECT}.svc.id.goog"},
        "resourceLabels": {"env": "dev", "app": "mlops"}, "effectiveLabels": {"env": "dev", "app": "mlops"},
        "deletionProtection": False, "nodeLocations": [f"{REGION}-a", f"{REGION}-b", f"{REGION}-c"],
    },
    "node_pool": {"name": "ml-workers", "cluster": "mlops-gke", "location": REGION, "project": PROJECT, "nodeCount": 2},
    "bucket": {
        "name": "mlops-artifacts-dev", "url": "gs://mlops-artifacts-dev", "location": "EUROPE-WEST1",
        "selfLink": "https://www.googleapis.com/storage/v1/b/mlops-artifacts-dev", "storageClass": "STANDARD",
        "uniformBucketLevelAccess": True, "project": PROJECT, "effectiveLabels": {"env": "dev"},
    },
    "repository": {
        "name": "images", "repositoryId": "images", "location": REGION, "project": PROJECT,
        "registryUri": f"{REGION}-docker.pkg.dev/{PROJECT}/images", "mode": "STANDARD_REPOSITORY",
    },
    "account": {
        "email": SA_EMAIL, "name": f"projects/{PROJECT}/serviceAccounts/{SA_EMAIL}", "member": f"serviceAccount:{SA_EMAIL}",
        "project": PROJECT, "disabled": False,
    },
    "project_iam": {"project": PROJECT},
    "sa_iam": {},
    "bucket_iam": {},
    "repository_iam": {"project": PROJECT, "location": REGION},
    "database_instance": {
        "name": "mlops-db", "region": REGION, "project": PROJECT, "connectionName": f"{PROJECT}:{REGION}:mlops-db",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/mlops-db",
        "publicIpAddress": "", "deletionProtection": False,
    },
    "database": {
        "name": "mlflow", "instance": "mlops-db", "charset": "UTF8", "collation": "en_US.UTF8",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{PROJECT}/instances/mlops-db/databases/mlflow",
    },
    "user": {"name": "mlflow", "instance": "mlops-db", "host": "", "project": PROJECT},
    "service": {"project": PROJECT, "service": "container.googleapis.com"},
}


# --- the output names pulumi_gcp declares ------------------------------------------------------------


def _class_for(type_token: str) -> type:
    module_path, _, class_name = type_token.split(":", 1)[1].partition(":")
    return getattr(importlib.import_module(f"pulumi_gcp.{module_path.split('/')[0]}"), class_name)


def _declared(cls: type) -> dict[str, str | None]:
    """Wire name -> nested output type name (None for scalars) of a pulumi_gcp resource or output type."""
    declared: dict[str, str | None] = {}
    for _, member in inspect.getmembers(cls, lambda m: isinstance(m, property)):
        if hasattr(member.fget, "_pulumi_name"):
            nested = re.search(r"outputs\.(\w+)", str(inspect.get_annotations(member.fget).get("return", "")))
            declared[member.fget._pulumi_name] = nested.group(1) if nested else None
    return declared


def _undeclared(value: dict[str, Any], cls: type, where: str) -> list[str]:
    """Keys of ``value`` (recursively) that ``cls`` does not declare."""
    declared = _declared(cls)
    wrong = []
    for key, item in value.items():
        if key not in declared:
            wrong.append(f"{where}.{key}")
            continue
        nested = declared[key]
        if nested is None:
            continue
        nested_class = getattr(importlib.import_module(cls.__module__.rsplit(".", 1)[0] + ".outputs"), nested)
        for element in item if isinstance(item, list) else [item]:
            if isinstance(element, dict):
                wrong += _undeclared(element, nested_class, f"{where}.{key}")
    return wrong


# --- per type ---------------------------------------------------------------------------------------


def test_every_token_exists_in_pulumi_gcp_and_has_its_emulator() -> None:
    import pulumi_gcp

    root = Path(pulumi_gcp.__file__).parent
    for type_token in gcp.HANDLERS:
        package = type_token.split(":")[1].split("/")[0]
        sources = "".join(path.read_text() for path in (root / package).glob("*.py"))
        assert f"'{type_token}'" in sources, type_token
        assert handler_for(type_token) is gcp.HANDLERS[type_token]
    assert {case[0] for case in CASES.values()} == set(gcp.HANDLERS)
    assert isinstance(handler_for("kubernetes:core/v1:Service"), KubernetesObjectEmulator)  # prefixes still apply


@pytest.mark.parametrize("case", list(CASES))
def test_create_returns_the_provider_id_and_outputs(case: str) -> None:
    type_token, name, inputs = CASES[case]
    resource_id, state = _create(type_token, name, inputs)

    assert resource_id == EXPECTED_IDS[case]
    for key, value in EXPECTED_OUTPUTS[case].items():
        assert state[key] == value, key
    public_inputs = {k: v for k, v in as_wire(inputs).items() if k not in ("password", "rootPassword")}
    assert all(key in state for key in public_inputs)
    assert _undeclared(state, _class_for(type_token), case) == []


@pytest.mark.parametrize("case", list(CASES))
def test_create_is_deterministic_and_update_keeps_generated_values(case: str) -> None:
    type_token, name, inputs = CASES[case]
    handler = handler_for(type_token)
    first_id, first = _create(type_token, name, inputs)
    second_id, second = _create(type_token, name, inputs)
    assert (first_id, first) == (second_id, second)

    unchanged = handler.update(first_id, name, as_wire(inputs), copy.deepcopy(first), _ctx())
    assert unchanged == first

    changed_inputs = {**inputs, "description": "changed"} if "description" in _declared(_class_for(type_token)) else dict(inputs)
    changed = handler.update(first_id, name, as_wire(changed_inputs), copy.deepcopy(first), _ctx())
    generated = {key for key in first if key not in as_wire(inputs)}
    assert {key: changed[key] for key in generated} == {key: first[key] for key in generated}


def test_update_keeps_values_the_service_generated_even_if_the_synthesis_would_differ() -> None:
    type_token, name, inputs = CASES["cluster"]
    resource_id, old = _create(type_token, name, inputs)
    old = {**old, "endpoint": "203.0.113.99", "masterVersion": "1.30.1-gke.1", "masterAuth": {**old["masterAuth"], "clusterCaCertificate": "Q0E="}}

    new = handler_for(type_token).update(resource_id, name, as_wire({**inputs, "resourceLabels": {"env": "dev"}}), old, _ctx())

    assert (new["endpoint"], new["masterVersion"], new["masterAuth"]["clusterCaCertificate"]) == ("203.0.113.99", "1.30.1-gke.1", "Q0E=")
    assert new["resourceLabels"] == new["effectiveLabels"] == {"env": "dev"}


def test_generated_values_look_like_the_services() -> None:
    _, network = _create(*CASES["network"][:2], CASES["network"][2])
    _, subnet = _create(*CASES["subnetwork"][:2], CASES["subnetwork"][2])
    _, address = _create(*CASES["global_address"][:2], CASES["global_address"][2])
    _, cluster = _create(*CASES["cluster"][:2], CASES["cluster"][2])
    _, pool = _create(*CASES["node_pool"][:2], CASES["node_pool"][2])
    _, bucket = _create(*CASES["bucket"][:2], CASES["bucket"][2])
    _, account = _create(*CASES["account"][:2], CASES["account"][2])
    _, grant = _create(*CASES["project_iam"][:2], CASES["project_iam"][2])
    _, database = _create(*CASES["database_instance"][:2], CASES["database_instance"][2])

    assert re.fullmatch(r"\d{19}", network["networkId"]) and network["numericId"] == network["networkId"]
    assert isinstance(subnet["subnetworkId"], int) and re.fullmatch(r"2024-.*-07:00", subnet["creationTimestamp"])

    block = ipaddress.ip_network(f"{address['address']}/16")
    assert block.subnet_of(ipaddress.ip_network("10.96.0.0/11")) and str(block.network_address) == address["address"]

    assert ipaddress.ip_address(cluster["endpoint"]) in ipaddress.ip_network("203.0.113.0/24")
    pem = base64.b64decode(cluster["masterAuth"]["clusterCaCertificate"]).decode()
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n") and pem.endswith("-----END CERTIFICATE-----\n")
    assert re.fullmatch(r"1\.\d+\.\d+-gke\.\d+", cluster["masterVersion"])

    assert [url.rsplit("/zones/", 1)[1].split("/")[0] for url in pool["instanceGroupUrls"]] == [f"{REGION}-a", f"{REGION}-b", f"{REGION}-c"]
    assert all(re.fullmatch(rf"{COMPUTE}/projects/{PROJECT}/zones/[a-z0-9-]+/instanceGroupManagers/gke-mlops-gke-ml-workers-[0-9a-f]{{8}}-grp", url)
               for url in pool["instanceGroupUrls"])
    assert [url.replace("/instanceGroups/", "/instanceGroupManagers/") for url in pool["managedInstanceGroupUrls"]] == pool["instanceGroupUrls"]
    assert pool["nodeConfig"]["machineType"] == "e2-standard-4" and pool["nodeConfig"]["imageType"] == "COS_CONTAINERD"

    assert bucket["timeCreated"].endswith("Z") and isinstance(bucket["projectNumber"], int)
    assert re.fullmatch(r"1\d{20}", account["uniqueId"])
    assert re.fullmatch(r"BwY[A-Za-z0-9+/]{8}=", grant["etag"])

    private_ip = ipaddress.ip_address(database["privateIpAddress"])
    assert private_ip in ipaddress.ip_network("10.96.0.0/11")
    assert database["ipAddresses"] == [{"type": "PRIVATE", "ipAddress": str(private_ip), "timeToRetire": ""}]
    assert database["firstIpAddress"] == str(private_ip)
    assert re.fullmatch(r"p\d{12}-[0-9a-f]{6}@gcp-sa-cloud-sql\.iam\.gserviceaccount\.com", database["serviceAccountEmailAddress"])
    assert database["settings"]["tier"] == "db-custom-1-3840" and database["settings"]["ipConfiguration"]["ipv4Enabled"] is False


def test_sql_passwords_never_reach_the_state() -> None:
    type_token, name, inputs = CASES["user"]
    resource_id, state = _create(type_token, name, inputs)
    updated = handler_for(type_token).update(resource_id, name, as_wire({**inputs, "password": DB_PASSWORD + "-rotated"}), state, _ctx())
    _, instance = _create(*CASES["database_instance"][:2], CASES["database_instance"][2])

    for value in (state, updated):
        assert "password" not in value and "passwordWo" not in value
        assert DB_PASSWORD not in json.dumps(value)
    assert "rootPassword" not in instance and ROOT_PASSWORD not in json.dumps(instance)


def test_defaults_come_from_the_context_and_names_are_pulumi_auto_names() -> None:
    ctx = _ctx(region="us-central1", project_id="other-project")
    network_id, network = _create("gcp:compute/network:Network", "vpc", {"autoCreateSubnetworks": False}, ctx)
    _, subnet = _create("gcp:compute/subnetwork:Subnetwork", "nodes", {"network": network_id, "ipCidrRange": "10.0.16.0/20"}, ctx)
    _, explicit = _create("gcp:compute/network:Network", "vpc", {"name": "given", "project": "pinned"}, ctx)
    _, default_project = _create("gcp:compute/network:Network", "vpc", {"name": "given"}, EmulationContext(stack="dev", project="p", region=REGION))
    bucket_id, bucket = _create("gcp:storage/bucket:Bucket", "artifacts", {"location": "US"}, ctx)
    _, public_db = _create("gcp:sql/databaseInstance:DatabaseInstance", "db", {"databaseVersion": "POSTGRES_16", "settings": {"edition": "ENTERPRISE", "tier": "db-f1-micro"}}, ctx)

    assert network["name"] == f"vpc-{ctx.suffix('vpc')}" and network_id == f"projects/other-project/global/networks/{network['name']}"
    assert subnet["region"] == "us-central1" and subnet["gatewayAddress"] == "10.0.16.1"
    assert explicit["selfLink"] == f"{COMPUTE}/projects/pinned/global/networks/given"
    assert default_project["project"] == "provisioner-simulated"
    assert bucket_id == bucket["name"] == f"artifacts-{ctx.suffix('artifacts')}" and bucket["url"] == f"gs://{bucket_id}"
    assert public_db["privateIpAddress"] == "" and [a["type"] for a in public_db["ipAddresses"]] == ["PRIMARY"]
    assert public_db["deletionProtection"] is True  # the provider's default


def test_node_pool_and_iam_accept_names_as_well_as_ids() -> None:
    _, by_name = _create("gcp:container/nodePool:NodePool", "workers", {"cluster": "mlops-gke", "location": f"{REGION}-b", "nodeCount": 1})
    _, repo_grant = _create("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember", "pull", {
        "repository": "images", "location": REGION, "role": "roles/artifactregistry.reader", "member": "allUsers",
    })
    grant_id, _ = _create("gcp:projects/iAMMember:IAMMember", "conditional", {
        "role": "roles/storage.admin", "member": "user:a@example.com", "condition": {"title": "expires", "expression": "true"},
    })

    assert by_name["cluster"] == "mlops-gke" and by_name["nodeLocations"] == [f"{REGION}-b"] and len(by_name["instanceGroupUrls"]) == 1
    assert repo_grant["project"] == PROJECT and repo_grant["location"] == REGION
    assert grant_id == f"{PROJECT}/roles/storage.admin/user:a@example.com/expires"


# --- a pulumi_gcp program under the mocks -----------------------------------------------------------


def test_pulumi_gcp_program_sees_provider_shaped_outputs() -> None:
    import pulumi
    import pulumi_gcp as gcp_sdk

    def program() -> None:
        network = gcp_sdk.compute.Network("vpc", auto_create_subnetworks=False)
        subnet = gcp_sdk.compute.Subnetwork(
            "nodes", network=network.id, region=REGION, ip_cidr_range="10.10.0.0/20", private_ip_google_access=True,
            secondary_ip_ranges=[gcp_sdk.compute.SubnetworkSecondaryIpRangeArgs(range_name="pods", ip_cidr_range="10.20.0.0/14")],
        )
        cluster = gcp_sdk.container.Cluster(
            "gke", location=REGION, network=network.name, subnetwork=subnet.name, initial_node_count=1,
            remove_default_node_pool=True, deletion_protection=False,
            workload_identity_config=gcp_sdk.container.ClusterWorkloadIdentityConfigArgs(workload_pool=f"{PROJECT}.svc.id.goog"),
        )
        bucket = gcp_sdk.storage.Bucket("artifacts", location="EU", uniform_bucket_level_access=True, force_destroy=True)
        pulumi.export("network_id", network.id)
        pulumi.export("network_self_link", network.self_link)
        pulumi.export("subnet_gateway", subnet.gateway_address)
        pulumi.export("subnet_ranges", subnet.secondary_ip_ranges.apply(lambda ranges: [r.range_name for r in ranges]))
        pulumi.export("cluster_id", cluster.id)
        pulumi.export("cluster_endpoint", cluster.endpoint)
        pulumi.export("cluster_ca", cluster.master_auth.cluster_ca_certificate)
        pulumi.export("workload_pool", cluster.workload_identity_config.apply(lambda c: c.workload_pool if c else None))
        pulumi.export("bucket_url", bucket.url)
        pulumi.export("bucket_name", bucket.name)

    ctx = _ctx()
    mocks = RecordingMocks(ctx)
    exports = {key: value.value for key, value in run_program_with_mocks(program, mocks, ctx.project, ctx.stack, False).items()}

    network_name = f"vpc-{ctx.suffix('vpc')}"
    cluster_name = f"gke-{ctx.suffix('gke')}"
    assert exports["network_id"] == f"projects/{PROJECT}/global/networks/{network_name}"
    assert exports["network_self_link"] == f"{COMPUTE}/{exports['network_id']}"
    assert exports["subnet_gateway"] == "10.10.0.1" and exports["subnet_ranges"] == ["pods"]
    assert exports["cluster_id"] == f"projects/{PROJECT}/locations/{REGION}/clusters/{cluster_name}"
    assert ipaddress.ip_address(exports["cluster_endpoint"]) in ipaddress.ip_network("203.0.113.0/24")
    assert base64.b64decode(exports["cluster_ca"]).startswith(b"-----BEGIN CERTIFICATE-----")
    assert exports["workload_pool"] == f"{PROJECT}.svc.id.goog"
    assert exports["bucket_name"] == f"artifacts-{ctx.suffix('artifacts')}" and exports["bucket_url"] == f"gs://{exports['bucket_name']}"

    recorded = {r.type: r for r in mocks.resources}
    assert recorded["gcp:container/cluster:Cluster"].inputs["network"] == network_name
    assert recorded["gcp:compute/subnetwork:Subnetwork"].inputs["network"] == exports["network_id"]
    assert recorded["gcp:storage/bucket:Bucket"].outputs["location"] == "EU"
