"""Baseline: the schema of the last hub before migrations (``hub.migrations.baseline``).

Revision ID: 50b813837052
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

from hub.migrations import baseline

revision = "50b813837052"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    baseline.metadata.create_all(op.get_bind())


def downgrade() -> None:
    baseline.metadata.drop_all(op.get_bind())
