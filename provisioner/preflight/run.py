"""Run the preflight of one request: the checks its recipe's cloud needs, read-only, against the cloud or the emulators."""

from __future__ import annotations

import os

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from provisioner.config import DeployRequest
from provisioner.errors import InputError, OperationFailedError
from provisioner.facts import today
from provisioner.preflight import aws
from provisioner.preflight.models import Check, PreflightReport
from provisioner.recipe_api import Recipe, RecipeArgs, cloud_of


class PreflightFailedError(OperationFailedError):
    """A check failed: the deploy would fail, so it was not started."""


def run_preflight(
    recipe: Recipe,
    request: DeployRequest,
    args: RecipeArgs,
    *,
    simulated: bool,
    aws_session: Any = None,
    permission_simulator: aws.PermissionSimulator | None = None,
    gcp_http: Any = None,
    on: date | None = None,
) -> PreflightReport:
    """Every check the recipe needs; nothing is created or written.

    ``aws_session`` (a boto3 Session) and ``gcp_http`` (an httpx client) replace the default clients;
    ``permission_simulator`` replaces IAM's SimulatePrincipalPolicy (default: the real call; under
    ``simulated`` none, since moto lacks it, and the report says the check did not run).

    Raises:
        InputError: preflight knows no checks for the recipe (no cloud and no kubeconfig context).
    """
    region = request.region or recipe.default_region
    cloud = cloud_of(recipe)
    when = on or today()  # PROVISIONER_FACTS_AS_OF, when set
    if cloud == "aws":
        if permission_simulator is None and not simulated:
            permission_simulator = aws.simulate_principal_policy
        with _aws_emulation(simulated, region or "us-east-1"):
            session = aws_session if aws_session is not None else _boto3_session()
            checks = aws.run_checks(
                session, region or "us-east-1", request.stack_name, aws.AwsPlan.of(args),
                simulated=simulated, on=when, simulator=permission_simulator,
            )
    elif cloud == "gcp":
        from provisioner.preflight import gcp

        plan = gcp.GcpPlan.of(args)
        if plan is None:
            raise InputError(f"preflight knows no checks for recipe {recipe.name!r} on GCP (it has no GKE cluster settings)")
        checks = gcp.run_checks(plan, region or "", simulated=simulated, http=gcp_http)
    elif recipe.context_field:
        checks = [check_kube_context(str(getattr(args, recipe.context_field, "")))]
    else:
        raise InputError(f"preflight knows no checks for recipe {recipe.name!r}: it deploys to no cloud and takes no --context")
    return PreflightReport(
        stack=request.stack_name, recipe=request.recipe, env=request.env, region=region, simulated=simulated, checks=checks,
    )


def require_preflight(recipe: Recipe, request: DeployRequest, args: RecipeArgs) -> PreflightReport:
    """The preflight before a real deploy: raises naming every failed check and its fix."""
    report = run_preflight(recipe, request, args, simulated=False)
    if not report.passed:
        raise PreflightFailedError(failure_line(report) + "; nothing was deployed (--no-preflight skips these checks)")
    return report


def failure_line(report: PreflightReport) -> str:
    """One line naming each failed check and its fix."""
    failed = "; ".join(f"{check.detail} (fix: {check.fix})" for check in report.failures)
    return f"preflight of {report.stack} failed: {failed}"


def check_kube_context(context: str) -> Check:
    """The kubeconfig (KUBECONFIG, else ~/.kube/config) has the context the recipe deploys to."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    # The client reads KUBECONFIG once, when it is imported: name the file ourselves.
    path = os.path.expanduser(os.environ.get("KUBECONFIG", "~/.kube/config").split(os.pathsep)[0])
    try:
        contexts, _active = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError) as exc:
        return Check.fail("kubeconfig context", f"no kubeconfig to read: {exc}", "set KUBECONFIG, or create ~/.kube/config")
    names = sorted(item["name"] for item in contexts or [])
    if context not in names:
        return Check.fail(
            "kubeconfig context", f"kubeconfig has no context {context!r} (contexts: {', '.join(names) or 'none'})",
            "pass --context with one of those names",
        )
    return Check.ok("kubeconfig context", f"{context} is in the kubeconfig")


def _boto3_session() -> Any:
    import boto3

    return boto3.Session()


@contextmanager
def _aws_emulation(simulated: bool, region: str) -> Iterator[None]:
    """Under --simulate, boto3 talks to moto (AWS_ENDPOINT_URL's server, else in-process) with fake credentials."""
    if simulated:
        from provisioner.engine.simulated import aws_emulation

        with aws_emulation(region):
            yield
    else:
        yield
