"""Re-create an exported stack in one unit of work: every problem reported at once, or everything written.

Each connector, component and the stack go through the catalog service, so the registry's own
rules (names, flavors, config schemas, connectors, secrets, environments) and the permission gate
apply, written once. Each step runs in a savepoint: a step that fails is noted and undone by the
database, the next steps still run, so one pass finds every problem. If there is any, the whole
unit of work rolls back and one error lists them all; otherwise it commits. An unexpected failure
(a database error) rolls everything back too: there is no hand-written undo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioner.errors import InputError, NotFoundError
from provisioner.exports.format import StackExport
from provisioner.registry.access import Need
from provisioner.registry.connector_schemas import config_class_for
from provisioner.registry.models import ComponentSpec, ConnectorSpec, SecretInfo
from provisioner.registry.unit_of_work import UnitOfWork
from provisioner.registry.vault import MissingSecretError, owned_secret_name, owner_of
from provisioner.secrets import parse_reference, references_in

if TYPE_CHECKING:
    from provisioner.registry.service import Registry


@dataclass
class ImportResult:
    """What an import registered, and remarks for the user."""

    stack: str
    connectors: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Problems:
    """Problems found by the import's steps, reported together in one line."""

    def __init__(self) -> None:
        self.items: list[InputError] = []
        self.missing: dict[tuple[str, str], tuple[bool, list[str]]] = {}  # (secret, key) -> (exists, referrers)

    def add(self, error: InputError, subject: str) -> None:
        if isinstance(error, MissingSecretError):
            for secret, key, exists in error.missing:
                self.missing.setdefault((secret, key), (exists, []))[1].append(error.referrer)
            return
        message = str(error)
        self.items.append(type(error)(message if message.startswith(subject) else f"{subject}: {message}"))

    def _messages(self) -> list[tuple[type[InputError], str]]:
        found = [(type(error), str(error)) for error in self.items]
        absent: dict[str, tuple[list[str], list[str]]] = {}
        for (secret, key), (exists, referrers) in sorted(self.missing.items()):
            if exists:
                found.append((NotFoundError, f"secret {secret!r} has no key {key!r}{_referenced_by(referrers)}"))
                continue
            keys, by = absent.setdefault(secret, ([], []))
            keys.append(key)
            by.extend(r for r in referrers if r not in by)
        for secret, (keys, referrers) in absent.items():
            create = f"provisioner secret set {secret} {' '.join(keys)}"
            found.append((NotFoundError, f"secret {secret!r} does not exist{_referenced_by(referrers)}: create it first ({create})"))
        return found

    def raise_if_any(self, stack_name: str) -> None:
        messages = self._messages()
        if not messages:
            return
        kinds = {kind for kind, _ in messages}
        kind = kinds.pop() if len(kinds) == 1 else InputError
        raise kind(f"cannot import stack {stack_name!r}, nothing was written: " + "; ".join(m for _, m in messages))


def _referenced_by(referrers: list[str]) -> str:
    return f" (referenced by {', '.join(referrers)})" if referrers else ""


def import_stack(registry: Registry, document: StackExport, *, name: str | None = None) -> ImportResult:
    """Re-create the exported connectors, components and stack; all or nothing.

    With ``name``, the stack and every connector and component get that stack's prefix
    (:mod:`provisioner.exports.renaming`), so a copy can sit beside the original.

    Raises:
        InputError: every problem found (names taken, missing secrets, invalid configs, unknown
            flavors or connectors, permissions), in one message; nothing was written.
    """
    if getattr(registry, "remote", False):  # client mode: the server imports it in its own unit of work
        remote: ImportResult = registry.import_stack(document, name=name)
        return remote
    if name:
        from provisioner.exports.renaming import renamed

        document = renamed(document, name)
    stack_name = document.stack.name
    return registry.run("stack.import", stack_name, lambda uow: _Import(registry, uow, document, stack_name).run())


