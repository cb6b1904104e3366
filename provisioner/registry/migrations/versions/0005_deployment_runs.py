"""The deployment history: each deploy and destroy of a stack (provisioner 0.4.0).

Revision ID: 0005
Revises: 0004

One row per run: the stack, deploy or destroy, env, the acting user, start and finish, the result,
and in ``details`` the recipe, engine, counts by operation, the monthly cost estimated then, each
resource's real duration, and a destroy's teardown report. Rows are kept when the stack is destroyed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stack", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("env", sa.String(length=32), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_deployment_runs_stack", "deployment_runs", ["stack"])


def downgrade() -> None:
    op.drop_index("ix_deployment_runs_stack", table_name="deployment_runs")
    op.drop_table("deployment_runs")
