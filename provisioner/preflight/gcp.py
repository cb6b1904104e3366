"""GCP preflight: the project, the APIs the recipe needs, and the region's CPU quota, through the REST APIs."""

from __future__ import annotations

import os
from typing import Any

from provisioner.errors import InputError
from provisioner.preflight.models import ArgsView, Check

SERVICE_USAGE = "https://serviceusage.googleapis.com"
COMPUTE = "https://compute.googleapis.com"
NOT_SIMULATED = "simulated: not checked (the fake GCP API serves neither Service Usage nor Compute regions)"
ZONES_PER_REGIONAL_CLUSTER = 3


class _Nodes(ArgsView):
    machine_type: str
    max: int


class _Cluster(ArgsView):
    regional: bool = False
    nodes: _Nodes


class GcpPlan(ArgsView):
    """What preflight reads of a GKE recipe's args: the project and the node pool's largest size."""

    project: str = ""
    cluster: _Cluster

    @property
    def max_cpus(self) -> int | None:
        """vCPUs of the node pool at its maximum (GKE counts nodes per zone); None for an unreadable machine type."""
        last = self.cluster.nodes.machine_type.rsplit("-", 1)[-1]
        if not last.isdigit():
            return None
        zones = ZONES_PER_REGIONAL_CLUSTER if self.cluster.regional else 1
        return int(last) * self.cluster.nodes.max * zones


def google_http() -> Any:
    """An httpx client signed with the application default credentials (google-auth, imported lazily)."""
    import httpx

    try:
        from google.auth.exceptions import DefaultCredentialsError
    except ImportError:
        raise InputError("GCP preflight needs google-auth: pip install 'provisioner[gcp]' (or skip it with --no-preflight)") from None
    from provisioner.teardown.gcp_sweep import google_auth

    try:
        auth = google_auth()
    except DefaultCredentialsError as exc:
        raise InputError(f"no GCP credentials: {exc} (gcloud auth application-default login)") from None
    return httpx.Client(auth=auth, timeout=20)


def _pages(http: Any, url: str, key: str, params: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        response = http.get(url, params={**params, **({"pageToken": token} if token else {})})
        response.raise_for_status()
        body = response.json()
        items += body.get(key, [])
        token = body.get("nextPageToken", "")
        if not token:
            return items


def check_apis(http: Any, project: str, required: tuple[str, ...]) -> Check:
    url = f"{SERVICE_USAGE}/v1/projects/{project}/services"
    enabled = {item["config"]["name"] for item in _pages(http, url, "services", {"filter": "state:ENABLED", "pageSize": "200"})}
    missing = [api for api in required if api not in enabled]
    if missing:
        return Check.fail("APIs", f"not enabled in {project}: {', '.join(missing)}", f"gcloud services enable {' '.join(missing)} --project {project}")
    return Check.ok("APIs", f"{len(required)} required API(s) enabled in {project}")


def check_cpu_quota(http: Any, project: str, region: str, plan: GcpPlan) -> Check:
    name = "quota: CPUs"
    needed = plan.max_cpus
    if needed is None:
        return Check.skipped(name, f"the vCPUs of {plan.cluster.nodes.machine_type} are not in its name")
    response = http.get(f"{COMPUTE}/compute/v1/projects/{project}/regions/{region}")
    response.raise_for_status()
    quotas = {item["metric"]: item for item in response.json().get("quotas", [])}
    # N2, C2 and other families have their own regional CPU quota; the rest count against CPUS.
    family = plan.cluster.nodes.machine_type.split("-", 1)[0].upper()
    metric = f"{family}_CPUS" if f"{family}_CPUS" in quotas else "CPUS"
    if metric not in quotas:
        return Check.skipped(name, f"{region} reports no {metric} quota")
    limit, used = int(quotas[metric]["limit"]), int(quotas[metric]["usage"])
    detail = f"{metric} in {region}: {used} of {limit} used, {needed} needed at the node pool's maximum"
    if used + needed > limit:
        return Check.fail(name, detail, f"lower cluster.nodes.max, or ask for more {metric} quota in {region}")
    return Check.ok(name, detail)


def run_checks(plan: GcpPlan, region: str, *, simulated: bool, http: Any = None) -> list[Check]:
    """The project is set; on the real path the required APIs are enabled and the region has CPUs for the nodes."""
    from recipes.gcp.defaults import REQUIRED_APIS
    from recipes.gcp.recipe import SIMULATED_PROJECT

    project = plan.project or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
    if simulated:
        project_check = Check.ok("project", f"{project or SIMULATED_PROJECT} (simulated)")
        return [project_check, Check.skipped("APIs", NOT_SIMULATED), Check.skipped("quota: CPUs", NOT_SIMULATED)]
    if not project:
        return [Check.fail("project", "no project is set", "--set project=ID, or export GOOGLE_CLOUD_PROJECT")]
    import httpx

    client = http if http is not None else google_http()
    checks = [Check.ok("project", project)]
    for name, run in (
        ("APIs", lambda: check_apis(client, project, REQUIRED_APIS)),
        ("quota: CPUs", lambda: check_cpu_quota(client, project, region, plan)),
    ):
        try:
            checks.append(run())
        except httpx.HTTPStatusError as exc:
            checks.append(Check.fail(name, f"HTTP {exc.response.status_code} from {exc.request.url.host}",
                                     f"check that project {project} exists and that you may read it"))
        except httpx.HTTPError as exc:
            checks.append(Check.fail(name, f"could not check: {exc}", "check the network and the credentials"))
    return checks
