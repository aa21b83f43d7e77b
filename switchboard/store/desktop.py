"""Queries of the agent desktop: chat messages, a customer's earlier contacts,
an agent's contacts of the day and when its status began (all by tenant)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from switchboard.store import schema as s

SENDERS = ("customer", "agent", "system")


def add_message(conn: Connection, tenant_id: str, *, message_id: str, interaction_id: str,
                sender: str, text: str, at: float, agent_id: str | None,
                user_id: str | None) -> dict[str, Any]:
    """Store one chat message; returns it as the API shows it."""
    row = {"tenant_id": tenant_id, "id": message_id, "interaction_id": interaction_id,
           "sender": sender, "agent_id": agent_id, "user_id": user_id, "text": text, "at": at}
    conn.execute(insert(s.Message).values(**row))
    return message_out(row)


def message_out(row: Any) -> dict[str, Any]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    return {"id": get("id"), "interaction": get("interaction_id"), "sender": get("sender"),
            "agent": get("agent_id"), "text": get("text"), "at": get("at")}


def messages(conn: Connection, tenant_id: str, interaction_id: str, *,
             limit: int = 500) -> list[dict[str, Any]]:
    """An interaction's messages, oldest first (the last ``limit``)."""
    rows = conn.execute(
        select(s.Message).where(s.Message.tenant_id == tenant_id,
                                s.Message.interaction_id == interaction_id)
        .order_by(s.Message.seq.desc()).limit(limit)).all()
    return [message_out(r) for r in reversed(rows)]


def message(conn: Connection, tenant_id: str, message_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(s.Message).where(s.Message.tenant_id == tenant_id,
                                               s.Message.id == message_id)).first()
    return None if row is None else message_out(row)


def interaction_events(conn: Connection, tenant_id: str, interaction_id: str,
                       kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """An interaction's events of some kinds, oldest first (their payloads)."""
    rows = conn.execute(
        select(s.EventRow.payload).where(s.EventRow.tenant_id == tenant_id,
                                         s.EventRow.interaction_id == interaction_id,
                                         s.EventRow.kind.in_(kinds))
        .order_by(s.EventRow.seq))
    return [dict(r.payload) for r in rows]


def dispositions_of(conn: Connection, tenant_id: str,
                    interaction_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The last wrap-up (disposition, notes, agent) of each interaction."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(interaction_ids), 500):
        rows = conn.execute(
            select(s.EventRow.interaction_id, s.EventRow.payload)
            .where(s.EventRow.tenant_id == tenant_id, s.EventRow.kind == "wrapup_ended",
                   s.EventRow.interaction_id.in_(interaction_ids[i:i + 500]))
            .order_by(s.EventRow.seq))
        for r in rows:
            out[r.interaction_id] = dict(r.payload)
    return out


def earlier_contacts(conn: Connection, tenant_id: str, contact_id: str, *, before: str,
                     limit: int = 20) -> list[Any]:
    """The customer's other interactions, newest first (``before``: the one shown)."""
    return list(conn.execute(
        select(s.Interaction).where(s.Interaction.tenant_id == tenant_id,
                                    s.Interaction.contact_id == contact_id,
                                    s.Interaction.id != before)
        .order_by(s.Interaction.created_at.desc()).limit(limit)))


def handled_since(conn: Connection, tenant_id: str, agent_id: str,
                  since: float) -> list[tuple[float, dict[str, Any]]]:
    """The contacts an agent answered since ``since``: (answered at, event payload),
    oldest first."""
    rows = conn.execute(
        select(s.EventRow.at, s.EventRow.payload)
        .where(s.EventRow.tenant_id == tenant_id, s.EventRow.at >= since,
               s.EventRow.kind == "answered", s.EventRow.agent_id == agent_id)
        .order_by(s.EventRow.seq))
    return [(r.at, dict(r.payload)) for r in rows]


def interactions(conn: Connection, tenant_id: str, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(s.Interaction).where(
                s.Interaction.tenant_id == tenant_id, s.Interaction.id.in_(ids[i:i + 500]))):
            out[r.id] = r
    return out


def status_since(conn: Connection, tenant_id: str, agent_id: str,
                 since: float) -> tuple[float | None, float | None]:
    """When the agent's current status (ready, not ready + reason, offline) and
    its current state began, from its ``agent_state`` events after ``since``
    (the events are indexed by time, not by agent); ``None`` when none is that
    recent (then ``since`` is a lower bound)."""
    rows = conn.execute(
        select(s.EventRow.at, s.EventRow.payload)
        .where(s.EventRow.tenant_id == tenant_id, s.EventRow.at >= since,
               s.EventRow.agent_id == agent_id, s.EventRow.kind == "agent_state")
        .order_by(s.EventRow.seq.desc()).limit(2000)).all()
    if not rows:
        return None, None
    last = rows[0].payload
    status_at = state_at = rows[0].at
    for r in rows:
        p = r.payload
        if (p.get("status"), p.get("reason")) != (last.get("status"), last.get("reason")):
            break
        status_at = r.at
    for r in rows:
        if r.payload.get("state") != last.get("state"):
            break
        state_at = r.at
    return status_at, state_at


def names(conn: Connection, tenant_id: str) -> tuple[dict[str, str], dict[str, str]]:
    """Queue names and agent names by id."""
    queues = {r.id: r.name for r in conn.execute(
        select(s.Queue.id, s.Queue.name).where(s.Queue.tenant_id == tenant_id))}
    agents = {r.id: r.name for r in conn.execute(
        select(s.Agent.id, s.Agent.name).where(s.Agent.tenant_id == tenant_id))}
    return queues, agents
