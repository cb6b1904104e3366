"""The registry's schema version: Alembic migrations run on open, once, under a lock.

An empty database is created at HEAD from the models directly (no Alembic import, no replay of
every migration: a third of a fresh command's start). A database older than this client is upgraded in place (a database made before migrations
existed is recognised by its tables and taken as revision 0001). A database newer than this
client is refused with one line naming the provisioner version it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioner.errors import InputError

# The revisions this client knows, oldest first; the last is the head. A test checks them against the scripts.
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")
HEAD = REVISIONS[-1]
# The provisioner release a database at HEAD needs; written into the database so older clients can say so.
REQUIRES = "provisioner>=0.4.0"
SCHEMA_SETTING = "schema"
# Any of these tables without an alembic_version table: a registry made by 0.1.0 (revision 0001).
LEGACY_TABLES = frozenset({"connectors", "components", "stacks"})
PG_LOCK_KEY = 742081


class SchemaTooNewError(InputError):
    """The registry was upgraded by a newer provisioner than this one."""


def migrations_config(connection: Any) -> Any:
    """An Alembic config that runs the packaged migrations on ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = connection
    return config


def _current_revision(connection: Any) -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _required_client(connection: Any) -> str:
    import json

    from sqlalchemy import text

    row = connection.execute(text("SELECT value FROM settings WHERE key = :key"), {"key": SCHEMA_SETTING}).scalar()
    value = json.loads(row) if isinstance(row, str) else (row or {})
    return str(value.get("requires") or "a newer provisioner")


def migrate(engine: Any) -> None:
    """Bring the database to HEAD in one transaction; concurrent callers wait for each other.

    Raises:
        SchemaTooNewError: the database is at a revision this client does not know.
    """
    from sqlalchemy import inspect, text

    with engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE serialises concurrent migrators
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        current = _current_revision(connection)
        if current == HEAD:
            return
        if current is None and not inspect(connection).get_table_names():
            _create_at_head(connection)
            return
        if current is not None and current not in REVISIONS:
            raise SchemaTooNewError(
                f"the registry's schema is at revision {current}, newer than this provisioner knows (up to {HEAD}): "
                f"install {_required_client(connection)} (pip install -U provisioner)"
            )
        from alembic import command

        config = migrations_config(connection)
        if current is None and LEGACY_TABLES & set(inspect(connection).get_table_names()):
            command.stamp(config, REVISIONS[0])
        command.upgrade(config, HEAD)
        _write_schema_setting(connection)


def _write_schema_setting(connection: Any) -> None:
    from sqlalchemy import JSON, column, table

    settings = table("settings", column("key"), column("value", JSON))
    connection.execute(settings.delete().where(settings.c.key == SCHEMA_SETTING))
    connection.execute(settings.insert().values(key=SCHEMA_SETTING, value={"revision": HEAD, "requires": REQUIRES}))


def _create_at_head(connection: Any) -> None:
    """An empty database: the tables as the models declare them, stamped HEAD, without running Alembic.

    This is Alembic's own advice for a new database ("create_all, then stamp head"); the stamp is the
    one row Alembic writes. A test checks that this schema equals the one the migrations build, on
    SQLite and PostgreSQL, so the models cannot drift from the scripts.
    """
    from sqlalchemy import Column, Integer, MetaData, PrimaryKeyConstraint, String, Table

    from provisioner.registry.store import schema_metadata

    schema_metadata().create_all(connection)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert().values(version_num=HEAD))
    _write_schema_setting(connection)
    # What the data migrations leave in an empty database: 0003's audit chain head, at the genesis.
    from provisioner.registry.audit_chain import GENESIS

    head = Table("audit_head", MetaData(), Column("id", Integer), Column("seq", Integer), Column("hash", String))
    connection.execute(head.insert().values(id=1, seq=0, hash=GENESIS))
