"""The audit trail is hash-chained: `provisioner audit verify` passes on what the tool wrote and names the
first row that SQL behind its back edited, deleted or forged; concurrent appends keep one gapless chain;
and the README's PostgreSQL grants let the server append but not delete."""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from provisioner.registry.audit_chain import GENESIS, AuditLink, AuditRecord, ChainHead, link_hash, verify_chain
from provisioner.registry.store import Store
from tests.conftest import POSTGRES_URL_ENV
from tests.helpers import cli, cli_json, raw_rows

README = Path(__file__).resolve().parents[1] / "README.md"
ADMIN, MEMBER = "alice", "bob"
# What a short session writes to the audit log: (user, action, target, result), one row each.
SESSION_ROWS = [
    (ADMIN, "user.bootstrap", ADMIN, "ok"),
    (ADMIN, "user.set", f"{MEMBER}=member", "ok"),
    (ADMIN, "connector.register", "aws-staging", "ok"),
    (ADMIN, "component.register", "orch", "ok"),
    (ADMIN, "stack.register", "dev", "error"),
    (MEMBER, "secret.set", "db", "denied"),
]


def _session() -> None:
    """alice (the first user, so admin) adds bob and registers things; one step fails, bob is refused one."""
    steps = [
        (ADMIN, 0, ("user", "set", MEMBER, "member")),
        (ADMIN, 0, ("connector", "register", "aws-staging", "-t", "aws", "-a", "implicit", "-c", "region=eu-west-1")),
        (ADMIN, 0, ("component", "register", "orch", "-t", "orchestrator", "-f", "local")),
        (ADMIN, 2, ("stack", "register", "dev", "-c", "orch")),  # no artifact store: refused, audited as an error
        (MEMBER, 2, ("secret", "set", "--value-in-args", "db", "password=x")),  # members store no secrets: audited as denied
    ]
    for user, code, step in steps:
        os.environ["PROVISIONER_USER"] = user
        result = cli(*step)
        assert result.exit_code == code, (step, result.stderr)
    os.environ["PROVISIONER_USER"] = ADMIN


def _audit_rows(url: str) -> list[dict[str, Any]]:
    return sorted(raw_rows(url, include_audit=True)["audit_log"], key=lambda r: (r["seq"] is None, r["seq"], r["id"]))


