"""Chat messages of an interaction (customer and agent), and interactions by customer.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("interaction_id", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=True),
        sa.Column("user_id", sa.String(64), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_messages_tenant_interaction", "messages",
                    ["tenant_id", "interaction_id", "seq"])
    op.create_index("ix_interactions_tenant_contact", "interactions",
                    ["tenant_id", "contact_id"])


def downgrade() -> None:
    op.drop_index("ix_interactions_tenant_contact", table_name="interactions")
    op.drop_index("ix_messages_tenant_interaction", table_name="messages")
    op.drop_table("messages")
