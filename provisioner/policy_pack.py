"""The guardrails as a pulumi-policy pack: ``pulumi preview --policy-pack DIR`` runs them in any project.

A policy pack folder holds a ``PulumiPolicy.yaml`` and a ``__main__.py`` that calls ``serve()``
(see examples/policy-pack). ``PolicyPack(...)`` starts a gRPC server and never returns, so the
tests call the validate functions (``validation(rule)``) directly.
"""

from __future__ import annotations

from typing import Any

from provisioner.guardrails import RULES, Rule

PACK_NAME = "provisioner-guardrails"


def validation(rule: Rule) -> Any:
    """The pulumi-policy validate function of one rule: it reports each violation it finds."""

    def validate(args: Any, report_violation: Any) -> None:
        for message in rule.check(args.resource_type, args.props):
            report_violation(f"{args.resource_type} {args.name}: {message}")

    return validate


def policies() -> list[Any]:
    """One mandatory ResourceValidationPolicy per guardrail."""
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    return [
        ResourceValidationPolicy(
            name=rule.name, description=rule.description, validate=validation(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for rule in RULES
    ]


def serve() -> None:
    """Start the pack (called from a policy pack's __main__.py by the Pulumi CLI); never returns."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
