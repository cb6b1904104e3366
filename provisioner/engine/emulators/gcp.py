"""GCP resources under simulation: no emulator exists, so the outputs the provider would return are
synthesized, deterministically, from the inputs and the resource's identity. The kinds a leftover sweep
lists (buckets, repositories, clusters, Cloud SQL instances, networks, subnetworks, global addresses,
service accounts) are also written to the fake GCP API (``gcp_api``), and removed from it on delete.

Every state is ``{**inputs, **computed}`` with the camelCase output names pulumi_gcp declares. Generated
values (numeric ids, timestamps, fingerprints, addresses, certificates) are derived from the resource's
path, so the same inputs give the same outputs, and an update keeps the values the resource already has.
The project is the ``project`` input, else ``ctx.project_id``; the region or location is the input, else
``ctx.region``. Secrets (passwords) never enter the state.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from provisioner.engine.emulators.base import EmulationContext, Emulator
from provisioner.engine.emulators.gcp_api import feed

COMPUTE_API = "https://www.googleapis.com/compute/v1"
CONTAINER_API = "https://container.googleapis.com/v1"
STORAGE_API = "https://www.googleapis.com/storage/v1"
SQL_API = "https://sqladmin.googleapis.com/sql/v1beta4"

SERVICE_NETWORKING_PEERING = "servicenetworking-googleapis-com"
PRIVATE_SERVICES_RANGE = ipaddress.ip_network("10.96.0.0/11")  # where private service ranges are allocated
DEFAULT_GKE_VERSION = "1.31.6-gke.1020000"

_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
_PACIFIC = timezone(timedelta(hours=-7))  # Compute Engine reports creation times in US Pacific time


# --- deterministic values ---------------------------------------------------------------------------


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()


def _int(*parts: object) -> int:
    return int.from_bytes(_digest(*parts), "big")


def _digits(count: int, *parts: object) -> str:
    """A ``count``-digit decimal number (no leading zero), like GCP's numeric ids."""
    low = 10 ** (count - 1)
    return str(low + _int("digits", *parts) % (9 * low))


def _hex(count: int, *parts: object) -> str:
    return _digest("hex", *parts).hex()[:count]


def _fingerprint(*parts: object) -> str:
    """An 8-byte base64 fingerprint, as Compute Engine and GKE report them."""
    return base64.b64encode(_digest("fingerprint", *parts)[:8]).decode()


def _etag(*parts: object) -> str:
    """An IAM policy etag (``BwY...=``: a version prefix and 6 bytes, base64)."""
    return base64.b64encode(b"\x07\x06" + _digest("etag", *parts)[:6]).decode()


def _moment(*parts: object) -> datetime:
    """A creation time within 2024, fixed by ``parts``."""
    return _EPOCH + timedelta(seconds=_int("time", *parts) % (365 * 86400), milliseconds=_int("ms", *parts) % 1000)


def _compute_time(moment: datetime) -> str:
    return moment.astimezone(_PACIFIC).isoformat(timespec="milliseconds")


