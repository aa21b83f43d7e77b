"""Wallboard thresholds per queue (amber and red levels of its figures).

Revision ID: 0005
Revises: 0004
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
        "queue_thresholds",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("queue_id", sa.String(64), primary_key=True),
        sa.Column("levels", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "queue_id"], ["queues.tenant_id", "queues.id"],
                                ondelete="CASCADE", name="fk_queue_thresholds_queue"),
    )


def downgrade() -> None:
    op.drop_table("queue_thresholds")
