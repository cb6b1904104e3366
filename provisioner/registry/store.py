"""SQLAlchemy store of the registry. Rows never leave this module: pydantic models go in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
from sqlalchemy.pool import NullPool

from provisioner.errors import ConflictError
from provisioner.registry.history import DeploymentRun
from provisioner.registry.audit_chain import GENESIS, AuditLink, AuditRecord, ChainHead, link_hash
from provisioner.registry.models import (
    Component,
    ComponentSpec,
    ComponentType,
    Connector,
    ConnectorSpec,
    LockInfo,
    SecretInfo,
    Stack,
    StackSpec,
    TokenInfo,
)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class _Base(DeclarativeBase):
    pass


def schema_metadata() -> Any:
    """The tables of the registry as the models declare them (the migrations build the same; a test checks)."""
    return _Base.metadata


class _Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class _ConnectorRow(_Timestamps, _Base):
    __tablename__ = "connectors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    auth_method: Mapped[str] = mapped_column(String(32))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON)
    resource_types: Mapped[list[str]] = mapped_column(JSON)
    env: Mapped[str | None] = mapped_column(String(64), nullable=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    disabled: Mapped[bool] = mapped_column(default=False, server_default="0")  # as migration 0003 adds it


class _ComponentRow(_Timestamps, _Base):
    __tablename__ = "components"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    flavor: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    connector_id: Mapped[int | None] = mapped_column(
        ForeignKey("connectors.id", ondelete="RESTRICT"), nullable=True
    )
    connector: Mapped[_ConnectorRow | None] = relationship()


class _StackMemberRow(_Base):
    __tablename__ = "stack_members"
    __table_args__ = (UniqueConstraint("stack_id", "type"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    stack_id: Mapped[int] = mapped_column(ForeignKey("stacks.id", ondelete="CASCADE"))
    component_id: Mapped[int] = mapped_column(ForeignKey("components.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(32))
    component: Mapped[_ComponentRow] = relationship()


class _StackRow(_Timestamps, _Base):
    __tablename__ = "stacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    members: Mapped[list[_StackMemberRow]] = relationship(cascade="all, delete-orphan")


class _SecretRow(_Timestamps, _Base):
    __tablename__ = "secrets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    backend: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    keys: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(160), nullable=True)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)


class _UserRow(_Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    disabled: Mapped[bool] = mapped_column(default=False, server_default="0")  # as migration 0003 adds it


class _TokenRow(_Base):
    """An API token: only its SHA-256 is kept; the token itself is shown once, when it is made."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(128), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class _StackAccessRow(_Base):
    __tablename__ = "stack_access"
    __table_args__ = (UniqueConstraint("stack_name", "user_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    stack_name: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(128))


class _AuditRow(_Base):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("seq", name="uq_audit_log_seq"),)  # the name migration 0003 gave it
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=_now, index=True)
    user: Mapped[str] = mapped_column(String(128), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    result: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    seq: Mapped[int | None] = mapped_column(nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class _AuditHeadRow(_Base):
    """The audit chain's head, kept outside the audit table: deleting the newest rows breaks the match."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column()
    hash: Mapped[str] = mapped_column(String(64))


class _ZenMLPushRow(_Base):
    """What `stack push` created in a ZenML server for one stack (see migration 0004)."""

    __tablename__ = "zenml_pushes"
    stack: Mapped[str] = mapped_column(String(200), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    project: Mapped[str] = mapped_column(String(200))
    push_id: Mapped[str] = mapped_column(String(64))
    pushed_by: Mapped[str] = mapped_column(String(128))
    pushed_at: Mapped[datetime] = mapped_column(default=_now)
    objects: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class _DeploymentRunRow(_Base):
    """One deploy or destroy of a stack (see migration 0005); outlives the stack's registration."""

    __tablename__ = "deployment_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    stack: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    env: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime] = mapped_column()
    result: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class _WebSessionRow(_Base):
    """A dashboard sign-in (see migration 0006): the session id and API token are kept only as SHA-256."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime] = mapped_column()


class _LockRow(_Base):
    """One operation per stack: the row exists while a deploy, destroy or registration runs."""

    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    user: Mapped[str] = mapped_column(String(128))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column()
    token: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(default=_now)


class _SettingRow(_Base):
    __tablename__ = "settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _run(row: _DeploymentRunRow) -> DeploymentRun:
    return DeploymentRun.model_validate({
        **row.details, "id": row.id, "stack": row.stack, "kind": row.kind, "env": row.env, "user": row.user,
        "started_at": row.started_at.replace(tzinfo=timezone.utc), "finished_at": row.finished_at.replace(tzinfo=timezone.utc),
        "result": row.result,
    })


def _component(row: _ComponentRow) -> Component:
    return Component(
        name=row.name,
        type=ComponentType(row.type),
        flavor=row.flavor,
        config=dict(row.config),
        labels=dict(row.labels),
        connector=row.connector.name if row.connector else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _connector(row: _ConnectorRow) -> Connector:
    return Connector.model_validate(
        {
            "name": row.name,
            "type": row.type,
            "auth_method": row.auth_method,
            "configuration": dict(row.configuration),
            "resource_types": list(row.resource_types),
            "env": row.env,
            "labels": dict(row.labels),
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "disabled": bool(row.disabled),
        }
    )


def _stack(row: _StackRow) -> Stack:
    return Stack(
        name=row.name,
        components={ComponentType(m.type): m.component.name for m in row.members},
        labels=dict(row.labels),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _lock(row: _LockRow) -> LockInfo:
    return LockInfo(name=row.name, operation=row.operation, user=row.user, host=row.host, pid=row.pid, token=row.token, since=row.since)


def _token(row: _TokenRow) -> TokenInfo:
    return TokenInfo(
        id=row.id, user=row.user_name, prefix=row.prefix, label=row.label, created_at=row.created_at,
        expires_at=row.expires_at, revoked_at=row.revoked_at,
    )


def _secret(row: _SecretRow) -> SecretInfo:
    return SecretInfo(
        name=row.name,
        keys=list(row.keys),
        backend=row.backend,
        owner=row.owner,
        labels=dict(row.labels),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _taken(kind: str, name: str) -> ConflictError:
    """A concurrent transaction committed ``name`` first (the same message as when it was there before)."""
    if kind == "secret":  # setting a secret adds keys to an existing one: here, one that appeared meanwhile
        return ConflictError(f"secret {name!r} was written by another request at the same moment; try again")
    return ConflictError(f"{kind} {name!r} already exists")


class Transaction:
    """Reads and writes inside one database transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._after_commit: list[Callable[[], None]] = []
        self._seen_absent: set[tuple[type[Any], str]] = set()  # (model, name) looked up and not found here
        self._user_states: dict[str, tuple[str, bool] | None] | None = None  # see reading_users_once
        self._all_grants: dict[str, list[str]] | None = None  # see reading_users_once

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this transaction has committed (never if it rolls back)."""
        self._after_commit.append(action)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what the block wrote is rolled back if it raises; the outer one goes on."""
        pending = len(self._after_commit)
        try:
            with self._session.begin_nested():
                yield
        except BaseException:
            del self._after_commit[pending:]  # what the block planned for after the commit is void too
            raise

    def _one(self, model: type[Any], name: str) -> Any:
        row = self._session.scalars(select(model).where(model.name == name)).one_or_none()
        if row is None:
            self._seen_absent.add((model, name))
        return row

    def _row_to_save(self, model: type[Any], name: str, kind: str) -> Any:
        """The row named ``name`` to update in place, or a new (not yet added) one to insert.

        On PostgreSQL (READ COMMITTED) another transaction may commit a row of this name after this
        one found the name free ("already exists?" checks): updating that row in place would
        silently overwrite the other write, so it is a ConflictError, as if it had been there first.
        """
        row = self._session.scalars(select(model).where(model.name == name)).one_or_none()
        if row is not None and (model, name) in self._seen_absent:
            raise _taken(kind, name)
        return row if row is not None else model(name=name)

    def _add(self, row: Any, kind: str) -> None:
        """Add and flush ``row``; a new row whose name a concurrent transaction took is a ConflictError.

        The insert runs in a savepoint: on PostgreSQL it waits for the other transaction and then
        fails on the unique name (an IntegrityError, which would otherwise be a 500 on the server).
        """
        from sqlalchemy import inspect
        from sqlalchemy.exc import IntegrityError

        if inspect(row).persistent:
            self._session.flush()
            return
        model, name = type(row), row.name
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            if self._session.scalars(select(model.id).where(model.name == name)).first() is None:
                raise
            raise _taken(kind, name) from None
        self._seen_absent.discard((model, name))  # this transaction's own row from now on

    # components
    def get_component(self, name: str) -> Component | None:
        row = self._one(_ComponentRow, name)
        return _component(row) if row else None

    def list_components(self, component_type: ComponentType | None = None) -> list[Component]:
        query = select(_ComponentRow).options(selectinload(_ComponentRow.connector)).order_by(_ComponentRow.name)
        if component_type is not None:
            query = query.where(_ComponentRow.type == component_type.value)
        return [_component(row) for row in self._session.scalars(query)]

    def save_component(self, spec: ComponentSpec) -> Component:
        """Insert the component, or update the one of the same name in place."""
        row = self._row_to_save(_ComponentRow, spec.name, "component")
        row.type = spec.type.value
        row.flavor = spec.flavor
        row.config = dict(spec.config)
        row.labels = dict(spec.labels)
        row.connector = self._one(_ConnectorRow, spec.connector) if spec.connector else None
        self._add(row, "component")
        return _component(row)

    def delete_component(self, name: str) -> None:
        self._session.delete(self._one(_ComponentRow, name))
        self._session.flush()

    def stacks_using_component(self, name: str) -> list[str]:
        query = (
            select(_StackRow.name)
            .join(_StackMemberRow, _StackMemberRow.stack_id == _StackRow.id)
            .join(_ComponentRow, _ComponentRow.id == _StackMemberRow.component_id)
            .where(_ComponentRow.name == name)
            .order_by(_StackRow.name)
        )
        return list(self._session.scalars(query))

    # connectors
    def get_connector(self, name: str) -> Connector | None:
        row = self._one(_ConnectorRow, name)
        return _connector(row) if row else None

    def list_connectors(self) -> list[Connector]:
        return [_connector(r) for r in self._session.scalars(select(_ConnectorRow).order_by(_ConnectorRow.name))]

    def save_connector(self, spec: ConnectorSpec) -> Connector:
        """Insert the connector, or update the one of the same name in place."""
        row = self._row_to_save(_ConnectorRow, spec.name, "connector")
        row.type = spec.type
        row.auth_method = spec.auth_method
        row.configuration = dict(spec.configuration)
        row.resource_types = [r.value for r in spec.resource_types]
        row.env = spec.env
        row.labels = dict(spec.labels)
        self._add(row, "connector")
        return _connector(row)

    def delete_connector(self, name: str) -> None:
        self._session.delete(self._one(_ConnectorRow, name))
        self._session.flush()

    def components_using_connector(self, name: str) -> list[str]:
        query = (
            select(_ComponentRow.name)
            .join(_ConnectorRow, _ConnectorRow.id == _ComponentRow.connector_id)
            .where(_ConnectorRow.name == name)
            .order_by(_ComponentRow.name)
        )
        return list(self._session.scalars(query))

    # stacks
    def get_stack(self, name: str) -> Stack | None:
        row = self._one(_StackRow, name)
        return _stack(row) if row else None

    def list_stacks(self) -> list[Stack]:
        # Members and their components in two more queries, not two lazy loads per stack.
        query = select(_StackRow).options(selectinload(_StackRow.members).selectinload(_StackMemberRow.component))
        return [_stack(r) for r in self._session.scalars(query.order_by(_StackRow.name))]

    def save_stack(self, spec: StackSpec) -> Stack:
        """Insert the stack, or replace the members and labels of the one of the same name."""
        row = self._row_to_save(_StackRow, spec.name, "stack")
        row.labels = dict(spec.labels)
        row.members.clear()
        self._add(row, "stack")
        for component_type, component_name in spec.components.items():
            component = self._one(_ComponentRow, component_name)
            row.members.append(_StackMemberRow(type=component_type.value, component=component))
        self._session.flush()
        return _stack(row)

    def delete_stack(self, name: str) -> None:
        self._session.delete(self._one(_StackRow, name))
        self._session.flush()

    # secrets
    def get_secret(self, name: str) -> tuple[SecretInfo, str] | None:
        """The secret's metadata and its sealed payload."""
        row = self._one(_SecretRow, name)
        return (_secret(row), row.payload) if row else None

    def list_secrets(self) -> list[SecretInfo]:
        return [_secret(r) for r in self._session.scalars(select(_SecretRow).order_by(_SecretRow.name))]

    def save_secret(
        self, name: str, *, backend: str, payload: str, keys: list[str], owner: str | None, labels: dict[str, str]
    ) -> SecretInfo:
        """Insert or replace a secret's sealed payload."""
        row = self._row_to_save(_SecretRow, name, "secret")
        row.backend = backend
        row.payload = payload
        row.keys = sorted(keys)
        row.owner = owner
        row.labels = dict(labels)
        self._add(row, "secret")
        return _secret(row)

    def delete_secret(self, name: str) -> None:
        self._session.delete(self._one(_SecretRow, name))
        self._session.flush()

    # users, access, audit, settings
    def users(self) -> dict[str, str]:
        """User name -> role."""
        return {row.name: row.role for row in self._session.scalars(select(_UserRow).order_by(_UserRow.name))}

    def save_user(self, name: str, role: str) -> None:
        row = self._session.scalars(select(_UserRow).where(_UserRow.name == name)).one_or_none() or _UserRow(name=name)
        row.role = role
        self._session.add(row)
        self._session.flush()

    def user_state(self, name: str) -> tuple[str, bool] | None:
        """The user's role and whether they are disabled; None for a user nobody added."""
        if self._user_states is not None and name in self._user_states:
            return self._user_states[name]
        row = self._session.execute(select(_UserRow.role, _UserRow.disabled).where(_UserRow.name == name)).one_or_none()
        state = (row[0], bool(row[1])) if row else None
        if self._user_states is not None:
            self._user_states[name] = state
        return state

    @contextmanager
    def reading_users_once(self) -> Iterator[None]:
        """In the block, :meth:`user_state` reads each user once, and every stack's grants are read in one query
        (a list's items all judged by one reading).

        Nothing in the block may change users: it is for read-only filtering.
        """
        outer, outer_grants = self._user_states, self._all_grants
        self._user_states = {} if outer is None else outer
        if outer_grants is None:
            self._all_grants = {}
            for stack_name, user_name in self._session.execute(
                select(_StackAccessRow.stack_name, _StackAccessRow.user_name).order_by(_StackAccessRow.user_name)
            ):
                self._all_grants.setdefault(stack_name, []).append(user_name)
        try:
            yield
        finally:
            self._user_states, self._all_grants = outer, outer_grants

    def disabled_users(self) -> set[str]:
        """Names of the users whose access is switched off."""
        return set(self._session.scalars(select(_UserRow.name).where(_UserRow.disabled.is_(True))))

    def set_user_disabled(self, name: str, disabled: bool) -> bool:
        """Switch a user's access off or on; False when there is no such user."""
        row = self._session.scalars(select(_UserRow).where(_UserRow.name == name)).one_or_none()
        if row is None:
            return False
        row.disabled = disabled
        self._session.flush()
        return True

    def set_connector_disabled(self, name: str, disabled: bool) -> Connector | None:
        """Switch a connector off or on; None when there is no such connector."""
        row = self._one(_ConnectorRow, name)
        if row is None:
            return None
        row.disabled = disabled
        self._session.flush()
        return _connector(row)

    # API tokens
    def add_token(self, *, user: str, token_hash: str, prefix: str, label: str, expires_at: datetime) -> TokenInfo:
        row = _TokenRow(user_name=user, token_hash=token_hash, prefix=prefix, label=label, expires_at=expires_at)
        self._session.add(row)
        self._session.flush()
        return _token(row)

    def token_by_hash(self, token_hash: str) -> TokenInfo | None:
        row = self._session.scalars(select(_TokenRow).where(_TokenRow.token_hash == token_hash)).one_or_none()
        return _token(row) if row else None

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        query = select(_TokenRow).order_by(_TokenRow.id)
        if user is not None:
            query = query.where(_TokenRow.user_name == user)
        return [_token(row) for row in self._session.scalars(query)]

    def revoke_tokens(self, *, user: str | None = None, token_id: int | None = None) -> list[TokenInfo]:
        """Revoke a user's live tokens, or one token by id; returns those revoked now."""
        query = select(_TokenRow).where(_TokenRow.revoked_at.is_(None))
        if user is not None:
            query = query.where(_TokenRow.user_name == user)
        if token_id is not None:
            query = query.where(_TokenRow.id == token_id)
        revoked = []
        for row in self._session.scalars(query):
            row.revoked_at = _now()
            revoked.append(row)
        self._session.flush()
        return [_token(row) for row in revoked]

    def delete_user(self, name: str) -> None:
        for row in self._session.scalars(select(_UserRow).where(_UserRow.name == name)):
            self._session.delete(row)
        self._session.flush()

    def stack_grants(self, stack_name: str) -> list[str]:
        if self._all_grants is not None:
            return list(self._all_grants.get(stack_name, []))
        query = select(_StackAccessRow.user_name).where(_StackAccessRow.stack_name == stack_name).order_by(_StackAccessRow.user_name)
        return list(self._session.scalars(query))

    def grant(self, stack_name: str, user: str) -> None:
        if user not in self.stack_grants(stack_name):
            self._session.add(_StackAccessRow(stack_name=stack_name, user_name=user))
            self._session.flush()

    def revoke(self, stack_name: str, user: str) -> None:
        query = select(_StackAccessRow).where(_StackAccessRow.stack_name == stack_name, _StackAccessRow.user_name == user)
        for row in self._session.scalars(query):
            self._session.delete(row)
        self._session.flush()

    def add_audit(self, *, user: str, action: str, target: str, result: str, detail: str) -> None:
        """Append a row to the audit chain: it takes the head's seq + 1 and a hash over the head's hash.

        The head row is read FOR UPDATE, so on PostgreSQL concurrent appends queue on it until this
        transaction ends (SQLite transactions are BEGIN IMMEDIATE already); the head moves to the new
        row in the same transaction. ``at`` is computed here, before hashing, and stored as hashed.
        """
        head = self._audit_head(lock=True) or self._start_audit_head()
        link = AuditLink(seq=head.seq + 1, at=_now(), user=user, action=action, target=target[:200], result=result,
                         detail=detail, prev_hash=head.hash)
        digest = link_hash(link)
        self._session.add(_AuditRow(seq=link.seq, at=link.at, user=link.user, action=link.action, target=link.target,
                                    result=link.result, detail=link.detail, prev_hash=link.prev_hash, hash=digest))
        head.seq, head.hash = link.seq, digest
        self._session.flush()

    def queue_behind_writers(self) -> None:
        """Wait for, then hold, the audit head lock: later reads see what writers before us committed."""
        if self._audit_head(lock=True) is None:
            self._start_audit_head()

    def _audit_head(self, *, lock: bool, read: bool = False) -> _AuditHeadRow | None:
        query = select(_AuditHeadRow).where(_AuditHeadRow.id == 1)
        if lock:
            query = query.with_for_update(read=read)
        return self._session.scalars(query.execution_options(populate_existing=True)).one_or_none()

    def _start_audit_head(self) -> _AuditHeadRow:
        """The head row, made from the last chained row when it is missing (migrations always write it)."""
        from sqlalchemy.exc import IntegrityError

        last = self._session.scalars(
            select(_AuditRow).where(_AuditRow.seq.is_not(None)).order_by(_AuditRow.seq.desc()).limit(1)
        ).one_or_none()
        try:
            with self._session.begin_nested():
                self._session.add(_AuditHeadRow(id=1, seq=last.seq if last else 0, hash=last.hash if last else GENESIS))
        except IntegrityError:  # another transaction made it first; wait for it like any append
            pass
        head = self._audit_head(lock=True)
        assert head is not None
        return head

    def audit(self, *, since: datetime | None = None, user: str | None = None) -> list[dict[str, Any]]:
        query = select(_AuditRow).order_by(_AuditRow.id)
        if since is not None:
            query = query.where(_AuditRow.at >= since)
        if user is not None:
            query = query.where(_AuditRow.user == user)
        return [
            {"at": r.at, "user": r.user, "action": r.action, "target": r.target, "result": r.result, "detail": r.detail}
            for r in self._session.scalars(query)
        ]

    def audit_count(self) -> int:
        from sqlalchemy import func

        return int(self._session.scalar(select(func.count()).select_from(_AuditRow)) or 0)

    def audit_chain(self) -> tuple[list[AuditRecord], ChainHead | None]:
        """Every audit row with its chain fields (by seq; rows without one last, by id) and the chain head.

        The head is read first with a share lock, so no append commits between the two reads on PostgreSQL.
        """
        head = self._audit_head(lock=True, read=True)
        query = select(_AuditRow).order_by(_AuditRow.seq.is_(None), _AuditRow.seq, _AuditRow.id)
        records = [
            AuditRecord(id=r.id, seq=r.seq, at=r.at, user=r.user, action=r.action, target=r.target, result=r.result,
                        detail=r.detail or "", prev_hash=r.prev_hash or "", hash=r.hash or "")
            for r in self._session.scalars(query)
        ]
        return records, (ChainHead(seq=head.seq, hash=head.hash) if head else None)

    def setting(self, key: str) -> dict[str, Any] | None:
        row = self._session.scalars(select(_SettingRow).where(_SettingRow.key == key)).one_or_none()
        return dict(row.value) if row else None

    def save_setting(self, key: str, value: dict[str, Any]) -> None:
        row = self._session.scalars(select(_SettingRow).where(_SettingRow.key == key)).one_or_none() or _SettingRow(key=key)
        row.value = dict(value)
        self._session.add(row)
        self._session.flush()

    # locks
    def lock_holder(self, name: str) -> LockInfo | None:
        row = self._session.get(_LockRow, name)
        return _lock(row) if row else None

    def insert_lock(self, lock: LockInfo) -> bool:
        """Take the lock; False (and nothing written) when someone holds it."""
        from sqlalchemy.exc import IntegrityError

        try:
            with self._session.begin_nested():
                self._session.add(
                    _LockRow(name=lock.name, operation=lock.operation, user=lock.user, host=lock.host, pid=lock.pid,
                             token=lock.token, since=lock.since)
                )
        except IntegrityError:
            return False
        return True

    def delete_lock(self, name: str, token: str | None = None) -> bool:
        """Remove the lock (only if it still has ``token``, when given); whether a row was removed."""
        row = self._session.get(_LockRow, name)
        if row is None or (token is not None and row.token != token):
            return False
        self._session.delete(row)
        self._session.flush()
        return True

    def zenml_push(self, stack: str) -> dict[str, Any] | None:
        """The record of what `stack push` created in ZenML for ``stack``, or None."""
        row = self._session.get(_ZenMLPushRow, stack)
        if row is None:
            return None
        return {"stack": row.stack, "url": row.url, "project": row.project, "push_id": row.push_id, "pushed_by": row.pushed_by,
                "pushed_at": row.pushed_at.isoformat(), "objects": list(row.objects)}

    def save_zenml_push(self, stack: str, *, url: str, project: str, push_id: str, pushed_by: str,
                        objects: list[dict[str, Any]]) -> None:
        row = self._session.get(_ZenMLPushRow, stack) or _ZenMLPushRow(stack=stack)
        row.url, row.project, row.push_id, row.pushed_by, row.pushed_at = url, project, push_id, pushed_by, _now()
        row.objects = objects
        self._session.add(row)
        self._session.flush()

    def delete_zenml_push(self, stack: str) -> bool:
        row = self._session.get(_ZenMLPushRow, stack)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True

    def add_run(self, run: DeploymentRun) -> int:
        """Keep one deploy or destroy in the stack's history; its id."""
        details = run.model_dump(mode="json", exclude={"id", "stack", "kind", "env", "user", "started_at", "finished_at", "result"})
        row = _DeploymentRunRow(stack=run.stack, kind=run.kind, env=run.env, user=run.user, result=run.result,
                                started_at=_naive_utc(run.started_at), finished_at=_naive_utc(run.finished_at), details=details)
        self._session.add(row)
        self._session.flush()
        return row.id

    def runs(self, stack: str | None = None, *, limit: int = 50, real_only: bool = False) -> list[DeploymentRun]:
        """The newest runs first, of one stack or of all."""
        query = select(_DeploymentRunRow).order_by(_DeploymentRunRow.id.desc()).limit(limit)
        if stack is not None:
            query = query.where(_DeploymentRunRow.stack == stack)
        rows = self._session.scalars(query)
        found = [_run(row) for row in rows]
        return [run for run in found if not run.simulated] if real_only else found

    def latest_runs(self, kinds: tuple[str, ...] = ("deploy", "destroy")) -> dict[str, DeploymentRun]:
        """Each stack's newest run of these kinds, in one query."""
        newest = select(func.max(_DeploymentRunRow.id)).where(_DeploymentRunRow.kind.in_(kinds)).group_by(
            _DeploymentRunRow.stack)
        rows = self._session.scalars(select(_DeploymentRunRow).where(_DeploymentRunRow.id.in_(newest)))
        return {row.stack: _run(row) for row in rows}

    def add_web_session(self, *, id_hash: str, token_hash: str, csrf: str, expires_at: datetime) -> None:
        self._session.add(_WebSessionRow(id_hash=id_hash, token_hash=token_hash, csrf=csrf, expires_at=_naive_utc(expires_at)))
        self._session.flush()

    def web_session(self, id_hash: str) -> tuple[str, str, datetime] | None:
        """A sign-in's token hash, CSRF token and expiry; None when there is none."""
        row = self._session.get(_WebSessionRow, id_hash)
        return (row.token_hash, row.csrf, row.expires_at) if row else None

    def delete_expired_web_sessions(self, now: datetime) -> int:
        """Remove every sign-in past its expiry; how many."""
        from sqlalchemy import delete

        result = self._session.execute(delete(_WebSessionRow).where(_WebSessionRow.expires_at <= _naive_utc(now)))
        return int(result.rowcount or 0)

    def delete_web_session(self, id_hash: str) -> bool:
        row = self._session.get(_WebSessionRow, id_hash)
        if row is None:
            return False
        self._session.delete(row)
        self._session.flush()
        return True

    def stacks_with_runs(self) -> list[str]:
        """Every stack name the history knows, registered or not."""
        return list(self._session.scalars(select(_DeploymentRunRow.stack).distinct().order_by(_DeploymentRunRow.stack)))

    def secrets_owned_by(self, owner: str) -> list[str]:
        query = select(_SecretRow.name).where(_SecretRow.owner == owner).order_by(_SecretRow.name)
        return list(self._session.scalars(query))


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, and every transaction BEGIN IMMEDIATE: concurrent writers then queue on the
    busy timeout instead of failing with 'database is locked' when a read turns into a write."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let the begin hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Store:
    """The registry database; its schema is migrated to this client's head on open (Alembic)."""

    def __init__(self, url: str, *, pooled: bool = False) -> None:
        self.url = url
        sqlite = url.startswith("sqlite")
        if sqlite:
            from provisioner.paths import private_sqlite_file

            private_sqlite_file(url)
        # A CLI run is short and needs no pool (idle pooled connections would pile up on a shared
        # database); the server keeps a small pool, since a new PostgreSQL connection costs milliseconds.
        pool: dict[str, Any] = {"pool_size": 5, "max_overflow": 10, "pool_pre_ping": True} if pooled else {"poolclass": NullPool}
        self._engine = create_engine(url, connect_args={"timeout": 60} if sqlite else {}, **pool)
        if sqlite:
            _configure_sqlite(self._engine)
        from provisioner.registry.schema import migrate

        migrate(self._engine)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.

        Actions registered with ``after_commit`` (deleting secrets in an external backend) run only
        after the commit succeeded, so a rollback never leaves a row pointing at a deleted secret.
        """
        with Session(self._engine, expire_on_commit=False) as session:
            with session.begin():
                tx = Transaction(session)
                yield tx
            for action in tx._after_commit:
                action()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def drop_all(self) -> None:
        """Remove every table, the migration history included (tests use this to reset a shared database)."""
        from sqlalchemy import text

        _Base.metadata.drop_all(self._engine)
        with self._engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
