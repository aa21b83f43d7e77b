"""Call recordings and voicemail messages (metadata; the audio is in files), and
each tenant's retention period.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("interaction_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("path", sa.String(500), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("channels", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("duration", sa.Float, nullable=True),
        sa.Column("paused", sa.JSON, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("queue_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_recordings_tenant_interaction", "recordings",
                    ["tenant_id", "interaction_id"])
    op.create_index("ix_recordings_tenant_ended", "recordings", ["tenant_id", "ended_at"])
    op.create_table(
        "recording_retention",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recording_retention")
    op.drop_index("ix_recordings_tenant_ended", table_name="recordings")
    op.drop_index("ix_recordings_tenant_interaction", table_name="recordings")
    op.drop_table("recordings")