def _utc_time(moment: datetime, timespec: str = "milliseconds") -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def _fake_pem(*parts: object, size: int = 780) -> str:
    """A PEM-armoured certificate-shaped blob (not a parseable certificate)."""
    blob = b"".join(_digest("pem", index, *parts) for index in range(size // 32 + 1))[:size]
    body = "\n".join(textwrap.wrap(base64.b64encode(blob).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def _kept(old: dict[str, Any] | None, key: str, make: Any) -> Any:
    """``old[key]`` when the resource already has a value for it, else ``make()``."""
    if old is not None and old.get(key) not in (None, "", [], {}):
        return old[key]
    return make()


def _host(cidr: str, index: int) -> str:
    """The ``index``-th address of ``cidr`` (1 is the first host)."""
    network = ipaddress.ip_network(str(cidr), strict=False)
    return str(network.network_address + index)


# --- inputs -----------------------------------------------------------------------------------------


def _project(inputs: dict[str, Any], ctx: EmulationContext) -> str:
    return str(inputs.get("project") or ctx.project_id)


def _where(inputs: dict[str, Any], ctx: EmulationContext, key: str) -> str:
    return str(inputs.get(key) or ctx.region)


def _name(
    name: str, inputs: dict[str, Any], ctx: EmulationContext, old: dict[str, Any] | None, key: str = "name", limit: int = 63
) -> str:
    """The given name; else the one the resource already has; else a Pulumi-style auto-name."""
    given = inputs.get(key)
    if given:
        return str(given)
    if old and old.get(key):
        return str(old[key])
    return ctx.physical_name(name, inputs, key=key, limit=limit)


def _last(reference: Any) -> str:
    """The last path segment of a self link or id (a plain name is returned as is)."""
    return str(reference or "").rstrip("/").rsplit("/", 1)[-1]


def _int_input(value: Any, default: int | None = None) -> int | None:
    """A numeric input as an int (the wire delivers every number as a float)."""
    return default if value is None else int(float(value))


def _labels(labels: Any) -> dict[str, str]:
    return {str(key): str(value) for key, value in (labels or {}).items()}


def _is_zone(location: str) -> bool:
    return re.fullmatch(r"[a-z]+-[a-z]+\d+-[a-z]", location) is not None


def _zones(location: str) -> list[str]:
    """The zones of a location: a zone is itself, a region has three."""
    if _is_zone(location):
        return [location]
    return [f"{location}-{letter}" for letter in "abc"]


# --- emulators --------------------------------------------------------------------------------------


class GcpEmulator(Emulator, ABC):
    """Synthesizes the state; an update rebuilds it from the new inputs, keeping generated values.

    A type with a ``rest_view`` is also written to the fake GCP API (create, update) and removed
    from it (delete), so a leftover sweep finds it there, as it would in a real project.
    """

    secret_inputs: tuple[str, ...] = ()
    rest_view: Callable[[str, dict[str, Any]], feed.RestResource] | None = None

    def create(self, name: str, resource_type: str, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        resource_id, state = self.build(name, self._public(inputs), ctx, None)
        return resource_id, self._published(resource_id, state)

    def update(self, resource_id: str, name: str, inputs: dict[str, Any], old: dict[str, Any], ctx: EmulationContext) -> dict[str, Any]:
        new_id, state = self.build(name, self._public(inputs), ctx, old)
        return self._published(new_id, state)

    def exists(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> bool:
        """A type the fake GCP API holds exists while the fake has it (a sweep may have deleted it); others always do."""
        return self.rest_view is None or feed.present(self.rest_view(resource_id, state))

    def delete(self, resource_id: str, state: dict[str, Any], ctx: EmulationContext) -> None:
        if self.rest_view is not None:
            feed.withdraw(self.rest_view(resource_id, state), force=bool(state.get("forceDestroy")))

    def _published(self, resource_id: str, state: dict[str, Any]) -> dict[str, Any]:
        if self.rest_view is not None:
            feed.publish(self.rest_view(resource_id, state))
        return state

    def _public(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in inputs.items() if key not in self.secret_inputs}

    @abstractmethod
    def build(
        self, name: str, inputs: dict[str, Any], ctx: EmulationContext, old: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any]]:
        """The id and state for ``inputs``; ``old`` is the current state on an update (None on create)."""


class NetworkEmulator(GcpEmulator):
    """gcp:compute/network:Network."""

    rest_view = staticmethod(feed.network)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        network = _name(name, inputs, ctx, old)
        path = f"projects/{project}/global/networks/{network}"
        numeric = _kept(old, "networkId", lambda: _digits(19, path))
        return path, {
            **inputs,
            "name": network,
            "project": project,
            "selfLink": f"{COMPUTE_API}/{path}",
            "networkId": numeric,
            "numericId": numeric,
            "gatewayIpv4": "",
            "autoCreateSubnetworks": bool(inputs.get("autoCreateSubnetworks", True)),
            "routingMode": inputs.get("routingMode") or "REGIONAL",
            "mtu": _int_input(inputs.get("mtu"), 1460),
            "networkFirewallPolicyEnforcementOrder": inputs.get("networkFirewallPolicyEnforcementOrder") or "AFTER_CLASSIC_FIREWALL",
            "deleteDefaultRoutesOnCreate": bool(inputs.get("deleteDefaultRoutesOnCreate", False)),
        }


class SubnetworkEmulator(GcpEmulator):
    """gcp:compute/subnetwork:Subnetwork; the gateway is the first host of the primary range."""

    rest_view = staticmethod(feed.subnetwork)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        region = _where(inputs, ctx, "region")
        subnet = _name(name, inputs, ctx, old)
        path = f"projects/{project}/regions/{region}/subnetworks/{subnet}"
        cidr = inputs.get("ipCidrRange")
        return path, {
            **inputs,
            "name": subnet,
            "project": project,
            "region": region,
            "selfLink": f"{COMPUTE_API}/{path}",
            "gatewayAddress": _host(cidr, 1) if cidr else "",
            "secondaryIpRanges": [dict(item) for item in inputs.get("secondaryIpRanges") or []],
            "subnetworkId": _kept(old, "subnetworkId", lambda: int(_digits(19, path))),
            "creationTimestamp": _kept(old, "creationTimestamp", lambda: _compute_time(_moment(path))),
            "fingerprint": _kept(old, "fingerprint", lambda: _fingerprint(path)),
            "purpose": inputs.get("purpose") or "PRIVATE",
            "stackType": inputs.get("stackType") or "IPV4_ONLY",
            "privateIpGoogleAccess": bool(inputs.get("privateIpGoogleAccess", False)),
            "privateIpv6GoogleAccess": inputs.get("privateIpv6GoogleAccess") or "DISABLE_GOOGLE_ACCESS",
        }


class GlobalAddressEmulator(GcpEmulator):
    """gcp:compute/globalAddress:GlobalAddress. An internal range (private services access) starts a
    deterministic block inside 10.96.0.0/11; an external address is a documentation-range IP."""

    rest_view = staticmethod(feed.global_address)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        address_name = _name(name, inputs, ctx, old)
        path = f"projects/{project}/global/addresses/{address_name}"
        address_type = inputs.get("addressType") or "EXTERNAL"
        prefix = _int_input(inputs.get("prefixLength"))
        address = inputs.get("address") or _kept(old, "address", lambda: self._allocate(path, address_type, prefix))
        labels = _labels(inputs.get("labels"))
        state = {
            **inputs,
            "name": address_name,
            "project": project,
            "address": address,
            "addressType": address_type,
            "selfLink": f"{COMPUTE_API}/{path}",
            "creationTimestamp": _kept(old, "creationTimestamp", lambda: _compute_time(_moment(path))),
            "labelFingerprint": _fingerprint(path, sorted(labels.items())),
            "effectiveLabels": labels,
            "pulumiLabels": labels,
        }
        if prefix is not None:
            state["prefixLength"] = prefix
        return path, state

    @staticmethod
    def _allocate(path: str, address_type: str, prefix: int | None) -> str:
        if address_type != "INTERNAL":
            return f"203.0.113.{1 + _int('external', path) % 254}"
        block = max(PRIVATE_SERVICES_RANGE.prefixlen, min(prefix or 16, 16))
        candidates = list(PRIVATE_SERVICES_RANGE.subnets(new_prefix=block))
        return str(candidates[_int("internal", path) % len(candidates)].network_address)


class ServiceNetworkingConnectionEmulator(GcpEmulator):
    """gcp:servicenetworking/connection:Connection (the peering Google creates for private services)."""

    def build(self, name, inputs, ctx, old):
        network, service = str(inputs.get("network") or ""), str(inputs.get("service") or "servicenetworking.googleapis.com")
        return f"{network}:{service}", {
            **inputs,
            "network": network,
            "service": service,
            "peering": SERVICE_NETWORKING_PEERING,
            "reservedPeeringRanges": list(inputs.get("reservedPeeringRanges") or []),
        }


class ClusterEmulator(GcpEmulator):
    """gcp:container/cluster:Cluster: endpoint, CA certificate, versions, and the Pod/Service ranges."""

    rest_view = staticmethod(feed.cluster)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        location = _where(inputs, ctx, "location")
        cluster = _name(name, inputs, ctx, old, limit=40)
        path = f"projects/{project}/locations/{location}/clusters/{cluster}"
        old_auth = (old or {}).get("masterAuth") or {}
        master_auth = {
            "clientCertificate": "",
            "clientKey": "",
            "clientCertificateConfig": {"issueClientCertificate": False},
            **(inputs.get("masterAuth") or {}),
            "clusterCaCertificate": old_auth.get("clusterCaCertificate")
            or base64.b64encode(_fake_pem("cluster-ca", path).encode()).decode(),
        }
        public_endpoint = self._public_endpoint(old) or f"203.0.113.{1 + _int('endpoint', path) % 254}"
        version = self._version(inputs.get("minMasterVersion"))
        labels = _labels(inputs.get("resourceLabels"))
        allocation = inputs.get("ipAllocationPolicy") or {}
        state: dict[str, Any] = {
            **inputs,
            "name": cluster,
            "project": project,
            "location": location,
            "selfLink": f"{CONTAINER_API}/{path}",
            "endpoint": public_endpoint,
            "masterAuth": master_auth,
            "masterVersion": _kept(old, "masterVersion", lambda: version),
            "nodeVersion": _kept(old, "nodeVersion", lambda: version),
            "clusterIpv4Cidr": allocation.get("clusterIpv4CidrBlock")
            or inputs.get("clusterIpv4Cidr")
            or _kept(old, "clusterIpv4Cidr", lambda: f"10.{4 * (_int('pods', path) % 60)}.0.0/14"),
            "servicesIpv4Cidr": allocation.get("servicesIpv4CidrBlock")
            or _kept(old, "servicesIpv4Cidr", lambda: "34.118.224.0/20"),
            "labelFingerprint": _hex(8, "labels", sorted(labels.items())),
            "resourceLabels": labels,
            "effectiveLabels": labels,
            "pulumiLabels": labels,
            "deletionProtection": bool(inputs.get("deletionProtection", True)),
            # a regional cluster's zones; a zonal cluster lists only the zones it has besides its own
            "nodeLocations": list(inputs.get("nodeLocations") or ([] if _is_zone(location) else _zones(location))),
        }
        private = inputs.get("privateClusterConfig")
        if private:
            master_cidr = private.get("masterIpv4CidrBlock")
            private_endpoint = _host(master_cidr, 2) if master_cidr else f"10.{_int('private', path) % 256}.0.2"
            state["privateClusterConfig"] = {
                **private,
                "privateEndpoint": private_endpoint,
                "publicEndpoint": "" if private.get("enablePrivateEndpoint") else public_endpoint,
                "peeringName": f"gke-n{_hex(18, 'peering', path)}-{_hex(4, 'peer', path)}-peer",
            }
            if private.get("enablePrivateEndpoint"):
                state["endpoint"] = private_endpoint
        return path, state

    @staticmethod
    def _public_endpoint(old: dict[str, Any] | None) -> str:
        """The public endpoint the cluster already has ('' on create)."""
        if not old:
            return ""
        private = old.get("privateClusterConfig") or {}
        if private.get("enablePrivateEndpoint"):
            return str(private.get("publicEndpoint") or "")
        return str(old.get("endpoint") or "")

    @staticmethod
    def _version(minimum: Any) -> str:
        """The version GKE picks: the minimum when it is a full version, else the newest patch of it."""
        if not minimum or str(minimum) == "latest":
            return DEFAULT_GKE_VERSION
        minimum = str(minimum)
        if "-gke." in minimum:
            return minimum
        parts = minimum.split(".")
        patch = parts[2] if len(parts) > 2 else "6"
        return f"{parts[0]}.{parts[1] if len(parts) > 1 else '31'}.{patch}-gke.1020000"


class NodePoolEmulator(GcpEmulator):
    """gcp:container/nodePool:NodePool: one managed instance group per zone of the pool."""

    _NODE_DEFAULTS = {
        "machineType": "e2-medium",
        "diskSizeGb": 100,
        "diskType": "pd-balanced",
        "imageType": "COS_CONTAINERD",
        "serviceAccount": "default",
        "oauthScopes": ["https://www.googleapis.com/auth/cloud-platform"],
    }

    def build(self, name, inputs, ctx, old):
        cluster_ref = str(inputs.get("cluster") or "")
        parsed = re.search(r"projects/([^/]+)/locations/([^/]+)/clusters/([^/]+)$", cluster_ref)
        project = str(inputs.get("project") or (parsed.group(1) if parsed else ctx.project_id))
        location = str(inputs.get("location") or (parsed.group(2) if parsed else ctx.region))
        cluster = parsed.group(3) if parsed else _last(cluster_ref)
        pool = _name(name, inputs, ctx, old, limit=40)
        path = f"projects/{project}/locations/{location}/clusters/{cluster}/nodePools/{pool}"
        zones = list(inputs.get("nodeLocations") or _zones(location))
        groups = _kept(old, "managedInstanceGroupUrls", lambda: [self._group(project, zone, cluster, pool, path) for zone in zones])
        autoscaling = inputs.get("autoscaling") or {}
        count = inputs.get("nodeCount", inputs.get("initialNodeCount", autoscaling.get("minNodeCount", 1)))
        return path, {
            **inputs,
            "name": pool,
            "project": project,
            "location": location,
            "cluster": cluster,
            "nodeLocations": zones,
            "nodeCount": _int_input(count, 1),
            "initialNodeCount": _int_input(inputs.get("initialNodeCount"), _int_input(count, 1)),
            "version": inputs.get("version") or _kept(old, "version", lambda: DEFAULT_GKE_VERSION),
            "nodeConfig": {**self._NODE_DEFAULTS, **(inputs.get("nodeConfig") or {})},
            "instanceGroupUrls": [url.replace("/instanceGroups/", "/instanceGroupManagers/") for url in groups],
            "managedInstanceGroupUrls": list(groups),
        }

    @staticmethod
    def _group(project: str, zone: str, cluster: str, pool: str, path: str) -> str:
        """``gke-<cluster>-<pool>-<hash>-grp`` as GKE names a pool's instance group (names truncated to fit 63)."""
        group = f"gke-{cluster[:20]}-{pool[:20]}-{_hex(8, 'group', path, zone)}-grp"
        return f"{COMPUTE_API}/projects/{project}/zones/{zone}/instanceGroups/{group}"


class BucketEmulator(GcpEmulator):
    """gcp:storage/bucket:Bucket (the provider stores the location upper-cased, as GCS reports it)."""

    rest_view = staticmethod(feed.bucket)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        bucket = _name(name, inputs, ctx, old)
        created = _kept(old, "timeCreated", lambda: _utc_time(_moment("bucket", bucket)))
        labels = _labels(inputs.get("labels"))
        return bucket, {
            **inputs,
            "name": bucket,
            "project": project,
            "projectNumber": int(_project_number(project)),
            "location": str(inputs.get("location") or "US").upper(),
            "url": f"gs://{bucket}",
            "selfLink": f"{STORAGE_API}/b/{bucket}",
            "storageClass": inputs.get("storageClass") or "STANDARD",
            "forceDestroy": bool(inputs.get("forceDestroy", False)),
            "uniformBucketLevelAccess": bool(inputs.get("uniformBucketLevelAccess", False)),
            "publicAccessPrevention": inputs.get("publicAccessPrevention") or "inherited",
            "softDeletePolicy": inputs.get("softDeletePolicy")
            or {"retentionDurationSeconds": 604800, "effectiveTime": created},
            "timeCreated": created,
            "updated": _kept(old, "updated", lambda: created),
            "effectiveLabels": labels,
            "pulumiLabels": labels,
        }


_FORMAT_HOSTS = {"DOCKER": "docker", "MAVEN": "maven", "NPM": "npm", "PYTHON": "python", "APT": "apt", "YUM": "yum",
                 "GO": "go", "KFP": "kfp", "GENERIC": "generic"}


class RepositoryEmulator(GcpEmulator):
    """gcp:artifactregistry/repository:Repository. The id is the full resource path; ``name`` is the
    short repository name, as the provider reports it (pulumi/pulumi-gcp#1105)."""

    rest_view = staticmethod(feed.repository)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        location = _where(inputs, ctx, "location")
        repository = _name(name, inputs, ctx, old, key="repositoryId")
        path = f"projects/{project}/locations/{location}/repositories/{repository}"
        repo_format = str(inputs.get("format") or "DOCKER").upper()
        created = _kept(old, "createTime", lambda: _utc_time(_moment(path), "microseconds"))
        labels = _labels(inputs.get("labels"))
        return path, {
            **inputs,
            "repositoryId": repository,
            "name": repository,
            "project": project,
            "location": location,
            "format": repo_format,
            "mode": inputs.get("mode") or "STANDARD_REPOSITORY",
            "registryUri": f"{location}-{_FORMAT_HOSTS.get(repo_format, repo_format.lower())}.pkg.dev/{project}/{repository}",
            "createTime": created,
            "updateTime": _kept(old, "updateTime", lambda: created),
            "effectiveLabels": labels,
            "pulumiLabels": labels,
        }


def _project_number(project: str) -> str:
    return _digits(12, "project-number", project)


class ServiceAccountEmulator(GcpEmulator):
    """gcp:serviceaccount/account:Account."""

    rest_view = staticmethod(feed.service_account)

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        account = _name(name, inputs, ctx, old, key="accountId", limit=30)
        email = f"{account}@{project}.iam.gserviceaccount.com"
        path = f"projects/{project}/serviceAccounts/{email}"
        return path, {
            **inputs,
            "accountId": account,
            "project": project,
            "email": email,
            "name": path,
            "member": f"serviceAccount:{email}",
            "uniqueId": _kept(old, "uniqueId", lambda: "1" + _digits(20, path)),
            "disabled": bool(inputs.get("disabled", False)),
        }


class _IamMemberEmulator(GcpEmulator):
    """A non-authoritative IAM grant: id ``<resource>/<role>/<member>[/<condition title>]`` and the policy etag."""

    def build(self, name, inputs, ctx, old):
        resource, extra = self.resource(inputs, ctx)
        condition = inputs.get("condition") or {}
        parts = [resource, str(inputs.get("role") or ""), str(inputs.get("member") or "")]
        if condition.get("title"):
            parts.append(str(condition["title"]))
        resource_id = "/".join(parts)
        return resource_id, {**inputs, **extra, "etag": _kept(old, "etag", lambda: _etag(resource_id))}

    @abstractmethod
    def resource(self, inputs: dict[str, Any], ctx: EmulationContext) -> tuple[str, dict[str, Any]]:
        """The id prefix naming the resource the grant is on, and the outputs the provider fills in."""


class ProjectIamMemberEmulator(_IamMemberEmulator):
    """gcp:projects/iAMMember:IAMMember."""

    def resource(self, inputs, ctx):
        project = _project(inputs, ctx)
        return project, {"project": project}


class ServiceAccountIamMemberEmulator(_IamMemberEmulator):
    """gcp:serviceaccount/iAMMember:IAMMember."""

    def resource(self, inputs, ctx):
        return str(inputs.get("serviceAccountId") or ""), {}


class BucketIamMemberEmulator(_IamMemberEmulator):
    """gcp:storage/bucketIAMMember:BucketIAMMember."""

    def resource(self, inputs, ctx):
        return f"b/{_last(inputs.get('bucket'))}", {}


class RepositoryIamMemberEmulator(_IamMemberEmulator):
    """gcp:artifactregistry/repositoryIamMember:RepositoryIamMember (``repository`` may be a name or the id)."""

    def resource(self, inputs, ctx):
        reference = str(inputs.get("repository") or "")
        parsed = re.search(r"projects/([^/]+)/locations/([^/]+)/repositories/([^/]+)$", reference)
        project = str(inputs.get("project") or (parsed.group(1) if parsed else ctx.project_id))
        location = str(inputs.get("location") or (parsed.group(2) if parsed else ctx.region))
        repository = parsed.group(3) if parsed else _last(reference)
        return f"projects/{project}/locations/{location}/repositories/{repository}", {"project": project, "location": location}


class DatabaseInstanceEmulator(GcpEmulator):
    """gcp:sql/databaseInstance:DatabaseInstance: addresses (private with a private network, public
    while ipv4 is enabled, as Cloud SQL defaults), connection name, server CA, service account."""

    rest_view = staticmethod(feed.sql_instance)

    secret_inputs = ("rootPassword", "rootPasswordWo")

    def build(self, name, inputs, ctx, old):
        from provisioner.facts import cloudsql

        settings = inputs.get("settings") or {}
        # Cloud SQL refuses a tier its edition does not offer (custom tiers on ENTERPRISE_PLUS, the default from PG 16).
        problem = cloudsql.tier_problem(str(inputs.get("databaseVersion") or ""), settings.get("edition"), str(settings.get("tier") or ""))
        if problem:
            raise RuntimeError(f"googleapi: Error 400: {problem}, invalid")
        project = _project(inputs, ctx)
        region = _where(inputs, ctx, "region")
        instance = _name(name, inputs, ctx, old, limit=98)
        path = f"projects/{project}/instances/{instance}"
        ip_configuration = settings.get("ipConfiguration") or {}
        private_ip = public_ip = ""
        if ip_configuration.get("privateNetwork"):
            private_ip = _kept(old, "privateIpAddress", lambda: self._private_ip(path))
        if ip_configuration.get("ipv4Enabled", True):
            public_ip = _kept(old, "publicIpAddress", lambda: f"198.51.100.{1 + _int('sql-public', path) % 254}")
        addresses = [{"type": "PRIMARY", "ipAddress": public_ip, "timeToRetire": ""}] if public_ip else []
        if private_ip:
            addresses.append({"type": "PRIVATE", "ipAddress": private_ip, "timeToRetire": ""})
        created = _moment(path)
        settings_state = {
            "availabilityType": "ZONAL", "diskType": "PD_SSD", "diskSize": 10, "diskAutoresize": True,
            "activationPolicy": "ALWAYS", "pricingPlan": "PER_USE", **settings,
            "ipConfiguration": {"ipv4Enabled": True, **ip_configuration},
            "version": _int_input(((old or {}).get("settings") or {}).get("version"), 1),
        }
        return instance, {
            **inputs,
            "name": instance,
            "project": project,
            "region": region,
            "settings": settings_state,
            "connectionName": f"{project}:{region}:{instance}",
            "selfLink": f"{SQL_API}/{path}",
            "privateIpAddress": private_ip,
            "publicIpAddress": public_ip,
            "ipAddresses": addresses,
            "firstIpAddress": addresses[0]["ipAddress"] if addresses else "",
            "serviceAccountEmailAddress": _kept(
                old, "serviceAccountEmailAddress",
                lambda: f"p{_project_number(project)}-{_hex(6, 'sql-sa', path)}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
            ),
            "serverCaCerts": _kept(old, "serverCaCerts", lambda: [{
                "cert": _fake_pem("sql-server-ca", path),
                "commonName": f"C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier={_hex(36, 'dnq', path)}",
                "createTime": _utc_time(created),
                "expirationTime": _utc_time(created + timedelta(days=3650)),
                "sha1Fingerprint": _hex(40, "sha1", path),
            }]),
            "instanceType": inputs.get("instanceType") or "CLOUD_SQL_INSTANCE",
            "deletionProtection": bool(inputs.get("deletionProtection", True)),
            "dnsName": "",
        }

    @staticmethod
    def _private_ip(path: str) -> str:
        """An address in the private services range (10.96.0.0/11), past the first /24 of a block."""
        offset = 256 + _int("sql-private", path) % (PRIVATE_SERVICES_RANGE.num_addresses - 512)
        return str(PRIVATE_SERVICES_RANGE.network_address + offset)


class SqlDatabaseEmulator(GcpEmulator):
    """gcp:sql/database:Database."""

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        instance = _last(inputs.get("instance"))
        database = _name(name, inputs, ctx, old)
        path = f"projects/{project}/instances/{instance}/databases/{database}"
        return path, {
            **inputs,
            "name": database,
            "instance": instance,
            "project": project,
            "selfLink": f"{SQL_API}/{path}",
            "charset": inputs.get("charset") or "UTF8",
            "collation": inputs.get("collation") or "en_US.UTF8",
        }


class SqlUserEmulator(GcpEmulator):
    """gcp:sql/user:User; the id is ``name/host/instance`` (host is empty for PostgreSQL). The password
    is never part of the state."""

    secret_inputs = ("password", "passwordWo")

    def build(self, name, inputs, ctx, old):
        user = _name(name, inputs, ctx, old)
        instance = _last(inputs.get("instance"))
        host = str(inputs.get("host") or "")
        return f"{user}/{host}/{instance}", {
            **inputs,
            "name": user,
            "instance": instance,
            "host": host,
            "project": _project(inputs, ctx),
            "type": inputs.get("type") or "",
        }


class ProjectServiceEmulator(GcpEmulator):
    """gcp:projects/service:Service (an enabled API)."""

    def build(self, name, inputs, ctx, old):
        project = _project(inputs, ctx)
        service = str(inputs.get("service") or "")
        return f"{project}/{service}", {**inputs, "project": project, "service": service}


HANDLERS: dict[str, Emulator] = {
    "gcp:compute/network:Network": NetworkEmulator(),
    "gcp:compute/subnetwork:Subnetwork": SubnetworkEmulator(),
    "gcp:compute/globalAddress:GlobalAddress": GlobalAddressEmulator(),
    "gcp:servicenetworking/connection:Connection": ServiceNetworkingConnectionEmulator(),
    "gcp:container/cluster:Cluster": ClusterEmulator(),
    "gcp:container/nodePool:NodePool": NodePoolEmulator(),
    "gcp:storage/bucket:Bucket": BucketEmulator(),
    "gcp:artifactregistry/repository:Repository": RepositoryEmulator(),
    "gcp:serviceaccount/account:Account": ServiceAccountEmulator(),
    "gcp:projects/iAMMember:IAMMember": ProjectIamMemberEmulator(),
    "gcp:serviceaccount/iAMMember:IAMMember": ServiceAccountIamMemberEmulator(),
    "gcp:storage/bucketIAMMember:BucketIAMMember": BucketIamMemberEmulator(),
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": RepositoryIamMemberEmulator(),
    "gcp:sql/databaseInstance:DatabaseInstance": DatabaseInstanceEmulator(),
    "gcp:sql/database:Database": SqlDatabaseEmulator(),
    "gcp:sql/user:User": SqlUserEmulator(),
    "gcp:projects/service:Service": ProjectServiceEmulator(),
}
