"""API tokens: random, shown once, stored as SHA-256, with an expiry; revocable and rotatable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from pydantic import BaseModel

from provisioner.errors import AuthenticationError, InputError, NotFoundError
from provisioner.registry.access import Need, Role
from provisioner.registry.models import TokenInfo
from provisioner.registry.store import Store, Transaction
from provisioner.registry.unit_of_work import UnitOfWork

TOKEN_PREFIX = "pvt_"
DEFAULT_LIFETIME = timedelta(days=90)
MAX_LIFETIME = timedelta(days=366)
MIN_TOKEN_LENGTH = 32


class IssuedToken(BaseModel):
    """A token as issued: ``token`` is the only copy of its value; the registry keeps its hash."""

    user: str
    role: Role
    token: str
    info: TokenInfo


def new_token() -> str:
    """A fresh token: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def check_lifetime(lifetime: timedelta) -> timedelta:
    """Refuse a token lifetime that is not positive or is over a year."""
    if lifetime <= timedelta(0) or lifetime > MAX_LIFETIME:
        raise InputError(f"a token's lifetime must be between 1 minute and {MAX_LIFETIME.days} days")
    return lifetime


def _insert(tx: Transaction, user: str, token: str, lifetime: timedelta, label: str) -> TokenInfo:
    if len(token) < MIN_TOKEN_LENGTH:
        raise InputError(f"a token must be at least {MIN_TOKEN_LENGTH} characters long")
    return tx.add_token(
        user=user, token_hash=token_hash(token), prefix=token[: len(TOKEN_PREFIX) + 4], label=label,
        expires_at=_now() + lifetime,
    )


def authenticate(tx: Transaction, token: str) -> str:
    """The user a token belongs to.

    Raises:
        AuthenticationError: the token is unknown, expired or revoked, or its user is disabled or removed.
    """
    # The lookup is by SHA-256, so its timing says nothing about the token's characters.
    return authenticate_hash(tx, token_hash(token) if token else "")


def authenticate_hash(tx: Transaction, hashed: str) -> str:
    """The user whose token has this SHA-256 (a dashboard session keeps only the hash); as :func:`authenticate`."""
    info = tx.token_by_hash(hashed) if hashed else None
    if info is None:
        raise AuthenticationError("the server does not know this token: log in again with a valid one (provisioner login URL)")
    if info.revoked_at is not None:
        raise AuthenticationError(f"token {info.prefix}… was revoked: ask an admin for a new one")
    if info.expires_at <= _now():
        raise AuthenticationError(f"token {info.prefix}… expired at {info.expires_at.isoformat(timespec='seconds')} UTC: ask an admin for a new one")
    users = tx.users()
    if info.user not in users:
        raise AuthenticationError(f"user {info.user!r} of token {info.prefix}… no longer exists")
    if info.user in tx.disabled_users():
        raise AuthenticationError(f"user {info.user!r} is disabled")
    return info.user


class TokenService:
    """Issues, lists and revokes API tokens (admins only)."""

    def issue(self, uow: UnitOfWork, user: str, *, lifetime: timedelta = DEFAULT_LIFETIME, label: str = "") -> IssuedToken:
        """A new token for an existing user; its value is returned once and never stored."""
        uow.require(Need.ADMIN, user, "issuing tokens")
        users = uow.tx.users()
        if user not in users:
            raise NotFoundError(f"user {user!r} does not exist (provisioner user add {user} --role member)")
        token = new_token()
        info = _insert(uow.tx, user, token, check_lifetime(lifetime), label or "cli")
        return IssuedToken(user=user, role=Role(users[user]), token=token, info=info)

    def list(self, uow: UnitOfWork, user: str | None = None) -> list[TokenInfo]:
        uow.require(Need.ADMIN, user or "tokens", "listing tokens")
        return uow.tx.tokens(user)

    def revoke(self, uow: UnitOfWork, *, user: str | None = None, token_id: int | None = None) -> list[TokenInfo]:
        """Revoke every live token of ``user``, or the token ``token_id``; takes effect on the next request."""
        uow.require(Need.ADMIN, user or str(token_id), "revoking tokens")
        if user is None and token_id is None:
            raise InputError("name a user or a token id to revoke")
        return uow.tx.revoke_tokens(user=user, token_id=token_id)


def bootstrap_admin(store: Store, admin: str, token: str | None = None, lifetime: timedelta = DEFAULT_LIFETIME) -> str | None:
    """On a server whose registry has no token yet: make ``admin`` an admin and issue its first token.

    ``token`` (PROVISIONER_BOOTSTRAP_TOKEN) is used as the value when given. Returns the token, or
    None when the registry already has tokens (a server that was started before).
    """
    with store.transaction() as tx:
        # Two fresh replicas may start at once: the one that queues second must see the first's token.
        tx.queue_behind_writers()
        if tx.tokens():
            return None
        value = token or new_token()
        tx.save_user(admin, Role.ADMIN.value)
        tx.set_user_disabled(admin, False)
        _insert(tx, admin, value, lifetime, "bootstrap")
        tx.add_audit(user=admin, action="server.bootstrap", target=admin, result="ok", detail="first admin token issued")
    return value
