"""PipelineNamespace: where pipeline pods run, with a service account limited to that namespace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from recipes.kubernetes import defaults
from recipes.kubernetes.labels import k8s_labels


@dataclass
class PipelineNamespaceArgs:
    """The namespace name and the annotations of its service account (workload identity)."""

    namespace: str = defaults.PIPELINES_NAMESPACE
    service_account: str = defaults.PIPELINE_SERVICE_ACCOUNT
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


class PipelineNamespace(pulumi.ComponentResource):
    """A namespace, a service account, and a Role that lets the orchestrator manage pods there only."""

    namespace: pulumi.Output[str]
    service_account: pulumi.Output[str]

    def __init__(self, name: str, args: PipelineNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("provisioner:kubernetes:PipelineNamespace", name, None, opts)
        labels = k8s_labels(args.tags, "pipelines")
        child = pulumi.ResourceOptions(parent=self)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels), opts=child
        )
        meta = k8s.meta.v1.ObjectMetaArgs(
            name=args.service_account, namespace=namespace.metadata.name, labels=labels,
            annotations=dict(args.service_account_annotations),
        )
        account = k8s.core.v1.ServiceAccount(f"{name}-sa", metadata=meta, opts=child)
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.service_account, namespace=namespace.metadata.name, labels=labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=list(groups), resources=list(resources), verbs=list(verbs))
                for groups, resources, verbs in defaults.PIPELINE_ROLE_RULES
            ],
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.service_account, namespace=namespace.metadata.name, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.name),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=account.metadata.name, namespace=namespace.metadata.name)],
            opts=child,
        )
        self.namespace = namespace.metadata.name
        self.service_account = account.metadata.name
        self.register_outputs({"namespace": self.namespace, "service_account": self.service_account})