class _Import:
    def __init__(self, registry: Registry, uow: UnitOfWork, document: StackExport, stack_name: str) -> None:
        self.registry = registry
        self.uow = uow
        self.document = document
        self.stack_name = stack_name
        self.problems = _Problems()
        self.result = ImportResult(stack=stack_name)

    def run(self) -> ImportResult:
        catalog = self.registry.catalog
        secrets = {secret.name: secret for secret in self.registry.secrets.list_secrets(self.uow)}
        used = self._secrets_in_use()
        may_import_connectors = not self.document.connectors or self._step(
            "", lambda: self.uow.require(Need.ADMIN, self.stack_name, "importing connectors")
        )
        failed_connectors: set[str] = set()
        for connector in self.document.connectors:
            ok = may_import_connectors and self._step(
                f"connector {connector.name!r}",
                lambda c=connector: self._register(c, "connector", secrets, used, lambda: catalog.register_connector(self.uow, c)),
            )
            if ok:
                self.result.connectors.append(connector.name)
            else:
                failed_connectors.add(connector.name)
        for component in self.document.components:
            # a component whose connector failed is still checked, unlinked: that failure is reported already
            spec = component.model_copy(update={"connector": None}) if component.connector in failed_connectors else component
            if self._step(
                f"component {component.name!r}",
                lambda s=spec: self._register(s, "component", secrets, used, lambda: catalog.register_component(self.uow, s)),
            ):
                self.result.components.append(component.name)
        names = [c.name for c in self.document.components]
        if len(self.result.components) == len(names):
            self._step(
                f"stack {self.stack_name!r}",
                lambda: catalog.register_stack(self.uow, self.stack_name, names, labels=self.document.stack.labels),
            )
        else:  # its components are already reported; its own name still counts
            self._step(f"stack {self.stack_name!r}", lambda: catalog.check_stack_name_free(self.uow, self.stack_name))
        self.problems.raise_if_any(self.stack_name)
        return self.result

    def _step(self, subject: str, action: Callable[[], Any]) -> bool:
        """Run ``action`` in a savepoint; an InputError becomes a problem (and its writes are undone)."""
        try:
            with self.uow.tx.savepoint():
                action()
        except InputError as exc:
            self.problems.add(exc, subject)
            return False
        return True

    def _register(
        self,
        spec: ComponentSpec | ConnectorSpec,
        kind: str,
        secrets: Mapping[str, SecretInfo],
        used: Mapping[str, list[str]],
        register: Callable[[], Any],
    ) -> None:
        self._adopt(spec, kind, secrets, used)
        register()

    def _adopt(
        self, spec: ComponentSpec | ConnectorSpec, kind: str, secrets: Mapping[str, SecretInfo], used: Mapping[str, list[str]]
    ) -> None:
        """Give back an owned secret (``component-NAME``/``connector-NAME``) the user re-created by hand.

        Deleting a component or connector deletes the secret it owns, so after a delete the user
        re-creates it unowned. An admin's import makes it owned by the imported object again (as in
        the export), so that updating or deleting the object works as before.
        """
        secret_name = owned_secret_name(kind, spec.name)
        exported = next((s for s in self.document.secrets if s.name == secret_name), None)
        current = secrets.get(secret_name)
        if exported is None or exported.owner != owner_of(kind, spec.name) or current is None or current.owner is not None:
            return
        config = spec.config if isinstance(spec, ComponentSpec) else spec.configuration
        if isinstance(spec, ComponentSpec):
            secret_fields = self.registry.flavors.get(spec.type, spec.flavor).config_class.secret_fields()
        else:
            secret_fields = config_class_for(spec.type, spec.auth_method).secret_fields()
        fields = sorted(f for f, v in config.items() if f in secret_fields and parse_reference(v) == (secret_name, f))
        keep = f"secret {secret_name!r} stays a plain secret (in the export {kind} {spec.name!r} owned it)"
        if not self.uow.allows(Need.ADMIN, secret_name, "giving a secret back to its owner"):
            self.result.notes.append(f"{keep}: giving it back to the {kind} needs the admin role")
        elif secret_name in used:
            self.result.notes.append(f"{keep}: {', '.join(used[secret_name])} also use(s) it")
        elif not fields or set(current.keys) != set(fields):
            self.result.notes.append(f"{keep}: its keys ({', '.join(current.keys)}) differ from the {kind}'s secret fields")
        else:
            self.registry.vault.adopt(self.uow.tx, secret_name, owner_of(kind, spec.name))
            self.result.notes.append(f"secret {secret_name!r} is owned by {kind} {spec.name!r} again, as in the export")

    def _secrets_in_use(self) -> dict[str, list[str]]:
        """Secret name -> the registered objects whose configs reference it."""
        used: dict[str, list[str]] = {}
        for component in self.registry.catalog.list_components(self.uow):
            for secret_name, _ in references_in(component.config):
                used.setdefault(secret_name, []).append(f"component {component.name!r}")
        for connector in self.registry.catalog.list_connectors(self.uow):
            for secret_name, _ in references_in(connector.configuration):
                used.setdefault(secret_name, []).append(f"connector {connector.name!r}")
        return used

