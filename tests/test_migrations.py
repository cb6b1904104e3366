"""Registry migrations: a 0.1.0 registry upgrades with every row kept (its audit rows chained), concurrent
upgrades are safe, and an older client refuses a newer schema with one line."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provisioner.registry import schema
from tests.conftest import POSTGRES_URL_ENV
from tests.helpers import cli, raw_rows

FIXTURES = Path(__file__).parent / "fixtures"
V1_DB = FIXTURES / "registry-v0.1.0.db"  # made by commit 20a802a (provisioner 0.1.0), a row in every table
V1_KEY = FIXTURES / "registry-v0.1.0.secrets.key"
V1_TABLES = ("audit_log", "components", "connectors", "secrets", "settings", "stack_access", "stack_members", "stacks", "users")


def _v1_rows() -> dict[str, list[dict[str, Any]]]:
    rows = raw_rows(f"sqlite:///{V1_DB}", include_audit=True)
    assert set(rows) == set(V1_TABLES) and all(rows[table] for table in V1_TABLES)  # the fixture really has a row everywhere
    return rows


def _v1_home(home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy(V1_DB, home / "registry.db")
    shutil.copy(V1_KEY, home / "secrets.key")
    os.chmod(home / "registry.db", 0o600)
    os.chmod(home / "secrets.key", 0o600)
    return f"sqlite:///{home / 'registry.db'}"


def _without_schema_row(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    return {table: [r for r in rows[table] if not (table == "settings" and r["key"] == schema.SCHEMA_SETTING)] for table in V1_TABLES}


def _v1_columns(upgraded: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The upgraded rows cut down to the columns 0.1.0 had (later revisions add columns)."""
    return {t: [{k: v for k, v in row.items() if k in before[t][0]} for row in upgraded[t]] for t in V1_TABLES}


def _assert_chained_in_id_order(audit_rows: list[dict[str, Any]], head: list[dict[str, Any]]) -> None:
    """Revision 0003 gave the audit rows seq 1..n in id order, each linked to the hash of the one before,
    and a head at the last row."""
    from provisioner.registry.audit_chain import GENESIS

    ordered = sorted(audit_rows, key=lambda r: r["id"])
    assert [r["seq"] for r in ordered] == list(range(1, len(ordered) + 1))
    assert [r["prev_hash"] for r in ordered] == [GENESIS] + [r["hash"] for r in ordered[:-1]]
    assert head == [{"id": 1, "seq": len(ordered), "hash": ordered[-1]["hash"]}]


def test_the_known_revisions_are_exactly_the_packaged_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(schema.migrations_config(None))
    assert [s.revision for s in reversed(list(scripts.walk_revisions()))] == list(schema.REVISIONS)
    assert scripts.get_current_head() == schema.HEAD


def test_a_0_1_0_registry_upgrades_in_place_and_every_row_survives(isolated_environ: Path) -> None:
    before = _v1_rows()
    url = _v1_home(isolated_environ)
    os.environ["PROVISIONER_USER"] = "alice"  # the 0.1.0 registry's admin

    described = cli("stack", "describe", "stack-v1", "--output", "json")
    secret = cli("secret", "describe", "team-db", "--show-secrets", "--output", "json")

    assert described.exit_code == 0, described.stderr
    assert secret.exit_code == 0 and "s3cret-v1" in secret.stdout  # encrypted with 0.1.0's key, still readable
    after = raw_rows(url, include_audit=True)
    assert after["locks"] == [] and after["api_tokens"] == [] and {"alembic_version", "locks", "audit_head"} <= set(after)
    upgraded = _without_schema_row(after)
    kept = _v1_columns(upgraded, before)
    assert {t: kept[t] for t in V1_TABLES if t != "audit_log"} == {t: before[t] for t in V1_TABLES if t != "audit_log"}
    assert kept["audit_log"][: len(before["audit_log"])] == before["audit_log"]  # old audit rows untouched
    assert [r["disabled"] for r in upgraded["users"] + upgraded["connectors"]] == [False] * 3  # 0003: nobody disabled
    _assert_chained_in_id_order(after["audit_log"], after["audit_head"])
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(schema.HEAD,)]


