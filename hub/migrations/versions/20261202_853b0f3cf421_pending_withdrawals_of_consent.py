"""pending withdrawals of consent

Revision ID: 853b0f3cf421
Revises: d97f403c42af
Create Date: 2026-12-02 13:19:18.333046
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "853b0f3cf421"
down_revision: str | None = "d97f403c42af"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_erasures",
        sa.Column("site", sa.String(length=63), nullable=False),
        sa.Column("room", sa.String(length=63), nullable=False),
        sa.Column("student", sa.String(length=32), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("last_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("site", "room", "student"),
    )


def downgrade() -> None:
    op.drop_table("attendance_erasures")
