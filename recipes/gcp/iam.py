"""Service accounts and their access, granted only with non-authoritative *member* resources.

Project-level IAMBinding or IAMPolicy would replace every other member of a role: never used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from recipes.gcp import defaults


@dataclass
class ServiceAccountsArgs:
    project: str
    bucket_name: pulumi.Input[str]
    repository_id: pulumi.Input[str]
    region: str
    workload_pool: str
    pipelines_account: tuple[str, str]
    mlflow_account: tuple[str, str]
    connector_members: Sequence[str] = ()
    create_connector_key: bool = False


class ServiceAccounts(pulumi.ComponentResource):
    """Accounts for nodes, workloads, MLflow, Vertex AI jobs and the connector, each with what it needs."""

    emails: dict[str, pulumi.Output[str]]
    connector_key: pulumi.Output[str] | None

    def __init__(self, name: str, args: ServiceAccountsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:gcp:ServiceAccounts", name, None, opts)
        self._name = name
        self._args = args
        accounts = {
            kind: gcp.serviceaccount.Account(
                f"{name}-{kind}",
                project=args.project,
                account_id=f"{name}-{kind}"[:30].rstrip("-"),
                display_name=f"provisioner {name} {kind}",
                opts=pulumi.ResourceOptions(parent=self),
            )
            for kind in ("nodes", "workloads", "mlflow", "vertex", "connector")
        }
        self.emails = {kind: account.email for kind, account in accounts.items()}
        self._project_roles("nodes", accounts["nodes"], defaults.NODE_PROJECT_ROLES)
        self._project_roles("workloads", accounts["workloads"], defaults.WORKLOAD_PROJECT_ROLES)
        self._project_roles("vertex", accounts["vertex"], defaults.VERTEX_PROJECT_ROLES)
        self._project_roles("connector", accounts["connector"], defaults.CONNECTOR_PROJECT_ROLES)
        for kind in ("workloads", "mlflow", "vertex", "connector"):
            gcp.storage.BucketIAMMember(
                f"{name}-{kind}-bucket", bucket=args.bucket_name, role="roles/storage.objectAdmin",
                member=accounts[kind].member, opts=pulumi.ResourceOptions(parent=self),
            )
        for kind, role in (("workloads", "roles/artifactregistry.writer"), ("connector", "roles/artifactregistry.writer"),
                           ("vertex", "roles/artifactregistry.reader")):
            gcp.artifactregistry.RepositoryIamMember(
                f"{name}-{kind}-images", project=args.project, location=args.region, repository=args.repository_id,
                role=role, member=accounts[kind].member, opts=pulumi.ResourceOptions(parent=self),
            )
        # Workload Identity: the Kubernetes service account may act as the Google one, nothing more.
        for kind, (namespace, ksa) in (("workloads", args.pipelines_account), ("mlflow", args.mlflow_account)):
            gcp.serviceaccount.IAMMember(
                f"{name}-{kind}-wi", service_account_id=accounts[kind].name, role="roles/iam.workloadIdentityUser",
                member=f"serviceAccount:{args.workload_pool}[{namespace}/{ksa}]", opts=pulumi.ResourceOptions(parent=self),
            )
        # The connector is used by impersonation: named principals may mint its tokens; no key file.
        for index, member in enumerate(args.connector_members):
            gcp.serviceaccount.IAMMember(
                f"{name}-connector-impersonation-{index}", service_account_id=accounts["connector"].name,
                role="roles/iam.serviceAccountTokenCreator", member=member, opts=pulumi.ResourceOptions(parent=self),
            )
        self.connector_key = None
        if args.create_connector_key:
            key = gcp.serviceaccount.Key(
                f"{name}-connector-key", service_account_id=accounts["connector"].name, opts=pulumi.ResourceOptions(parent=self)
            )
            self.connector_key = pulumi.Output.secret(key.private_key)
        self.register_outputs({f"{kind}_email": email for kind, email in self.emails.items()})

    def _project_roles(self, kind: str, account: gcp.serviceaccount.Account, roles: Sequence[str]) -> None:
        for role in roles:
            gcp.projects.IAMMember(
                f"{self._name}-{kind}-{role.rsplit('.', 1)[-1]}", project=self._args.project, role=role,
                member=account.member, opts=pulumi.ResourceOptions(parent=self),
            )