def test_a_0_1_0_registry_upgraded_passes_audit_verify(isolated_environ: Path) -> None:
    before = _v1_rows()
    url = _v1_home(isolated_environ)
    os.environ["PROVISIONER_USER"] = "alice"

    verified = cli("audit", "verify")

    assert (verified.exit_code, verified.stderr) == (0, "")
    rows = len(before["audit_log"])  # verifying is not audited: the 0.1.0 rows are all there is
    assert verified.stdout == f"Audit chain intact: {rows} rows, head seq {rows}.\n"
    assert _v1_columns(raw_rows(url, include_audit=True), before)["audit_log"] == before["audit_log"]


def test_a_0_1_0_registry_on_postgresql_upgrades_with_every_row(monkeypatch: pytest.MonkeyPatch) -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; .ci/run starts PostgreSQL and sets it")
    from alembic import command
    from sqlalchemy import MetaData, create_engine

    from provisioner.registry.store import Store

    Store(url).drop_all()
    engine = create_engine(url)
    with engine.begin() as connection:  # the 0.1.0 schema, filled with the 0.1.0 fixture's rows
        command.upgrade(schema.migrations_config(connection), "0001")
        metadata = MetaData()
        metadata.reflect(connection)
        before = _v1_rows()
        for table in metadata.sorted_tables:
            if table.name in before:
                connection.execute(table.insert(), before[table.name])
                # rows copied with their ids: move the id sequence past them, as 0.1.0's own inserts had
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))"
                )
        connection.exec_driver_sql("DROP TABLE alembic_version")  # as 0.1.0 left it: no migration history
    engine.dispose()

    Store(url)

    raw = raw_rows(url, include_audit=True)
    after = _v1_columns(_without_schema_row(raw), before)
    assert {t: sorted(after[t], key=lambda r: r["id"]) for t in V1_TABLES} == {t: sorted(before[t], key=lambda r: r["id"]) for t in V1_TABLES}
    _assert_chained_in_id_order(raw["audit_log"], raw["audit_head"])
    os.environ["PROVISIONER_STORE_URL"] = url
    os.environ["PROVISIONER_USER"] = "alice"
    verified = cli("audit", "verify")
    assert (verified.exit_code, verified.stdout) == (0, f"Audit chain intact: {len(before['audit_log'])} rows, head seq {len(before['audit_log'])}.\n")
    Store(url).drop_all()


def test_two_processes_upgrading_one_registry_at_once_both_succeed(tmp_path: Path) -> None:
    url = _v1_home(tmp_path / "shared")
    code = "import sys; from provisioner.registry.store import Store; Store(sys.argv[1])"
    processes = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(4)]

    errors = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "") for process in processes]

    assert [code for code, _ in errors] == [0, 0, 0, 0], errors
    rows = raw_rows(url, include_audit=True)
    assert [r for r in rows["settings"] if r["key"] == schema.SCHEMA_SETTING] == [
        {**[r for r in rows["settings"] if r["key"] == schema.SCHEMA_SETTING][0], "value": {"revision": schema.HEAD, "requires": schema.REQUIRES}}
    ]
    assert rows["alembic_version"] == [{"version_num": schema.HEAD}]


def test_an_older_client_on_a_newer_schema_exits_2_naming_the_version_to_install(isolated_environ: Path) -> None:
    assert cli("stack", "list").exit_code == 0  # a registry at this client's head
    with sqlite3.connect(isolated_environ / "registry.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
        connection.execute("UPDATE settings SET value = ? WHERE key = 'schema'", ('{"revision": "0099", "requires": "provisioner>=0.9.0"}',))

    result = cli("stack", "list")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: the registry's schema is at revision 0099, newer than this provisioner knows (up to {schema.HEAD}): "
        "install provisioner>=0.9.0 (pip install -U provisioner)"
    ]


