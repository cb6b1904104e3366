"""The catalog as users see it: connectors, components and stacks, each operation gated in its unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from provisioner.errors import PermissionDeniedError
from provisioner.registry.access import Need, Permission
from provisioner.registry.catalog_rules import CatalogRules, require
from provisioner.registry.models import (
    Component,
    ComponentDetail,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    Stack,
    StackDetail,
)
from provisioner.registry.unit_of_work import UnitOfWork

UNSET: Any = object()
Listed = TypeVar("Listed", Connector, Component, Stack)


class ActiveStackFile:
    """This user's active stack, kept in a private file of their home (not in the shared registry)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> str | None:
        if self.path.exists():
            return self.path.read_text().strip() or None
        return None

    def set(self, name: str) -> None:
        from provisioner.paths import write_private_file

        write_private_file(self.path, (name + "\n").encode())

    def forget(self, name: str) -> None:
        """Clear the active stack if it is ``name``."""
        if self.get() == name:
            self.path.unlink(missing_ok=True)


class CatalogService:
    """Registers, reads, changes and deletes connectors, components and stacks."""

    def __init__(self, rules: CatalogRules, active: ActiveStackFile) -> None:
        self.rules = rules
        self.active = active

    # ----- connectors -----------------------------------------------------------------------

    def register_connector(self, uow: UnitOfWork, spec: ConnectorSpec, *, replace: bool = False) -> Connector:
        """Register a service connector (admins only); plain secret values go to the secret store."""
        uow.require(Need.ADMIN, spec.name, "registering connectors")
        return self.rules.write_connector(uow.tx, spec, replace=replace)

    def get_connector(self, uow: UnitOfWork, name: str) -> Connector:
        uow.require(Need.ANYONE, name, "reading connectors")
        return require(uow.tx.get_connector(name), "connector", name)

    def list_connectors(self, uow: UnitOfWork) -> list[Connector]:
        return _allowed(uow, uow.tx.list_connectors(), "listing connectors")

    def describe_connector(self, uow: UnitOfWork, name: str, *, show_secrets: bool = False) -> Connector:
        """The connector; with ``show_secrets`` its configuration resolved (admins only: long-lived credentials)."""
        uow.require(Need.ADMIN if show_secrets else Need.ANYONE, name, "showing a connector's secrets")
        connector = require(uow.tx.get_connector(name), "connector", name)
        if not show_secrets:
            return connector
        _require_referenced_secrets(uow, connector.configuration)
        return connector.model_copy(update={"configuration": self.rules.vault.resolve(uow.tx, connector.configuration)})

    def use_connector(self, uow: UnitOfWork, name: str) -> tuple[Connector, dict[str, Any]]:
        """The connector and its resolved configuration, for users allowed to use it."""
        uow.require(Need.CONNECTOR, name, "using the connector")
        connector = require(uow.tx.get_connector(name), "connector", name)
        if connector.disabled:
            raise PermissionDeniedError(f"connector {name!r} is disabled by an admin: it verifies and issues nothing")
        return connector, self.rules.vault.resolve(uow.tx, connector.configuration)

    def set_connector_disabled(self, uow: UnitOfWork, name: str, disabled: bool) -> Connector:
        """Switch a connector off (nothing is issued through it from the next request on) or back on."""
        uow.require(Need.ADMIN, name, "disabling or enabling connectors")
        return require(uow.tx.set_connector_disabled(name, disabled), "connector", name)

    def delete_connector(self, uow: UnitOfWork, name: str) -> None:
        """Delete a connector and its owned secret (admins only); refused while components link to it."""
        uow.require(Need.ADMIN, name, "deleting connectors")
        self.rules.remove_connector(uow.tx, name)

    # ----- components -----------------------------------------------------------------------

    def register_component(self, uow: UnitOfWork, spec: ComponentSpec, *, replace: bool = False) -> Component:
        """Register a component after validating its flavor, config and connector."""
        if replace:
            uow.require(Need.COMPONENT, spec.name, f"replacing component {spec.name!r}")
        if spec.connector:
            uow.require(Need.CONNECTOR, spec.connector, f"linking component {spec.name!r}")
        else:
            uow.require(Need.ANYONE, spec.name, "registering components")
        _require_referenced_secrets(uow, spec.config)
        return self.rules.write_component(uow.tx, spec, replace=replace)

    def update_component(
        self,
        uow: UnitOfWork,
        name: str,
        *,
        config: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
        connector: str | None = UNSET,
    ) -> Component:
        """Merge new config values and labels into a component; ``connector=None`` unlinks it."""
        uow.require(Need.COMPONENT, name, f"updating component {name!r}")
        current = require(uow.tx.get_component(name), "component", name)
        linked = current.connector if connector is UNSET else connector
        if linked and linked != current.connector:
            uow.require(Need.CONNECTOR, linked, f"linking component {name!r}")
        _require_referenced_secrets(uow, config or {})
        spec = ComponentSpec(
            name=current.name,
            type=current.type,
            flavor=current.flavor,
            config={**current.config, **(config or {})},
            labels={**current.labels, **(labels or {})},
            connector=linked,
        )
        return self.rules.write_component(uow.tx, spec, replace=True)

    def get_component(self, uow: UnitOfWork, name: str) -> Component:
        uow.require(Need.ANYONE, name, "reading components")
        return require(uow.tx.get_component(name), "component", name)

    def list_components(self, uow: UnitOfWork, component_type: ComponentType | None = None) -> list[Component]:
        return _allowed(uow, uow.tx.list_components(component_type), "listing components")

    def describe_component(self, uow: UnitOfWork, name: str, *, show_secrets: bool = False) -> ComponentDetail:
        """The component with its connector; with ``show_secrets``, secrets resolved for users allowed to use it."""
        uow.require(Need.COMPONENT if show_secrets else Need.ANYONE, name, "showing secrets")
        detail = self.rules.detail(uow.tx, require(uow.tx.get_component(name), "component", name))
        return self._revealed(uow, detail) if show_secrets else detail

    def _revealed(self, uow: UnitOfWork, detail: ComponentDetail) -> ComponentDetail:
        """The detail with its secrets resolved, once the user may read every secret it refers to."""
        _require_referenced_secrets(uow, detail.config)
        if detail.connector is not None:
            _require_referenced_secrets(uow, detail.connector.configuration)
        return self.rules.with_secrets(uow.tx, detail)

    def delete_component(self, uow: UnitOfWork, name: str) -> None:
        """Delete a component and its owned secret; refused while a stack uses it."""
        uow.require(Need.COMPONENT, name, f"deleting component {name!r}")
        self.rules.remove_component(uow.tx, name)

    # ----- stacks ---------------------------------------------------------------------------

    def register_stack(
        self,
        uow: UnitOfWork,
        name: str,
        component_names: Iterable[str],
        *,
        labels: Mapping[str, str] | None = None,
        replace: bool = False,
    ) -> Stack:
        """Group components into a stack: one per type, with an orchestrator and an artifact store."""
        names = list(component_names)
        uow.require(Need.STACK if replace else Need.ANYONE, name, "registering the stack")
        for component_name in names:
            uow.require(Need.COMPONENT, component_name, f"adding component {component_name!r} to stack {name!r}")
        return self.rules.write_stack(uow.tx, name, names, dict(labels or {}), replace=replace)

    def check_stack_name_free(self, uow: UnitOfWork, name: str) -> None:
        """Raise ConflictError if a stack of this name exists."""
        uow.require(Need.ANYONE, name, "reading stacks")
        self.rules.check_stack_name_free(uow.tx, name)

    def get_stack(self, uow: UnitOfWork, name: str) -> Stack:
        uow.require(Need.STACK, name, "reading stacks")
        return require(uow.tx.get_stack(name), "stack", name)

    def list_stacks(self, uow: UnitOfWork) -> list[Stack]:
        """The stacks the user may see: a restricted stack is listed only to its granted users (and admins)."""
        return _allowed(uow, uow.tx.list_stacks(), "listing stacks", Need.STACK)

    def describe_stack(self, uow: UnitOfWork, name: str, *, show_secrets: bool = False) -> StackDetail:
        """The stack with each component and its connector; secrets stay references unless asked."""
        uow.require(Need.STACK, name, "showing secrets" if show_secrets else "reading stacks")
        stack = require(uow.tx.get_stack(name), "stack", name)
        components = {
            component_type: self.rules.detail(uow.tx, require(uow.tx.get_component(cname), "component", cname))
            for component_type, cname in stack.components.items()
        }
        if show_secrets:
            components = {t: self._revealed(uow, d) for t, d in components.items()}
        return StackDetail(
            name=stack.name,
            active=self.active.get() == stack.name,
            labels=stack.labels,
            components=components,
            created_at=stack.created_at,
            updated_at=stack.updated_at,
        )

    def delete_stack(self, uow: UnitOfWork, name: str) -> None:
        """Delete a stack; its components stay registered."""
        uow.require(Need.STACK, name, "deleting the stack")
        require(uow.tx.get_stack(name), "stack", name)
        uow.tx.delete_stack(name)
        uow.tx.after_commit(lambda: self.active.forget(name))

    def set_active_stack(self, uow: UnitOfWork, name: str) -> None:
        """Remember ``name`` as this user's active stack (written once the check has committed)."""
        uow.require(Need.STACK, name, "using the stack")
        require(uow.tx.get_stack(name), "stack", name)
        uow.tx.after_commit(lambda: self.active.set(name))


def _allowed(uow: UnitOfWork, found: list[Listed], what: str, need: Need = Need.ANYONE) -> list[Listed]:
    """The items the gate lets the user list: each passes the rule of ``need`` for its name."""
    permissions = [Permission(need, item.name, what) for item in found]
    return [item for item, allowed in zip(found, uow.gate.allows_each(uow.tx, uow.user, permissions)) if allowed]


def _require_referenced_secrets(uow: UnitOfWork, config: Mapping[str, Any]) -> None:
    """A ``{{secret:NAME.KEY}}`` in a config reads that secret: whoever writes it must be allowed to read it."""
    from provisioner.secrets import references_in

    for secret_name, _key in sorted(references_in(config)):
        uow.require(Need.SECRET, secret_name, f"referencing secret {secret_name!r}")
