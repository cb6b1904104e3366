"""What `provisioner stack push` created in a ZenML server, per stack (provisioner 0.4.0).

Revision ID: 0004
Revises: 0003

One row per pushed stack: the ZenML server's URL and project, the push's random id (also a label
on the ZenML objects, so one created just before a kill is recognised), who pushed and when, and each ZenML
object it created (kind, name, id, digest of what was sent). Only objects listed here are ever
updated or deleted in ZenML: a same-named object that isn't is someone else's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zenml_pushes",
        sa.Column("stack", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=False),
        sa.Column("push_id", sa.String(length=64), nullable=False),
        sa.Column("pushed_by", sa.String(length=128), nullable=False),
        sa.Column("pushed_at", sa.DateTime(), nullable=False),
        sa.Column("objects", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("stack"),
    )


def downgrade() -> None:
    op.drop_table("zenml_pushes")
