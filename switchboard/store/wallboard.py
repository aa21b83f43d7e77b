"""Repository functions of the supervisor wallboard: queue thresholds, an
agent's skills changed live, and when each agent's state last changed.

Every function takes an open connection (the caller owns the transaction) and
a required ``tenant_id`` that every query filters on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from switchboard.store import schema as s


def thresholds(conn: Connection, tenant_id: str) -> dict[str, dict[str, Any]]:
    """Every queue's threshold levels (queues without any are left out)."""
    t = s.QueueThresholds
    rows = conn.execute(select(t.queue_id, t.levels).where(t.tenant_id == tenant_id))
    return {r.queue_id: dict(r.levels) for r in rows}


def queue_thresholds(conn: Connection, tenant_id: str, queue_id: str) -> Any:
    """The queue's thresholds row (``levels``, ``updated_at``, ``updated_by``) or ``None``."""
    t = s.QueueThresholds
    return conn.execute(select(t).where(t.tenant_id == tenant_id,
                                        t.queue_id == queue_id)).first()


def save_thresholds(conn: Connection, tenant_id: str, queue_id: str,
                    levels: Mapping[str, Any], *, now: float, user_id: str) -> None:
    """Replace the queue's thresholds (the queue must exist: a foreign key)."""
    t = s.QueueThresholds
    conn.execute(delete(t).where(t.tenant_id == tenant_id, t.queue_id == queue_id))
    conn.execute(insert(t).values(tenant_id=tenant_id, queue_id=queue_id, levels=dict(levels),
                                  updated_at=now, updated_by=user_id))


def save_agent_skills(conn: Connection, tenant_id: str, agent_id: str,
                      skills: Mapping[str, int]) -> None:
    """Store an agent's new skills (the engine has them from the logged command)."""
    conn.execute(update(s.Agent).where(s.Agent.tenant_id == tenant_id, s.Agent.id == agent_id)
                 .values(skills=dict(skills)))


def state_changes(conn: Connection, tenant_id: str) -> dict[str, float]:
    """Per agent, when its status or state last changed: the time of its last
    ``agent_state`` event, or of its first ``agent_updated`` (its creation)
    for an agent that never changed state."""
    e = s.EventRow
    created = conn.execute(
        select(e.agent_id, func.min(e.at)).where(e.tenant_id == tenant_id,
                                                 e.kind == "agent_updated")
        .group_by(e.agent_id))
    out: dict[str, float] = {r[0]: float(r[1]) for r in created if r[0] is not None}
    changed = conn.execute(
        select(e.agent_id, func.max(e.at)).where(e.tenant_id == tenant_id,
                                                 e.kind == "agent_state")
        .group_by(e.agent_id))
    out.update({r[0]: float(r[1]) for r in changed if r[0] is not None})
    return out


def tenant_zone(conn: Connection, tenant_id: str) -> str:
    """The tenant's IANA time zone name (``UTC`` until an admin sets one)."""
    zone = conn.execute(select(s.Tenant.timezone).where(s.Tenant.id == tenant_id)).scalar()
    return str(zone or "UTC")
