"""Dashboard sign-ins (provisioner 0.4.0).

Revision ID: 0006
Revises: 0005

One row per browser session of the registry server's pages: the SHA-256 of the session id (the
cookie holds the id), the SHA-256 of the API token it was opened with (checked again on every
request, so revoking the token or disabling its user ends the session), the form CSRF token and
the expiry. Signing out deletes the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    op.create_index("ix_web_sessions_token_hash", "web_sessions", ["token_hash"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_token_hash", table_name="web_sessions")
    op.drop_table("web_sessions")
