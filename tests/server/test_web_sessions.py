"""Dashboard sessions in the registry: each sign-in sweeps the sessions that have ended."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from provisioner.registry.store import Store
from provisioner.registry.tokens import bootstrap_admin
from provisioner.server.web.sessions import current_session, open_session


def test_a_sign_in_deletes_expired_sessions_and_keeps_live_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    store = Store(url)
    token = bootstrap_admin(store, "alice")
    assert token is not None
    _, ended = open_session(store, token)
    live_id, live = open_session(store, token)
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # the first session's eight hours have passed
        connection.execute(sa.text("UPDATE web_sessions SET expires_at = '2000-01-01 00:00:00' WHERE id_hash = :h"), {"h": ended.id_hash})

    _, newest = open_session(store, token)

    with engine.connect() as connection:
        kept = set(connection.execute(sa.text("SELECT id_hash FROM web_sessions")).scalars())
    engine.dispose()
    assert kept == {live.id_hash, newest.id_hash}
    assert current_session(store, live_id).user == "alice"
