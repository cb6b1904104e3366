"""One unit of work: a store transaction, the acting user and the gate, handed to every service call.

A service checks permissions and writes through the same unit of work, so the check and the write
it guards are in one transaction: both commit, or neither happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from provisioner.registry.access import AccessGate, Need, Permission, Role
from provisioner.registry.store import Store, Transaction


@dataclass(frozen=True)
class UnitOfWork:
    """The transaction an operation runs in, who runs it, and the gate that decides what they may do."""

    tx: Transaction
    user: str
    gate: AccessGate

    def require(self, need: Need, target: str = "", what: str = "") -> None:
        """Pass the gate or raise PermissionDeniedError, inside this unit of work's transaction."""
        self.gate.check(self.tx, self.user, Permission(need, target, what))

    def allows(self, need: Need, target: str = "", what: str = "") -> bool:
        """Whether the gate lets the user do it (for lists, which keep only what is allowed)."""
        return self.gate.allows(self.tx, self.user, Permission(need, target, what))

    def role(self) -> Role:
        return self.gate.role(self.tx, self.user)


@contextmanager
def unit_of_work(store: Store, user: str, gate: AccessGate) -> Iterator[UnitOfWork]:
    """A unit of work on a new transaction: committed when the block ends, rolled back if it raises."""
    with store.transaction() as tx:
        yield UnitOfWork(tx, user, gate)
