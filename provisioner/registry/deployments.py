"""What deploy-stack registers: a recipe's connectors, components and stack, applied and removed as one."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from provisioner.errors import ConflictError
from provisioner.recipe_api import (
    LABEL_DEPLOYMENT,
    LABEL_ENV,
    LABEL_MANAGED_BY,
    LABEL_RECIPE,
    LABEL_STACK,
    MANAGED_BY,
    RecipeContext,
    RegistrationPlan,
)
from provisioner.registry.access import Need
from provisioner.registry.catalog import ActiveStackFile
from provisioner.registry.catalog_rules import CatalogRules
from provisioner.registry.models import ComponentSpec, ConnectorSpec
from provisioner.registry.store import Transaction
from provisioner.registry.unit_of_work import UnitOfWork
from provisioner.registry.validation import validate_or_raise


class DeploymentRecord(BaseModel):
    """What a deployment registered (or unregistered)."""

    stack: str | None = None
    components: list[str] = Field(default_factory=list)
    connectors: list[str] = Field(default_factory=list)


def managed_by(labels: Mapping[str, str], stack_name: str) -> bool:
    """Whether deploy-stack registered an object with these labels for ``stack_name``."""
    return labels.get(LABEL_MANAGED_BY) == MANAGED_BY and labels.get(LABEL_STACK) == stack_name


class DeploymentService:
    """Applies a registration plan in one unit of work, and removes what a deployment registered."""

    def __init__(self, rules: CatalogRules, active: ActiveStackFile) -> None:
        self.rules = rules
        self.active = active

    def check_rights(self, uow: UnitOfWork, plan: RegistrationPlan, context: RecipeContext) -> None:
        """What registering ``plan`` needs of the acting user: the stack, and the admin role for each connector.

        deploy-stack asks this before anything is deployed, and registration asks it again in its own unit of work.
        """
        uow.require(Need.STACK, context.stack_name, "registering the deployment")
        for entry in plan.connectors:
            uow.require(Need.ADMIN, entry.name, "registering connectors")

    def apply_deployment(self, uow: UnitOfWork, plan: RegistrationPlan, context: RecipeContext) -> DeploymentRecord:
        """Register a deployment's connectors, components and stack.

        Re-running updates everything in place; objects a previous run registered for this
        stack and the plan no longer has are removed. Objects of the same name that this stack
        does not manage are never taken over.
        """
        self.check_rights(uow, plan, context)
        tx = uow.tx
        labels = {
            LABEL_STACK: context.stack_name,
            LABEL_ENV: context.env,
            LABEL_RECIPE: context.recipe,
            LABEL_MANAGED_BY: MANAGED_BY,
        }
        if context.deployment_id:
            labels[LABEL_DEPLOYMENT] = context.deployment_id
        _refuse_takeover(tx, plan, context.stack_name)
        for entry in plan.connectors:
            spec = validate_or_raise(
                ConnectorSpec,
                {
                    "name": entry.name, "type": entry.type, "auth_method": entry.auth_method,
                    "configuration": entry.configuration, "resource_types": entry.resource_types,
                    "env": context.env, "labels": labels,
                },
                f"recipe output for connector {entry.name!r}",
            )
            self.rules.write_connector(tx, spec, replace=True)
        for component_entry in plan.components:
            component_spec = validate_or_raise(
                ComponentSpec,
                {
                    "name": component_entry.name, "type": component_entry.type, "flavor": component_entry.flavor,
                    "config": component_entry.config, "labels": labels, "connector": component_entry.connector,
                },
                f"recipe output for component {component_entry.name!r}",
            )
            self.rules.write_component(tx, component_spec, replace=True)
        names = [c.name for c in plan.components]
        self.rules.write_stack(tx, context.stack_name, names, labels, replace=True)
        for stale in tx.list_components():
            if managed_by(stale.labels, context.stack_name) and stale.name not in names:
                self.rules.remove_component(tx, stale.name)
        connector_names = [c.name for c in plan.connectors]
        for stale_connector in tx.list_connectors():
            if managed_by(stale_connector.labels, context.stack_name) and stale_connector.name not in connector_names:
                self.rules.remove_connector(tx, stale_connector.name)
        return DeploymentRecord(stack=context.stack_name, components=names, connectors=connector_names)

    def deployment(self, uow: UnitOfWork, stack_name: str) -> DeploymentRecord:
        """What deploy-stack registered for ``stack_name`` (empty if nothing)."""
        uow.require(Need.ANYONE, stack_name, "reading deployments")
        stack = uow.tx.get_stack(stack_name)
        return DeploymentRecord(
            stack=stack_name if stack is not None and managed_by(stack.labels, stack_name) else None,
            components=[c.name for c in uow.tx.list_components() if managed_by(c.labels, stack_name)],
            connectors=[c.name for c in uow.tx.list_connectors() if managed_by(c.labels, stack_name)],
        )

    def deployment_id(self, uow: UnitOfWork, stack_name: str) -> str | None:
        """The deployment id deploy-stack registered for ``stack_name``, if any."""
        uow.require(Need.ANYONE, stack_name, "reading deployments")
        stack = uow.tx.get_stack(stack_name)
        if stack is None or not managed_by(stack.labels, stack_name):
            return None
        return stack.labels.get(LABEL_DEPLOYMENT)

    def unregister_deployment(self, uow: UnitOfWork, stack_name: str) -> DeploymentRecord:
        """Remove everything deploy-stack registered for ``stack_name``."""
        uow.require(Need.STACK, stack_name, "unregistering the deployment")
        tx = uow.tx
        stack = tx.get_stack(stack_name)
        removed = DeploymentRecord()
        if stack is not None and managed_by(stack.labels, stack_name):
            tx.delete_stack(stack_name)
            removed.stack = stack_name
            tx.after_commit(lambda: self.active.forget(stack_name))
        for component in tx.list_components():
            if managed_by(component.labels, stack_name):
                users = ", ".join(tx.stacks_using_component(component.name))
                used = f"component {component.name!r} of {stack_name!r} is also used by stack(s) {users}: remove it from them first"
                self.rules.remove_component(tx, component.name, used=used)
                removed.components.append(component.name)
        for connector in tx.list_connectors():
            if managed_by(connector.labels, stack_name):
                self.rules.remove_connector(tx, connector.name)
                removed.connectors.append(connector.name)
        return removed


def _refuse_takeover(tx: Transaction, plan: RegistrationPlan, stack_name: str) -> None:
    existing_stack = tx.get_stack(stack_name)
    if existing_stack is not None and not managed_by(existing_stack.labels, stack_name):
        raise ConflictError(f"stack {stack_name!r} exists and was not registered by deploy-stack: choose another --name")
    for entry in plan.components:
        component = tx.get_component(entry.name)
        if component is not None and not managed_by(component.labels, stack_name):
            raise ConflictError(f"component {entry.name!r} exists and does not belong to stack {stack_name!r}")
    for connector_entry in plan.connectors:
        connector = tx.get_connector(connector_entry.name)
        if connector is not None and not managed_by(connector.labels, stack_name):
            raise ConflictError(f"connector {connector_entry.name!r} exists and does not belong to stack {stack_name!r}")
