"""Roles that hold: API tokens, disabled users and connectors, and a hash-chained audit log (provisioner 0.3.0).

Revision ID: 0003
Revises: 0002

The audit rows get a sequence number and a hash linking each row to the one before; the chain's
head (last sequence number and hash) lives in its own table, so deleting the newest rows shows.
Existing rows are chained in their id order.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_name", sa.String(length=128), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_api_tokens_user_name", "api_tokens", ["user_name"], unique=False)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # A plain-text default: an expression (sa.false()) makes Alembic rebuild the table on SQLite, and
    # dropping ``connectors`` fails there while components refer to it (foreign keys are on).
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("connectors") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default="0"))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
        batch.create_unique_constraint("uq_audit_log_seq", ["seq"])
    _chain_existing_rows()


def _chain_existing_rows() -> None:
    """Give every existing audit row its sequence number and hash, oldest first, and write the head."""
    from provisioner.registry.audit_chain import GENESIS, AuditLink, link_hash

    bind = op.get_bind()
    # Typed columns: untyped, SQLite hands ``at`` back as the stored text, not a datetime.
    audit = sa.table(
        "audit_log", sa.column("id", sa.Integer()), sa.column("at", sa.DateTime()), sa.column("user", sa.String()),
        sa.column("action", sa.String()), sa.column("target", sa.String()), sa.column("result", sa.String()),
        sa.column("detail", sa.Text()), sa.column("seq", sa.Integer()), sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    previous, seq = GENESIS, 0
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).mappings().all():
        seq += 1
        link = AuditLink(seq=seq, at=row["at"], user=row["user"], action=row["action"], target=row["target"],
                         result=row["result"], detail=row["detail"] or "", prev_hash=previous)
        digest = link_hash(link)
        bind.execute(audit.update().where(audit.c.id == row["id"]).values(seq=seq, prev_hash=previous, hash=digest))
        previous = digest
    head = sa.table("audit_head", sa.column("id", sa.Integer()), sa.column("seq", sa.Integer()), sa.column("hash", sa.String()))
    bind.execute(head.insert().values(id=1, seq=seq, hash=previous))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_constraint("uq_audit_log_seq", type_="unique")
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    with op.batch_alter_table("connectors") as batch:
        batch.drop_column("disabled")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
    op.drop_table("audit_head")
    op.drop_index("ix_api_tokens_user_name", table_name="api_tokens")
    op.drop_table("api_tokens")
