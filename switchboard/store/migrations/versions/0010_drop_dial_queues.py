"""Remove the per-agent click-to-dial queues (``dial-<agent>``) that earlier
voice code created on an agent's first click-to-dial.

Agents' own outbound calls are now agent-directed contacts in a real queue
(the engine's ``agent_only``), so those queues only filled the queue lists,
the reports' queue choices and the wallboard. Only queues the voice code made
are removed: id ``dial-<agent>``, name ``Click-to-dial <agent>``, that agent
its only member. Past events keep the queue id they were logged with.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def made_for_click_to_dial(queue_id: str, name: str, settings: Any) -> bool:
    if not queue_id.startswith("dial-"):
        return False
    agent = queue_id[len("dial-"):]
    if isinstance(settings, str):
        settings = json.loads(settings)
    members = settings.get("members") if isinstance(settings, dict) else None
    return name == f"Click-to-dial {agent}" and list(members or ()) == [agent]


def upgrade() -> None:
    conn = op.get_bind()
    queues = sa.table("queues", sa.column("tenant_id", sa.String), sa.column("id", sa.String),
                      sa.column("name", sa.String), sa.column("settings", sa.JSON))
    thresholds = sa.table("queue_thresholds", sa.column("tenant_id", sa.String),
                          sa.column("queue_id", sa.String))
    rows = conn.execute(sa.select(queues.c.tenant_id, queues.c.id, queues.c.name,
                                  queues.c.settings)
                        .where(queues.c.id.like("dial-%"))).all()
    for tenant, qid, name, settings in rows:
        if not made_for_click_to_dial(qid, name, settings):
            continue
        conn.execute(sa.delete(thresholds).where(thresholds.c.tenant_id == tenant,
                                                 thresholds.c.queue_id == qid))
        conn.execute(sa.delete(queues).where(queues.c.tenant_id == tenant, queues.c.id == qid))


def downgrade() -> None:
    """Nothing to restore: click-to-dial no longer needs those queues."""
