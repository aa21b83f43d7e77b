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

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from switchboard.domain import events as e
from switchboard.domain.errors import NotFound
from switchboard.store import schema as s

ENTRY_KINDS = ("command", "advance", "skills", "event")  # event: beside routing, not replayed

# The hot path's statements are built once: SQLAlchemy then reuses their cache
# keys and compiled forms (building ``insert(...).values(...)`` per call cost
# more than the database did).
_ENTRIES = s.Base.metadata.tables["engine_log"]
_EVENTS = s.Base.metadata.tables["events"]
_INTERACTIONS = s.Base.metadata.tables["interactions"]
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.seq)
_INSERT_EVENTS = insert(_EVENTS)
_INSERT_INTERACTION = insert(_INTERACTIONS)
_WHERE_INTERACTION = (_INTERACTIONS.c.tenant_id == bindparam("w_tenant"),
                      _INTERACTIONS.c.id == bindparam("w_id"))
_PROJECT_LIVE = update(_INTERACTIONS).where(*_WHERE_INTERACTION).values(
    state=bindparam("v_state"), queue_id=bindparam("v_queue"), agent_id=bindparam("v_agent"),
    enqueued_at=bindparam("v_enqueued"))
_PROJECT_CLOSED = update(_INTERACTIONS).where(*_WHERE_INTERACTION).values(
    state=bindparam("v_state"), closed_at=bindparam("v_closed"))


@dataclass(frozen=True, slots=True)
class Entry:
    """One engine input as logged."""

    seq: int
    at: float
    entry: str
    name: str | None
    payload: dict[str, Any]


def append(conn: Connection, tenant_id: str, *, at: float, entry: str, name: str | None,
           payload: dict[str, Any], events: Sequence[e.Event],
           dicts: Sequence[dict[str, Any]] | None = None) -> int:
    """Log one engine input and its events; return the entry's sequence number.
    ``dicts``, when given, are the events' :meth:`~switchboard.domain.events.Event.to_dict`
    (the runtime makes them once for the log and the feeds)."""
    if entry not in ENTRY_KINDS:
        raise ValueError(f"unknown log entry kind {entry!r}")
    seq: int = conn.execute(_INSERT_ENTRY, {"tenant_id": tenant_id, "at": at, "entry": entry,
                                            "name": name, "payload": payload}).scalar_one()
    if events:
        if dicts is None:
            dicts = [ev.to_dict() for ev in events]
        conn.execute(_INSERT_EVENTS, [
            {"tenant_id": tenant_id, "entry_seq": seq, "at": ev.at, "kind": ev.kind,
             "interaction_id": ev.interaction_id, "agent_id": ev.agent_id,
             "queue_id": ev.queue_id, "payload": d}
            for ev, d in zip(events, dicts, strict=True)
        ])
    return seq


def load_entries(conn: Connection, tenant_id: str, after_seq: int = 0) -> list[Entry]:
    """A tenant's engine inputs after ``after_seq``, in the order they were applied."""
    rows = conn.execute(
        select(s.EngineLogEntry.seq, s.EngineLogEntry.at, s.EngineLogEntry.entry,
               s.EngineLogEntry.name, s.EngineLogEntry.payload)
        .where(s.EngineLogEntry.tenant_id == tenant_id, s.EngineLogEntry.seq > after_seq)
        .order_by(s.EngineLogEntry.seq))
    return [Entry(r.seq, r.at, r.entry, r.name, r.payload) for r in rows]


def event_kinds_by_entry(conn: Connection, tenant_id: str,
                         after_seq: int = 0) -> dict[int, list[str]]:
    """For each engine input after ``after_seq``, the kinds of the events it
    logged, in order."""
    out: dict[int, list[str]] = {}
    rows = conn.execute(select(s.EventRow.entry_seq, s.EventRow.kind)
                        .where(s.EventRow.tenant_id == tenant_id,
                               s.EventRow.entry_seq > after_seq)
                        .order_by(s.EventRow.seq))
    for r in rows:
        out.setdefault(r.entry_seq, []).append(r.kind)
    return out


# ------------------------------------------------------------------ engine snapshots
def save_snapshot(conn: Connection, tenant_id: str, *, seq: int, at: float, version: str,
                  data: bytes, now: float, keep: int = 2) -> None:
    """Store the engine's state after entry ``seq``; keep the newest ``keep``."""
    conn.execute(insert(s.EngineSnapshot).values(tenant_id=tenant_id, seq=seq, at=at,
                                                 version=version, data=data, created_at=now))
    old = list(conn.scalars(select(s.EngineSnapshot.seq)
                            .where(s.EngineSnapshot.tenant_id == tenant_id)
                            .order_by(s.EngineSnapshot.seq.desc()).offset(keep)))
    if old:
        conn.execute(delete(s.EngineSnapshot).where(s.EngineSnapshot.tenant_id == tenant_id,
                                                    s.EngineSnapshot.seq.in_(old)))


