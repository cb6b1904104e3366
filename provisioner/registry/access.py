"""Who is acting, what roles allow, and the one permission gate every registry read and write passes.

Every service method calls :meth:`AccessGate.check` (through its unit of work) before it reads or
writes, inside the same transaction as the operation, so a check cannot go stale before the write
it guards. Issue 15 moves this class to the server; it is the only place permissions are decided.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING

from pydantic import BaseModel

from provisioner.errors import PermissionDeniedError

if TYPE_CHECKING:
    from provisioner.registry.store import Transaction

USER_ENV = "PROVISIONER_USER"


class Role(str, Enum):
    """admin: manages connectors, secrets, users and access. member: uses them."""

    ADMIN = "admin"
    MEMBER = "member"


def current_user() -> str:
    """PROVISIONER_USER, else the operating-system user."""
    return os.environ.get(USER_ENV) or getpass.getuser()


class UserInfo(BaseModel):
    name: str
    role: Role
    disabled: bool = False


class AuditEntry(BaseModel):
    """One recorded operation: who, what, on what, when, and how it ended (ok, denied, error)."""

    at: datetime
    user: str
    action: str
    target: str
    result: str
    detail: str = ""


class Need(str, Enum):
    """What an operation needs of the acting user; ``Permission.target`` names the object."""

    ANYONE = "anyone"  # names, metadata and settings; writes every member may do
    ADMIN = "admin"  # connectors, secrets, users, access, the secret backend
    STACK = "stack"  # use a stack: a restricted stack admits its granted users
    CONNECTOR = "connector"  # use a connector: one serving restricted stacks admits their granted users
    COMPONENT = "component"  # change or reveal a component: as its stacks and its connector allow
    SECRET = "secret"  # read a secret's values: as the component or connector owning it allows


@dataclass(frozen=True)
class Permission:
    """One request to the gate: ``what`` starts the refusal message ("registering connectors")."""

    need: Need
    target: str = ""
    what: str = ""


class AccessGate:
    """The one permission gate. Admins pass everything; members as the rules of ``Need`` say."""

    def check(self, tx: Transaction, user: str, permission: Permission) -> None:
        """Refuse ``permission`` to ``user``, reading grants and roles in ``tx``.

        Raises:
            PermissionDeniedError: the user may not do it (one line naming the rule).
        """
        refusal = self.refusal(tx, user, permission)
        if refusal is not None:
            raise PermissionDeniedError(refusal)

    def allows(self, tx: Transaction, user: str, permission: Permission) -> bool:
        """Whether :meth:`check` would pass (lists keep only what it allows)."""
        return self.refusal(tx, user, permission) is None

    def role(self, tx: Transaction, user: str) -> Role:
        """The user's role; users nobody added are members."""
        state = tx.user_state(user)
        return Role(state[0]) if state else Role.MEMBER

    def allows_each(self, tx: Transaction, user: str, permissions: Iterable[Permission]) -> list[bool]:
        """Whether :meth:`check` would pass each permission (lists keep only what it allows).

        Each one is decided by :meth:`refusal`, as :meth:`allows` does; the users' roles and states
        are read once for the whole list, not once per item.
        """
        with tx.reading_users_once():
            return [self.refusal(tx, user, permission) is None for permission in permissions]

    def refusal(self, tx: Transaction, user: str, permission: Permission) -> str | None:
        """Why ``permission`` is refused to ``user``, or None when it is allowed."""
        need, target, what = permission.need, permission.target, permission.what
        state = tx.user_state(user)
        if state is not None and state[1]:
            return f"user {user!r} is disabled: ask an admin (provisioner user enable {user})"
        if need is Need.ANYONE or (state is not None and state[0] == Role.ADMIN.value):
            return None
        if need is Need.ADMIN:
            return f"{what} needs the admin role; {user!r} is a member (ask an admin)"
        if need is Need.STACK:
            return self._stack_refusal(tx, user, target, what)
        if need is Need.CONNECTOR:
            return self._connector_refusal(tx, user, target, what)
        if need is Need.COMPONENT:
            return self._component_refusal(tx, user, target, what)
        return self._secret_refusal(tx, user, target)

    @staticmethod
    def _stack_refusal(tx: Transaction, user: str, stack_name: str, what: str) -> str | None:
        grants = tx.stack_grants(stack_name)
        if grants and user not in grants:
            return f"{what}: stack {stack_name!r} is restricted to {', '.join(grants)}; {user!r} may not use it"
        return None

    @staticmethod
    def _connector_refusal(tx: Transaction, user: str, connector_name: str, what: str) -> str | None:
        users = set(tx.components_using_connector(connector_name))
        restricted: dict[str, list[str]] = {}
        for stack in tx.list_stacks():
            grants = tx.stack_grants(stack.name)
            if grants and users & set(stack.components.values()):
                restricted[stack.name] = grants
        if restricted and not any(user in grants for grants in restricted.values()):
            return (
                f"{what}: connector {connector_name!r} serves restricted stack(s) {', '.join(sorted(restricted))}; "
                f"{user!r} is not granted any of them"
            )
        return None

    def _component_refusal(self, tx: Transaction, user: str, component_name: str, what: str) -> str | None:
        for stack_name in tx.stacks_using_component(component_name):
            refusal = self._stack_refusal(tx, user, stack_name, what)
            if refusal is not None:
                return refusal
        component = tx.get_component(component_name)
        if component is not None and component.connector:
            return self._connector_refusal(tx, user, component.connector, what)
        return None

    def _secret_refusal(self, tx: Transaction, user: str, secret_name: str) -> str | None:
        found = tx.get_secret(secret_name)
        owner = found[0].owner if found else None
        what = f"reading secret {secret_name!r}"
        if owner and owner.startswith("component:"):
            return self._component_refusal(tx, user, owner.split(":", 1)[1], what)
        if owner and owner.startswith("connector:"):
            # A connector's long-lived credentials stay with admins; members get short-lived ones.
            return f"{what}: connector credentials are for admins; members use the connector (verify, credentials)"
        return f"reading secret values needs the admin role; {user!r} is a member"
