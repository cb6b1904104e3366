"""The audit log's hash chain: each row's hash covers its fields and the hash of the row before.

Pure functions, no database: the store appends with them and ``audit verify`` checks with them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, computed_field

GENESIS = "0" * 64  # the "previous hash" of the first row


@dataclass(frozen=True)
class AuditLink:
    """The fields a row's hash covers."""

    seq: int
    at: datetime
    user: str
    action: str
    target: str
    result: str
    detail: str
    prev_hash: str


def link_hash(link: AuditLink) -> str:
    """SHA-256 of the row's fields in a fixed, unambiguous encoding (JSON, sorted keys)."""
    body = {
        "seq": link.seq,
        "at": link.at.replace(tzinfo=None).isoformat(timespec="microseconds"),
        "user": link.user,
        "action": link.action,
        "target": link.target,
        "result": link.result,
        "detail": link.detail,
        "prev": link.prev_hash,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class AuditRecord(BaseModel):
    """One audit row as stored, chain fields included (``seq`` is None for a row the store never chained)."""

    model_config = ConfigDict(frozen=True)

    id: int
    seq: int | None
    at: datetime
    user: str
    action: str
    target: str
    result: str
    detail: str
    prev_hash: str
    hash: str

    def link(self) -> AuditLink:
        """The fields this row's hash covers (its stored ``prev_hash`` included)."""
        return AuditLink(seq=self.seq or 0, at=self.at, user=self.user, action=self.action, target=self.target,
                         result=self.result, detail=self.detail, prev_hash=self.prev_hash)


class ChainHead(BaseModel):
    """The last sequence number and hash the store appended, kept outside the audit table."""

    model_config = ConfigDict(frozen=True)

    seq: int
    hash: str


class ChainReport(BaseModel):
    """The verdict of :func:`verify_chain`: intact, or the first broken row and why."""

    ok: bool
    rows: int  # every row read, chained or not
    head_seq: int | None
    head_hash: str | None
    broken_id: int | None = None  # None when the broken row is gone (deleted newest rows)
    broken_seq: int | None = None
    reason: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def message(self) -> str:
        """One line for people."""
        if self.ok:
            return f"Audit chain intact: {self.rows} row{'' if self.rows == 1 else 's'}, head seq {self.head_seq or 0}."
        return f"audit chain broken: {self.reason}"


def _seqs(first: int, last: int) -> str:
    return f"seq {first}" if first == last else f"seq {first}-{last}"


def _row(record: AuditRecord) -> str:
    return f"row {record.id} (seq {record.seq})"


def verify_chain(records: Sequence[AuditRecord], head: ChainHead | None) -> ChainReport:
    """Check every link of the chain and the head; report the first break.

    Args:
        records: every audit row, in any order.
        head: the stored chain head, or None when its row is missing.

    Returns:
        ``ok`` with the row count, or the first broken row (by sequence number) and the reason:
        a row whose fields do not match its hash (edited), a gap in the sequence (a row deleted), a row
        not chained to the one before it, a row without a sequence number (written behind the tool's
        back), or a head that does not match the last row (the newest rows deleted or added).
    """
    head_seq, head_hash = (head.seq, head.hash) if head else (None, None)

    def broken(reason: str, record: AuditRecord | None = None, seq: int | None = None) -> ChainReport:
        return ChainReport(ok=False, rows=len(records), head_seq=head_seq, head_hash=head_hash,
                           broken_id=record.id if record else None,
                           broken_seq=record.seq if record else seq, reason=reason)

    chained = sorted((r for r in records if r.seq is not None), key=lambda r: r.seq or 0)
    expected, previous = 1, GENESIS
    for record in chained:
        seq = record.seq or 0
        if seq < expected:
            return broken(f"{_row(record)}: out of sequence (expected seq {expected} or later)", record)
        if seq > expected:
            verb = "is" if seq - 1 == expected else "are"
            rows = "the row" if seq - 1 == expected else "the rows"
            return broken(f"{_row(record)}: {rows} before it ({_seqs(expected, seq - 1)}) {verb} missing", record)
        if link_hash(record.link()) != record.hash:
            return broken(f"{_row(record)}: its fields do not match its hash: it was edited or written behind the tool's back",
                          record)
        if record.prev_hash != previous:
            before = "the start of the chain" if seq == 1 else f"the row before it (seq {seq - 1})"
            return broken(f"{_row(record)}: it is not chained to {before}: one of them was rewritten", record)
        expected, previous = seq + 1, record.hash
    unchained = sorted((r for r in records if r.seq is None), key=lambda r: r.id)
    if unchained:
        return broken(f"row {unchained[0].id} has no sequence number: it was written behind the tool's back",
                      unchained[0])
    last_seq = expected - 1
    if head is None:
        if chained:
            return broken(f"the chain head is missing (the last row is seq {last_seq})", chained[-1])
    elif head.seq > last_seq:
        last = f"the last row is seq {last_seq}" if chained else "there are no rows"
        rows = f"row {head.seq} was" if head.seq == last_seq + 1 else f"rows {last_seq + 1}-{head.seq} were"
        return broken(f"the chain head says seq {head.seq} but {last}: {rows} deleted", seq=last_seq + 1)
    elif head.seq < last_seq:
        after = chained[max(head.seq, 0)]  # the row of seq head.seq + 1: the chain has no gap up to here
        return broken(f"{_row(after)}: it is past the chain head (seq {head.seq}): it was added behind the tool's back",
                      after)
    elif head.hash != previous:
        if not chained:
            return broken("the chain head's hash is not the start of an empty chain: the head was rewritten", seq=0)
        return broken(f"the chain head's hash does not match the last row (seq {last_seq}): one of them was rewritten",
                      chained[-1])
    return ChainReport(ok=True, rows=len(records), head_seq=head_seq, head_hash=head_hash)