def _sql(url: str, statement: Any, params: dict[str, Any] | None = None) -> None:
    """Run one statement straight on the database, behind the tool's back."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(statement) if isinstance(statement, str) else statement, params or {})
    engine.dispose()


def _errors(stderr: str) -> list[str]:
    """stderr without the once-per-process warning that a shared database has no server in front of it."""
    return [line for line in stderr.splitlines() if not line.startswith("warning: ")]


def _verify_fails_with(reason: str) -> None:
    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout) == (1, "")
    assert _errors(result.stderr) == [f"error: audit chain broken: {reason}"]


@pytest.fixture()
def session(store_url: str) -> list[dict[str, Any]]:
    """A registry whose audit log holds the six rows of SESSION_ROWS, by seq."""
    _session()
    rows = _audit_rows(store_url)
    assert [(r["user"], r["action"], r["target"], r["result"]) for r in rows] == SESSION_ROWS
    return rows


# ----- an intact chain ------------------------------------------------------------------------------


def test_audit_verify_passes_on_the_chain_a_session_of_cli_operations_wrote(session: list[dict[str, Any]]) -> None:
    result = cli("audit", "verify")

    assert (result.exit_code, result.stdout, _errors(result.stderr)) == (0, "Audit chain intact: 6 rows, head seq 6.\n", [])
    assert [r["seq"] for r in session] == [1, 2, 3, 4, 5, 6]
    assert [r["prev_hash"] for r in session] == [GENESIS] + [r["hash"] for r in session[:-1]]


def test_audit_verify_json_reports_the_rows_and_the_head_hash(session: list[dict[str, Any]]) -> None:
    report = cli_json("audit", "verify")

    assert report == {
        "ok": True, "rows": 6, "head_seq": 6, "head_hash": session[-1]["hash"], "broken_id": None,
        "broken_seq": None, "reason": None, "message": "Audit chain intact: 6 rows, head seq 6.",
    }


def test_each_row_hash_covers_its_stored_fields_to_the_microsecond(session: list[dict[str, Any]]) -> None:
    for row in session:
        link = AuditLink(seq=row["seq"], at=row["at"], user=row["user"], action=row["action"], target=row["target"],
                         result=row["result"], detail=row["detail"], prev_hash=row["prev_hash"])
        assert link_hash(link) == row["hash"]
    assert any(row["at"].microsecond for row in session)  # the database kept the microseconds that were hashed


def test_audit_without_a_subcommand_still_lists_the_log_with_its_filters(session: list[dict[str, Any]]) -> None:
    entries = cli_json("audit", "--user", MEMBER)

    assert [(e["user"], e["action"], e["target"], e["result"]) for e in entries] == [SESSION_ROWS[-1]]
    assert set(entries[0]) == {"at", "user", "action", "target", "result", "detail"}


# ----- tampering behind the tool's back ---------------------------------------------------------------


def test_deleting_a_middle_row_fails_verify_naming_the_row_after_the_gap(store_url: str, session: list[dict[str, Any]]) -> None:
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 3")

    _verify_fails_with(f"row {session[3]['id']} (seq 4): the row before it (seq 3) is missing")


def test_editing_a_rows_detail_fails_verify_naming_that_row(store_url: str, session: list[dict[str, Any]]) -> None:
    _sql(store_url, "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 5")

    _verify_fails_with(
        f"row {session[4]['id']} (seq 5): its fields do not match its hash: it was edited or written behind the tool's back"
    )


def test_deleting_the_newest_two_rows_fails_verify_through_the_head(store_url: str, session: list[dict[str, Any]]) -> None:
    _sql(store_url, "DELETE FROM audit_log WHERE seq >= 5")

    _verify_fails_with("the chain head says seq 6 but the last row is seq 4: rows 5-6 were deleted")


def test_verify_json_names_the_broken_row_and_exits_1(store_url: str, session: list[dict[str, Any]]) -> None:
    _sql(store_url, "DELETE FROM audit_log WHERE seq >= 5")

    result = cli("audit", "verify", "--output", "json")

    assert result.exit_code == 1
    reason = "the chain head says seq 6 but the last row is seq 4: rows 5-6 were deleted"
    assert json.loads(result.stdout) == {
        "ok": False, "rows": 4, "head_seq": 6, "head_hash": session[-1]["hash"], "broken_id": None,
        "broken_seq": 5, "reason": reason, "message": f"audit chain broken: {reason}",
    }
    assert _errors(result.stderr) == [f"error: audit chain broken: {reason}"]


AUDIT = sa.table(
    "audit_log", sa.column("at", sa.DateTime()), sa.column("user", sa.String()), sa.column("action", sa.String()),
    sa.column("target", sa.String()), sa.column("result", sa.String()), sa.column("detail", sa.Text()),
    sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()), sa.column("hash", sa.String()),
)
FORGED = {"at": datetime(2026, 12, 1, 9, 30, 0, 123456), "user": MEMBER, "action": "user.set", "target": f"{MEMBER}=admin",
          "result": "ok", "detail": ""}


def _forged_unchained(last: dict[str, Any]) -> dict[str, Any]:
    return FORGED  # what an INSERT that knows nothing of the chain writes: no seq, empty hashes


def _forged_with_a_made_up_hash(last: dict[str, Any]) -> dict[str, Any]:
    return {**FORGED, "seq": last["seq"] + 1, "prev_hash": last["hash"], "hash": "f" * 64}


def _forged_rehashed_without_moving_the_head(last: dict[str, Any]) -> dict[str, Any]:
    link = AuditLink(seq=last["seq"] + 1, prev_hash=last["hash"], **FORGED)
    return {**FORGED, "seq": link.seq, "prev_hash": link.prev_hash, "hash": link_hash(link)}


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(_forged_unchained, "row {id} has no sequence number: it was written behind the tool's back", id="no-seq"),
        pytest.param(_forged_with_a_made_up_hash,
                     "row {id} (seq 7): its fields do not match its hash: it was edited or written behind the tool's back",
                     id="made-up-hash"),
        pytest.param(_forged_rehashed_without_moving_the_head,
                     "row {id} (seq 7): it is past the chain head (seq 6): it was added behind the tool's back",
                     id="rehashed"),
    ],
)
def test_a_row_inserted_by_sql_fails_verify_naming_it(store_url: str, session: list[dict[str, Any]], forge: Any, reason: str) -> None:
    _sql(store_url, AUDIT.insert().values(**forge(session[-1])))
    forged = [r for r in _audit_rows(store_url) if r["id"] not in {s["id"] for s in session}]

    _verify_fails_with(reason.format(id=forged[0]["id"]))


def test_a_missing_head_fails_verify_and_the_next_append_starts_it_from_the_last_row(
    store_url: str, session: list[dict[str, Any]]
) -> None:
    _sql(store_url, "DELETE FROM audit_head")
    _verify_fails_with("the chain head is missing (the last row is seq 6)")

    assert cli("user", "set", "carol", "member").exit_code == 0

    result = cli("audit", "verify")
    assert (result.exit_code, result.stdout) == (0, "Audit chain intact: 7 rows, head seq 7.\n")


# ----- concurrent appends --------------------------------------------------------------------------


def test_concurrent_appends_from_four_threads_make_one_chain_of_100_rows_without_a_gap(store_url: str) -> None:
    store = Store(store_url)
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(25):
                with store.transaction() as tx:
                    tx.add_audit(user=f"worker-{worker}", action="test.append", target=str(n), result="ok", detail="")
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    with store.transaction() as tx:
        records, head = tx.audit_chain()
    store.dispose()
    assert [r.seq for r in records] == list(range(1, 101))
    assert head is not None and head.seq == 100
    assert verify_chain(records, head).model_dump() == {
        "ok": True, "rows": 100, "head_seq": 100, "head_hash": records[-1].hash, "broken_id": None,
        "broken_seq": None, "reason": None, "message": "Audit chain intact: 100 rows, head seq 100.",
    }
    assert sorted((r.user, int(r.target)) for r in records) == [(f"worker-{w}", n) for w in range(4) for n in range(25)]


# ----- verify_chain on its own ---------------------------------------------------------------------


def _chain(length: int) -> list[AuditRecord]:
    records, previous = [], GENESIS
    for seq in range(1, length + 1):
        link = AuditLink(seq=seq, at=datetime(2026, 12, 1) + timedelta(seconds=seq, microseconds=seq), user="u",
                         action="a", target=str(seq), result="ok", detail="", prev_hash=previous)
        previous = link_hash(link)
        records.append(AuditRecord(id=seq + 100, hash=previous, **vars(link)))
    return records


def _head(records: list[AuditRecord]) -> ChainHead:
    return ChainHead(seq=records[-1].seq or 0, hash=records[-1].hash)


CHAIN = _chain(6)


@pytest.mark.parametrize(
    ("records", "head", "reason"),
    [
        pytest.param([r for r in CHAIN if r.seq not in (2, 3, 4)], _head(CHAIN),
                     "row 105 (seq 5): the rows before it (seq 2-4) are missing", id="three-missing"),
        pytest.param(CHAIN[1:], _head(CHAIN), "row 102 (seq 2): the row before it (seq 1) is missing", id="first-missing"),
        pytest.param(CHAIN[:-1], _head(CHAIN), "the chain head says seq 6 but the last row is seq 5: row 6 was deleted",
                     id="newest-missing"),
        pytest.param([], _head(CHAIN), "the chain head says seq 6 but there are no rows: rows 1-6 were deleted", id="all-missing"),
        pytest.param(CHAIN, None, "the chain head is missing (the last row is seq 6)", id="no-head"),
        pytest.param(CHAIN, ChainHead(seq=6, hash="0" * 64),
                     "the chain head's hash does not match the last row (seq 6): one of them was rewritten", id="head-rewritten"),
        pytest.param(CHAIN[:3] + [CHAIN[3].model_copy(update={"prev_hash": CHAIN[1].hash})] + CHAIN[4:], _head(CHAIN),
                     "row 104 (seq 4): its fields do not match its hash: it was edited or written behind the tool's back",
                     id="relinked"),
    ],
)
def test_verify_chain_names_the_first_break(records: list[AuditRecord], head: ChainHead | None, reason: str) -> None:
    report = verify_chain(records, head)

    assert (report.ok, report.reason) == (False, reason)


def test_verify_chain_names_a_row_rehashed_after_an_edit_by_the_link_after_it() -> None:
    edited = CHAIN[2].model_copy(update={"detail": "rewritten"})
    rehashed = edited.model_copy(update={"hash": link_hash(edited.link())})

    report = verify_chain(CHAIN[:2] + [rehashed] + CHAIN[3:], _head(CHAIN))

    assert (report.broken_id, report.broken_seq, report.reason) == (
        104, 4, "row 104 (seq 4): it is not chained to the row before it (seq 3): one of them was rewritten"
    )


def test_verify_chain_passes_an_empty_log_with_its_genesis_head() -> None:
    report = verify_chain([], ChainHead(seq=0, hash=GENESIS))

    assert (report.ok, report.message) == (True, "Audit chain intact: 0 rows, head seq 0.")


# ----- the README's PostgreSQL grants --------------------------------------------------------------


def _readme_grants(role: str) -> list[str]:
    """The statements of the README's grants, for ``role``."""
    section = README.read_text().split("### The audit trail", 1)[1]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match, "the audit trail section has no sql block"
    statements = (re.sub(r"--[^\n]*", "", s).strip() for s in match.group(1).split(";"))
    return [s.replace("provisioner_server", role) for s in statements if s]