def latest_snapshot(conn: Connection, tenant_id: str, version: str) -> Any:
    """The newest snapshot (``seq``, ``at``, ``data``) written by code ``version``,
    or ``None``."""
    return conn.execute(
        select(s.EngineSnapshot.seq, s.EngineSnapshot.at, s.EngineSnapshot.data)
        .where(s.EngineSnapshot.tenant_id == tenant_id, s.EngineSnapshot.version == version)
        .order_by(s.EngineSnapshot.seq.desc()).limit(1)).first()


def horizon(conn: Connection, tenant_id: str) -> int:
    """The last entry pruned from the tenant's log (0: the log is whole)."""
    seq = conn.scalar(select(s.LogHorizon.seq).where(s.LogHorizon.tenant_id == tenant_id))
    return int(seq or 0)


def prune_history(conn: Connection, tenant_id: str, *, before: float,
                  through_seq: int, now: float) -> dict[str, int]:
    """Delete the tenant's ended history older than ``before``: events of contacts
    closed before then and other events (agent states...) from then, the
    contacts' rows, audit rows, idempotency keys, and the log entries left with
    no event, all only up to log entry ``through_seq`` (a snapshot's: the log
    can then be rebuilt only from that snapshot on, which :func:`horizon`
    records). Returns the rows deleted per table. Demo mode only: a real
    server keeps its whole history."""
    ev, it, en = s.EventRow, s.Interaction, s.EngineLogEntry
    closed = (select(it.id).where(it.tenant_id == tenant_id, it.closed_at.is_not(None),
                                  it.closed_at < before))
    counts = {
        "events": conn.execute(delete(ev).where(
            ev.tenant_id == tenant_id, ev.entry_seq <= through_seq, ev.at < before,
            ev.interaction_id.is_(None) | ev.interaction_id.in_(closed))).rowcount,
        "interactions": conn.execute(delete(it).where(
            it.tenant_id == tenant_id, it.closed_at.is_not(None),
            it.closed_at < before)).rowcount,
    }
    left = select(ev.seq).where(ev.entry_seq == en.seq).exists()
    counts["log_entries"] = conn.execute(delete(en).where(
        en.tenant_id == tenant_id, en.seq <= through_seq, en.at < before, ~left)).rowcount
    counts["audit_rows"] = conn.execute(delete(s.AuditEntry).where(
        s.AuditEntry.tenant_id == tenant_id, s.AuditEntry.at < before)).rowcount
    counts["idempotency_keys"] = conn.execute(delete(s.IdempotencyKey).where(
        s.IdempotencyKey.tenant_id == tenant_id, s.IdempotencyKey.created_at < before)).rowcount
    if counts["log_entries"]:
        mark = max(horizon(conn, tenant_id), through_seq)
        conn.execute(delete(s.LogHorizon).where(s.LogHorizon.tenant_id == tenant_id))
        conn.execute(insert(s.LogHorizon).values(tenant_id=tenant_id, seq=mark, pruned_at=now))
    return counts


def last_seq(conn: Connection, tenant_id: str) -> int:
    """The sequence number of the tenant's newest log entry (0: none)."""
    seq = conn.scalar(select(func.max(s.EngineLogEntry.seq))
                      .where(s.EngineLogEntry.tenant_id == tenant_id))
    return int(seq or 0)


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
    conn.execute(_INSERT_INTERACTION, {
        "tenant_id": tenant_id, "id": interaction_id, "channel": channel,
        "contact_id": contact_id, "state": "ivr", "queue_id": queue_id, "priority": priority,
        "attributes": attributes, "created_at": now})


def project(conn: Connection, tenant_id: str, snapshots: Iterable[dict[str, Any]]) -> None:
    """Write the current state of interactions (from the engine's snapshots, or
    the closing state of those it no longer holds) to the interactions table."""
    live: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    for snap in snapshots:
        if "closed_at" in snap:
            closed.append({"w_tenant": tenant_id, "w_id": snap["id"], "v_state": snap["state"],
                           "v_closed": snap["closed_at"]})
        else:
            live.append({"w_tenant": tenant_id, "w_id": snap["id"], "v_state": snap["state"],
                         "v_queue": snap["queue_id"], "v_agent": snap["agent_id"],
                         "v_enqueued": snap["enqueued_at"]})
    for statement, rows in ((_PROJECT_LIVE, live), (_PROJECT_CLOSED, closed)):
        if rows:
            conn.execute(statement, rows)


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
