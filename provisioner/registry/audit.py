"""The audit log: an "ok" is written in the operation's own unit of work, a refusal or error after its rollback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from provisioner.errors import PermissionDeniedError, ProvisionerError
from provisioner.registry.access import AuditEntry, Need, Role
from provisioner.registry.audit_chain import ChainReport, verify_chain
from provisioner.registry.store import Store
from provisioner.registry.unit_of_work import UnitOfWork


class AuditService:
    """Records who did what, on what, and how it ended (ok, denied, error)."""

    def __init__(self, store: Store, user: str) -> None:
        self._store = store
        self._user = user

    def ok(self, uow: UnitOfWork, action: str, target: str) -> None:
        """Record success inside ``uow``: it commits with the operation's writes, or not at all."""
        uow.tx.add_audit(user=uow.user, action=action, target=target, result="ok", detail="")

    def failed(self, action: str, target: str, exc: ProvisionerError) -> None:
        """Record a refusal or an error in a transaction of its own (the operation's was rolled back)."""
        result = "denied" if isinstance(exc, PermissionDeniedError) else "error"
        with self._store.transaction() as tx:
            tx.add_audit(user=self._user, action=action, target=target, result=result, detail=" ".join(str(exc).split()))

    @contextmanager
    def audited(self, action: str, target: str) -> Iterator[None]:
        """Record the outcome of the block (ok, denied or error) in its own transaction."""
        try:
            yield
        except ProvisionerError as exc:
            self.failed(action, target, exc)
            raise
        with self._store.transaction() as tx:
            tx.add_audit(user=self._user, action=action, target=target, result="ok", detail="")

    def entries(self, uow: UnitOfWork, *, since: datetime | None = None, user: str | None = None) -> list[AuditEntry]:
        """The recorded operations, oldest first, optionally since a time and of one user.

        Admins read every entry; a member reads only their own (others' targets can name stacks
        restricted to others, which a member may not even list).
        """
        uow.require(Need.ANYONE, "audit", "reading the audit log")
        if uow.role() is not Role.ADMIN:
            if user is not None and user != uow.user:
                return []
            user = uow.user
        return [AuditEntry.model_validate(entry) for entry in uow.tx.audit(since=since, user=user)]

    def verify(self, uow: UnitOfWork) -> ChainReport:
        """Check the audit log's hash chain and its head; the report names the first broken row.

        Anyone may: whoever can read the log can recompute its hashes, and the verdict holds no secret.
        """
        uow.require(Need.ANYONE, "audit", "verifying the audit log")
        records, head = uow.tx.audit_chain()
        return verify_chain(records, head)