@pytest.fixture()
def grants_database() -> Iterator[tuple[str, str]]:
    """A throwaway database made by the test role (CREATEDB is all it has), dropped after; (url, role)."""
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set; .ci/run starts PostgreSQL and sets it")
    name = f"provisioner_grants_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        made = sa.make_url(url).set(database=name)
        yield made.render_as_string(hide_password=False), str(made.username)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_the_readme_grants_let_the_server_role_append_audit_rows_but_not_delete_them(
    grants_database: tuple[str, str], isolated_environ: Path
) -> None:
    """The owner runs the migrations, then plays the server role under the README's grants: an owner may
    revoke its own privileges (PostgreSQL's GRANT docs), so no CREATEROLE is needed. The same SQL was also
    checked by hand with a separate login role."""
    url, role = grants_database
    Store(url).dispose()  # migrations, as the owner
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        for statement in _readme_grants(role):
            connection.exec_driver_sql(statement)
    grants = "\n".join(_readme_grants(role))
    assert {t for t in tables if not re.search(rf"\b{t}\b", grants)} == set()  # every table is named in the grants

    os.environ["PROVISIONER_STORE_URL"] = url
    os.environ["PROVISIONER_USER"] = ADMIN
    _session()  # the server role's work: users, connectors, components, denials, all audited
    verified = cli("audit", "verify")
    assert (verified.exit_code, verified.stdout) == (0, "Audit chain intact: 6 rows, head seq 6.\n")

    refused = {}
    for statement in ("DELETE FROM audit_log", "UPDATE audit_log SET detail = ''", "TRUNCATE audit_log",
                      "DELETE FROM audit_head", "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, '')"):
        with pytest.raises(sa.exc.ProgrammingError) as denied, engine.begin() as connection:
            connection.exec_driver_sql(statement)
        refused[statement] = str(denied.value.orig).strip()
    engine.dispose()
    assert refused == {
        "DELETE FROM audit_log": "permission denied for table audit_log",
        "UPDATE audit_log SET detail = ''": "permission denied for table audit_log",
        "TRUNCATE audit_log": "permission denied for table audit_log",
        "DELETE FROM audit_head": "permission denied for table audit_head",
        "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, '')": "permission denied for table audit_head",
    }
    assert len(_audit_rows(url)) == 6