def _schema_of(url: str) -> dict[str, Any]:
    """Every table's columns (type, nullability, server default), keys, indexes and constraints, by name."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(url)
    inspector = inspect(engine)
    described: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        described[name] = {
            # sorted: a column a migration added comes last in its table, where the model may declare it earlier
            "columns": sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(name)),
            "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(name)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)),
            "foreign keys": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"])) for f in inspector.get_foreign_keys(name)
            ),
        }
    engine.dispose()
    return described


def _migrated_the_long_way(url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(schema.migrations_config(connection), schema.HEAD)
        schema._write_schema_setting(connection)
    engine.dispose()


def _assert_created_equals_migrated(created_url: str, migrated_url: str) -> None:
    created, migrated = _schema_of(created_url), _schema_of(migrated_url)
    assert sorted(created) == sorted(migrated)
    for table in migrated:
        assert created[table] == migrated[table], table
    assert raw_rows(created_url, include_audit=True) == raw_rows(migrated_url, include_audit=True)  # the data migrations' rows too


def test_a_new_sqlite_registry_is_created_at_head_exactly_as_the_migrations_build_it(tmp_path: Path) -> None:
    from provisioner.registry.store import Store

    created, migrated = f"sqlite:///{tmp_path / 'created.db'}", f"sqlite:///{tmp_path / 'migrated.db'}"
    Store(created)
    _migrated_the_long_way(migrated)
    _assert_created_equals_migrated(created, migrated)
    with sqlite3.connect(tmp_path / "created.db") as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(schema.HEAD,)]


def test_a_new_postgresql_registry_is_created_at_head_exactly_as_the_migrations_build_it() -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; .ci/run starts PostgreSQL and sets it")
    from sqlalchemy import create_engine, text

    from provisioner.registry.store import Store

    Store(url).drop_all()
    _migrated_the_long_way(url)
    migrated = _schema_of(url)
    migrated_rows = raw_rows(url, include_audit=True)
    Store(url).drop_all()
    Store(url)  # an empty database: created at HEAD without Alembic
    assert _schema_of(url) == migrated
    assert raw_rows(url, include_audit=True) == migrated_rows  # the data migrations' rows too (the audit head)
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == schema.HEAD
    engine.dispose()
    Store(url).drop_all()


def test_a_new_registry_is_created_without_importing_alembic(tmp_path: Path) -> None:
    code = (
        "import sys; from provisioner.registry.store import Store; Store(sys.argv[1]); "
        "print('alembic' in sys.modules)"
    )
    fresh = subprocess.run([sys.executable, "-c", code, f"sqlite:///{tmp_path / 'new.db'}"], capture_output=True, text=True, check=True)
    assert fresh.stdout == "False\n"


def test_four_processes_creating_one_new_registry_at_once_all_succeed_with_one_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code = "import sys; from provisioner.registry.store import Store; Store(sys.argv[1])"
    processes = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE, text=True) for _ in range(4)]

    results = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "") for process in processes]

    assert [code for code, _ in results] == [0, 0, 0, 0], results
    rows = raw_rows(url, include_audit=True)
    assert rows["alembic_version"] == [{"version_num": schema.HEAD}]
    assert [r["value"] for r in rows["settings"]] == [{"revision": schema.HEAD, "requires": schema.REQUIRES}]
    assert rows["audit_head"] == [{"id": 1, "seq": 0, "hash": rows["audit_head"][0]["hash"]}]


def test_a_new_registry_that_fails_halfway_is_left_empty_and_the_next_open_creates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioner.registry.store import Store

    url = f"sqlite:///{tmp_path / 'new.db'}"

    def broken(connection: Any) -> None:
        raise RuntimeError("killed after the tables, before the stamp")

    monkeypatch.setattr(schema, "_write_schema_setting", broken)
    with pytest.raises(RuntimeError, match="before the stamp"):
        Store(url)
    assert sqlite3.connect(tmp_path / "new.db").execute("SELECT name FROM sqlite_master").fetchall() == []  # one transaction

    monkeypatch.undo()
    Store(url)
    assert raw_rows(url)["alembic_version"] == [{"version_num": schema.HEAD}]


def _down_to_the_first_and_back(url: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(url)
    for target in reversed(schema.REVISIONS[:-1]):  # one step at a time, as an operator rolling back would
        with engine.begin() as connection:
            command.downgrade(schema.migrations_config(connection), target)
    with engine.begin() as connection:
        command.upgrade(schema.migrations_config(connection), schema.HEAD)
    engine.dispose()


def test_every_migration_downgrades_to_0001_and_upgrades_back_to_the_same_schema_on_sqlite(tmp_path: Path) -> None:
    from provisioner.registry.store import Store

    url = f"sqlite:///{tmp_path / 'registry.db'}"
    Store(url).dispose()  # created at HEAD from the models: its constraints carry the names the downgrades drop
    created = _schema_of(url)

    _down_to_the_first_and_back(url)

    assert _schema_of(url) == created


def test_every_migration_downgrades_to_0001_and_upgrades_back_to_the_same_schema_on_postgresql() -> None:
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; .ci/run starts PostgreSQL and sets it")
    from provisioner.registry.store import Store

    Store(url).drop_all()
    Store(url).dispose()
    created = _schema_of(url)

    _down_to_the_first_and_back(url)

    assert _schema_of(url) == created
    Store(url).drop_all()
