"""Dashboard sign-in: a session cookie for an API token, kept server-side, with a CSRF token per session.

The cookie holds a random session id; the database keeps only its SHA-256, the SHA-256 of the API
token it was opened with, the session's CSRF token and its expiry. Every request authenticates that
token hash again (:func:`provisioner.registry.tokens.authenticate_hash`), so a revoked token, an
expired one or a disabled user ends the session at once. Replicas share sessions through the database.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from provisioner.errors import AuthenticationError
from provisioner.registry.store import Store

SESSION_COOKIE = "provisioner_session"
LOGIN_CSRF_COOKIE = "provisioner_login_csrf"
SESSION_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class WebSession:
    user: str
    csrf: str
    id_hash: str


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def open_session(store: Store, token: str) -> tuple[str, WebSession]:
    """Check the API token and open a session for its user; the session id (the cookie's value) and the session.

    Raises:
        AuthenticationError: the token is unknown, revoked or expired, or its user is disabled.
    """
    from provisioner.registry.tokens import authenticate_hash, token_hash

    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.transaction() as tx:
        hashed = token_hash(token.strip())
        user = authenticate_hash(tx, hashed)
        info = tx.token_by_hash(hashed)
        expires = min(_now() + SESSION_LIFETIME, info.expires_at if info is not None else _now())
        tx.delete_expired_web_sessions(_now())  # each sign-in sweeps the ended ones: the table stays small
        tx.add_web_session(id_hash=_hash(session_id), token_hash=hashed, csrf=csrf, expires_at=expires)
    return session_id, WebSession(user=user, csrf=csrf, id_hash=_hash(session_id))


def current_session(store: Store, session_id: str | None) -> WebSession:
    """The signed-in session of this cookie value.

    Raises:
        AuthenticationError: no session, an expired one, or its token or user no longer valid.
    """
    from provisioner.registry.tokens import authenticate_hash

    if not session_id:
        raise AuthenticationError("sign in with an API token")
    id_hash = _hash(session_id)
    with store.transaction() as tx:
        found = tx.web_session(id_hash)
        if found is None:
            raise AuthenticationError("your session has ended: sign in again")
        token_hash, csrf, expires_at = found
        if expires_at <= _now():
            tx.delete_web_session(id_hash)
            raise AuthenticationError("your session expired: sign in again")
        user = authenticate_hash(tx, token_hash)
    return WebSession(user=user, csrf=csrf, id_hash=id_hash)


def close_session(store: Store, session: WebSession) -> None:
    with store.transaction() as tx:
        tx.delete_web_session(session.id_hash)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Compare a form's CSRF token with the session's, in constant time."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)
