"""The engine input log, the event log and the interactions projection.

:func:`append` writes one engine input (a command, a timer advance or a skill
catalogue addition) and the events it caused; the caller wraps it, and any
other writes of the same request, in one transaction. :func:`load_entries`
and :func:`event_kinds_by_entry` read a tenant's log back for replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from switchboard.domain import events as e
from switchboard.domain.errors import NotFound
from switchboard.store import schema as s

ENTRY_KINDS = ("command", "advance", "skills")


@dataclass(frozen=True, slots=True)
class Entry:
    """One engine input as logged."""

    seq: int
    at: float
    entry: str
    name: str | None
    payload: dict[str, Any]


def append(conn: Connection, tenant_id: str, *, at: float, entry: str, name: str | None,
           payload: dict[str, Any], events: Sequence[e.Event]) -> int:
    """Log one engine input and its events; return the entry's sequence number."""
    if entry not in ENTRY_KINDS:
        raise ValueError(f"unknown log entry kind {entry!r}")
    seq: int = conn.execute(
        insert(s.EngineLogEntry).values(tenant_id=tenant_id, at=at, entry=entry, name=name,
                                        payload=payload).returning(s.EngineLogEntry.seq)
    ).scalar_one()
    if events:
        conn.execute(insert(s.EventRow), [
            {"tenant_id": tenant_id, "entry_seq": seq, "at": ev.at, "kind": ev.kind,
             "interaction_id": ev.interaction_id, "agent_id": ev.agent_id,
             "queue_id": ev.queue_id, "payload": ev.to_dict()}
            for ev in events
        ])
    return seq


def load_entries(conn: Connection, tenant_id: str) -> list[Entry]:
    """A tenant's engine inputs in the order they were applied."""
    rows = conn.execute(
        select(s.EngineLogEntry.seq, s.EngineLogEntry.at, s.EngineLogEntry.entry,
               s.EngineLogEntry.name, s.EngineLogEntry.payload)
        .where(s.EngineLogEntry.tenant_id == tenant_id).order_by(s.EngineLogEntry.seq))
    return [Entry(r.seq, r.at, r.entry, r.name, r.payload) for r in rows]


def event_kinds_by_entry(conn: Connection, tenant_id: str) -> dict[int, list[str]]:
    """For each engine input, the kinds of the events it logged, in order."""
    out: dict[int, list[str]] = {}
    rows = conn.execute(select(s.EventRow.entry_seq, s.EventRow.kind)
                        .where(s.EventRow.tenant_id == tenant_id).order_by(s.EventRow.seq))
    for r in rows:
        out.setdefault(r.entry_seq, []).append(r.kind)
    return out


def events(conn: Connection, tenant_id: str, *, interaction_id: str | None = None,
           after_seq: int = 0, limit: int = 1000) -> list[dict[str, Any]]:
    """Logged events (payloads with their ``seq``), oldest first."""
    q = (select(s.EventRow.seq, s.EventRow.payload)
         .where(s.EventRow.tenant_id == tenant_id, s.EventRow.seq > after_seq)
         .order_by(s.EventRow.seq).limit(limit))
    if interaction_id is not None:
        q = q.where(s.EventRow.interaction_id == interaction_id)
    return [{"seq": r.seq, **r.payload} for r in conn.execute(q)]


# ------------------------------------------------------------------ interactions
def insert_interaction(conn: Connection, tenant_id: str, *, interaction_id: str,
                       channel: str, contact_id: str | None, queue_id: str | None,
                       priority: int, attributes: dict[str, Any], now: float) -> None:
    conn.execute(insert(s.Interaction).values(
        tenant_id=tenant_id, id=interaction_id, channel=channel, contact_id=contact_id,
        state="ivr", queue_id=queue_id, priority=priority, attributes=attributes,
        created_at=now))


def project(conn: Connection, tenant_id: str, snapshots: Iterable[dict[str, Any]]) -> None:
    """Write the current state of interactions (from the engine's snapshots, or
    the closing state of those it no longer holds) to the interactions table."""
    for snap in snapshots:
        values = {k: snap[k] for k in ("state", "queue_id", "agent_id", "enqueued_at",
                                       "closed_at") if k in snap}
        conn.execute(update(s.Interaction).where(s.Interaction.tenant_id == tenant_id,
                                                 s.Interaction.id == snap["id"])
                     .values(**values))


def interaction_row(conn: Connection, tenant_id: str, interaction_id: str) -> Any:
    row = conn.execute(select(s.Interaction).where(
        s.Interaction.tenant_id == tenant_id, s.Interaction.id == interaction_id)).first()
    if row is None:
        raise NotFound(f"no interaction {interaction_id!r}", field="interaction")
    return row


def events_between(conn: Connection, tenant_id: str, start: float,
                   end: float) -> list[dict[str, Any]]:
    """The payloads of the tenant's events with ``start <= at < end``, in log order."""
    rows = conn.execute(select(s.EventRow.payload)
                        .where(s.EventRow.tenant_id == tenant_id, s.EventRow.at >= start,
                               s.EventRow.at < end).order_by(s.EventRow.seq))
    return [r.payload for r in rows]


def list_interactions(conn: Connection, tenant_id: str, *, state: str | None,
                      queue_id: str | None, offset: int, limit: int) -> list[Any]:
    """Projection rows, newest first, filtered by state and queue."""
    q = select(s.Interaction).where(s.Interaction.tenant_id == tenant_id)
    if state is not None:
        q = q.where(s.Interaction.state == state)
    if queue_id is not None:
        q = q.where(s.Interaction.queue_id == queue_id)
    q = q.order_by(s.Interaction.created_at.desc(), s.Interaction.id).offset(offset).limit(limit)
    return list(conn.execute(q))
