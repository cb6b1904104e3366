"""The guardrails as a pulumi-policy pack: ``pulumi preview --policy-pack DIR`` runs them in any project.

A policy pack folder holds a ``PulumiPolicy.yaml`` and a ``__main__.py`` that calls ``serve()``
(see examples/policy-pack). ``PolicyPack(...)`` starts a gRPC server and never returns, so the
tests call the validate functions (``validation(rule)``) directly.
"""

from __future__ import annotations

from typing import Any

from provisioner.guardrails import RULES, STACK_RULES, Rule, StackResource, StackRule
from provisioner.recipe_api import TAG_ENV

PACK_NAME = "provisioner-guardrails"


def validation(rule: Rule) -> Any:
    """The pulumi-policy validate function of one rule: it reports each violation it finds."""

    def validate(args: Any, report_violation: Any) -> None:
        for message in rule.check(args.resource_type, args.props):
            report_violation(f"{args.resource_type} {args.name}: {message}")

    return validate


def env_of(resources: Any) -> str:
    """The env the stack's resources are tagged (AWS) or labelled (GCP) with; "" when none says."""
    for resource in resources:
        props = resource.props or {}
        tags = props.get("tags") or {}
        labels = props.get("labels") or {}
        env = tags.get(TAG_ENV) or labels.get(TAG_ENV.replace(":", "-"))
        if env:
            return str(env)
    return ""


def _id(props: Any) -> str:
    # Stack policies see outputs, which carry no id; an S3 bucket's id is its name.
    return str(props.get("id") or props.get("bucket") or "")


def stack_validation(rule: StackRule) -> Any:
    """The pulumi-policy validate function of one stack rule, over every resource of the stack."""

    def validate(args: Any, report_violation: Any) -> None:
        resources = [
            StackResource(r.resource_type, r.name, _id(r.props or {}), r.props or {}) for r in args.resources
        ]
        for name, message in rule.check(resources, env_of(args.resources)):
            report_violation(f"{name}: {message}")

    return validate


def policies() -> list[Any]:
    """One mandatory ResourceValidationPolicy per guardrail, one StackValidationPolicy per stack rule."""
    from pulumi_policy import (
        EnforcementLevel,
        ResourceValidationPolicy,
        StackValidationPolicy,
    )

    return [
        *(
            ResourceValidationPolicy(
                name=rule.name, description=rule.description, validate=validation(rule),
                enforcement_level=EnforcementLevel.MANDATORY,
            )
            for rule in RULES
        ),
        *(
            StackValidationPolicy(
                name=f"stack-{rule.name}", description=rule.description, validate=stack_validation(rule),
                enforcement_level=EnforcementLevel.MANDATORY,
            )
            for rule in STACK_RULES
        ),
    ]


def serve() -> None:
    """Start the pack (called from a policy pack's __main__.py by the Pulumi CLI); never returns."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
