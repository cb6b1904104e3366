"""The catalog's rules: what makes a connector, component or stack valid, and how each is written.

No permission checks here: the catalog and deployment services pass the gate first, in the same
unit of work, then call these. Import's dry run calls them too, so every rule is written once.
"""

from __future__ import annotations

from typing import Any

from provisioner.errors import ConflictError, InputError, InUseError, NotFoundError
from provisioner.recipe_api import LABEL_ENV
from provisioner.registry.connector_schemas import check_resource_types, config_class_for, offered_resource_types
from provisioner.registry.flavors import FlavorRegistry
from provisioner.registry.models import (
    REQUIRED_STACK_TYPES,
    Component,
    ComponentDetail,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    Stack,
    StackSpec,
)
from provisioner.registry.store import Transaction
from provisioner.registry.validation import validate_or_raise
from provisioner.registry.vault import SecretVault


def require(value: Any, kind: str, name: str) -> Any:
    """``value``, or NotFoundError naming the missing ``kind``."""
    if value is None:
        raise NotFoundError(f"{kind} {name!r} does not exist")
    return value


class CatalogRules:
    """Validates and writes connectors, components and stacks inside a transaction."""

    def __init__(self, flavors: FlavorRegistry, vault: SecretVault) -> None:
        self.flavors = flavors
        self.vault = vault

    # connectors
    def write_connector(self, tx: Transaction, spec: ConnectorSpec, *, replace: bool) -> Connector:
        schema = config_class_for(spec.type, spec.auth_method)
        resource_types = spec.resource_types or offered_resource_types(spec.type)
        check_resource_types(spec.type, resource_types)
        if not replace and tx.get_connector(spec.name) is not None:
            raise ConflictError(f"connector {spec.name!r} already exists")
        context = f"invalid configuration for {spec.type} connector ({spec.auth_method})"
        validated = validate_or_raise(schema, spec.configuration, context).model_dump(mode="json")
        stored = self.vault.externalize(tx, "connector", spec.name, schema, validated, spec.labels)
        return tx.save_connector(spec.model_copy(update={"configuration": stored, "resource_types": resource_types}))

    def remove_connector(self, tx: Transaction, name: str) -> None:
        require(tx.get_connector(name), "connector", name)
        users = tx.components_using_connector(name)
        if users:
            raise InUseError(f"connector {name!r} is used by component(s) {', '.join(users)}: unlink them first")
        tx.delete_connector(name)
        self.vault.drop_owned(tx, "connector", name)

    # components
    def write_component(self, tx: Transaction, spec: ComponentSpec, *, replace: bool) -> Component:
        flavor = self.flavors.get(spec.type, spec.flavor)
        if not replace and tx.get_component(spec.name) is not None:
            raise ConflictError(f"component {spec.name!r} already exists")
        if spec.connector is not None:
            connector = require(tx.get_connector(spec.connector), "connector", spec.connector)
            needed = flavor.connector_resource_type
            if needed is None:
                raise InputError(f"flavor {flavor.name!r} ({flavor.type.value}) cannot use a service connector")
            if needed not in connector.resource_types:
                raise InputError(
                    f"connector {connector.name!r} does not offer {needed.value!r}, which flavor {flavor.name!r} needs"
                )
            component_env = spec.labels.get(LABEL_ENV)
            if connector.env and component_env and connector.env != component_env:
                raise InputError(
                    f"component {spec.name!r} (env {component_env}) cannot use connector {connector.name!r} (env {connector.env})"
                )
        context = f"invalid config for flavor {flavor.name!r} ({flavor.type.value})"
        validated = validate_or_raise(flavor.config_class, spec.config, context).model_dump(mode="json")
        stored = self.vault.externalize(tx, "component", spec.name, flavor.config_class, validated, spec.labels)
        return tx.save_component(spec.model_copy(update={"config": stored}))

    def remove_component(self, tx: Transaction, name: str, *, used: str = "") -> None:
        """Delete a component and its owned secrets; refused while a stack uses it."""
        require(tx.get_component(name), "component", name)
        stacks = tx.stacks_using_component(name)
        if stacks:
            raise InUseError(used or f"component {name!r} is used by stack(s) {', '.join(stacks)}: delete or change them first")
        tx.delete_component(name)
        self.vault.drop_owned(tx, "component", name)

    def detail(self, tx: Transaction, component: Component) -> ComponentDetail:
        connector = tx.get_connector(component.connector) if component.connector else None
        return ComponentDetail(
            name=component.name, type=component.type, flavor=component.flavor, config=component.config,
            labels=component.labels, connector=connector,
        )

    def with_secrets(self, tx: Transaction, detail: ComponentDetail) -> ComponentDetail:
        connector = detail.connector
        if connector is not None:
            connector = connector.model_copy(update={"configuration": self.vault.resolve(tx, connector.configuration)})
        return detail.model_copy(update={"config": self.vault.resolve(tx, detail.config), "connector": connector})

    # stacks
    @staticmethod
    def check_stack_name_free(tx: Transaction, name: str) -> None:
        if tx.get_stack(name) is not None:
            raise ConflictError(f"stack {name!r} already exists")

    def write_stack(
        self, tx: Transaction, name: str, component_names: list[str], labels: dict[str, str], *, replace: bool
    ) -> Stack:
        """Group components into a stack: one per type, with an orchestrator and an artifact store, one env."""
        if not replace:
            self.check_stack_name_free(tx, name)
        by_type: dict[ComponentType, str] = {}
        for component_name in component_names:
            component = require(tx.get_component(component_name), "component", component_name)
            if component.type in by_type and by_type[component.type] != component_name:
                raise ConflictError(
                    f"a stack holds one {component.type.value}, got two: {by_type[component.type]!r} and {component_name!r}"
                )
            by_type[component.type] = component_name
        missing = [t.value for t in REQUIRED_STACK_TYPES if t not in by_type]
        if missing:
            raise InputError(f"stack {name!r} needs a component of type {' and '.join(missing)}")
        self._check_environments(tx, name, labels, by_type)
        spec = validate_or_raise(StackSpec, {"name": name, "components": by_type, "labels": labels}, "invalid stack")
        return tx.save_stack(spec)

    @staticmethod
    def _check_environments(tx: Transaction, name: str, labels: dict[str, str], by_type: dict[ComponentType, str]) -> None:
        """Everything in a stack belongs to one env: a prod connector in a staging stack is refused."""
        owners: list[tuple[str, str]] = [(f"stack {name!r}", labels[LABEL_ENV])] if labels.get(LABEL_ENV) else []
        for component_name in by_type.values():
            component = tx.get_component(component_name)
            if component is None:
                continue
            if component.labels.get(LABEL_ENV):
                owners.append((f"component {component_name!r}", component.labels[LABEL_ENV]))
            connector = tx.get_connector(component.connector) if component.connector else None
            if connector is not None and connector.env:
                owners.append((f"connector {connector.name!r}", connector.env))
        envs = {env for _, env in owners}
        if len(envs) > 1:
            first = owners[0]
            other = next(owner for owner in owners if owner[1] != first[1])
            raise InputError(f"stack {name!r} mixes environments: {first[0]} is {first[1]} but {other[0]} is {other[1]}")
