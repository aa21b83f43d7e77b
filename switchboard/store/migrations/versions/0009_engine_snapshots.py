"""Snapshots of each tenant's routing engine: a restart replays only the log
entries after the newest one; and the horizon of a pruned log.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "engine_snapshots",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("seq", SEQ, primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "log_horizons",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("pruned_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_horizons")
    op.drop_table("engine_snapshots")
