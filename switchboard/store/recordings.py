"""Repository of recordings (calls and voicemail) and retention periods.

Every function takes an open connection (the caller owns the transaction) and
the tenant; a recording of another tenant is simply not found. The audio
files themselves are handled by :mod:`switchboard.media.recording`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy import update as sql_update

from switchboard.domain.errors import ValidationError
from switchboard.store import schema as s

KINDS = ("call", "voicemail")
STATUSES = ("recording", "paused", "complete", "failed")
MAX_RETENTION_DAYS = 36500  # a hundred years: "keep" without a special value

_COLUMNS = (
    "id", "kind", "interaction_id", "call_id", "status", "path", "content_type", "channels",
    "started_at", "ended_at", "duration", "paused", "size_bytes", "caller", "queue_id",
    "details", "created_at",
)  # fmt: skip


def create(
    conn: Connection,
    tenant_id: str,
    *,
    recording_id: str,
    kind: str,
    interaction_id: str,
    started_at: float,
    now: float,
    call_id: str | None = None,
    channels: int = 2,
    caller: str | None = None,
    queue_id: str | None = None,
) -> None:
    """Add a recording in status ``recording`` (no file yet)."""
    if kind not in KINDS:
        raise ValidationError(f"must be one of {', '.join(KINDS)}", field="kind")
    if not interaction_id or len(interaction_id) > 64:
        raise ValidationError("must be 1 to 64 characters", field="interaction_id")
    conn.execute(
        insert(s.Recording).values(
            tenant_id=tenant_id, id=recording_id, kind=kind, interaction_id=interaction_id,
            call_id=call_id, status="recording", path=None, content_type="audio/wav",
            channels=channels, started_at=started_at, ended_at=None, duration=None, paused=[],
            size_bytes=None, caller=caller, queue_id=queue_id, details={}, created_at=now,
        )
    )  # fmt: skip


def update(conn: Connection, tenant_id: str, recording_id: str, **values: Any) -> None:
    """Change columns of one recording (``status``, ``paused``, ``path``, ...)."""
    unknown = set(values) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"not recording columns: {sorted(unknown)}")
    if "status" in values and values["status"] not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    conn.execute(
        sql_update(s.Recording)
        .where(s.Recording.tenant_id == tenant_id, s.Recording.id == recording_id)
        .values(**values)
    )


def get(conn: Connection, tenant_id: str, recording_id: str) -> dict[str, Any] | None:
    """One recording as a dictionary, or None."""
    row = conn.execute(
        select(*[getattr(s.Recording, c) for c in _COLUMNS]).where(
            s.Recording.tenant_id == tenant_id, s.Recording.id == recording_id
        )
    ).first()
    return dict(row._mapping) if row is not None else None


def list_for(
    conn: Connection,
    tenant_id: str,
    *,
    interaction_id: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Recordings of the tenant (of one interaction, of one kind), oldest first."""
    query = select(*[getattr(s.Recording, c) for c in _COLUMNS]).where(
        s.Recording.tenant_id == tenant_id
    )
    if interaction_id is not None:
        query = query.where(s.Recording.interaction_id == interaction_id)
    if kind is not None:
        query = query.where(s.Recording.kind == kind)
    query = query.order_by(s.Recording.started_at, s.Recording.id).limit(limit)
    return [dict(row._mapping) for row in conn.execute(query)]


def remove(conn: Connection, tenant_id: str, recording_ids: list[str]) -> int:
    """Delete rows; returns how many went."""
    if not recording_ids:
        return 0
    result = conn.execute(
        delete(s.Recording).where(
            s.Recording.tenant_id == tenant_id, s.Recording.id.in_(recording_ids)
        )
    )
    return int(result.rowcount or 0)


def set_retention(conn: Connection, tenant_id: str, days: int, *, now: float) -> None:
    """Keep the tenant's recordings ``days`` days after they end (1 to 36500)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValidationError(
            f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS}", field="days"
        )
    exists = conn.execute(
        select(s.RecordingRetention.tenant_id).where(s.RecordingRetention.tenant_id == tenant_id)
    ).first()
    if exists:
        conn.execute(
            sql_update(s.RecordingRetention)
            .where(s.RecordingRetention.tenant_id == tenant_id)
            .values(days=days, updated_at=now)
        )
    else:
        conn.execute(
            insert(s.RecordingRetention).values(tenant_id=tenant_id, days=days, updated_at=now)
        )


def retention(conn: Connection, tenant_id: str) -> int | None:
    """The tenant's retention in days (None: kept until deleted by hand)."""
    row = conn.execute(
        select(s.RecordingRetention.days).where(s.RecordingRetention.tenant_id == tenant_id)
    ).first()
    return int(row.days) if row is not None else None


def expired(conn: Connection, tenant_id: str, *, before: float) -> list[dict[str, Any]]:
    """Finished recordings (complete or failed) that ended before ``before``."""
    query = select(*[getattr(s.Recording, c) for c in _COLUMNS]).where(
        s.Recording.tenant_id == tenant_id,
        s.Recording.ended_at.is_not(None),
        s.Recording.ended_at < before,
        s.Recording.status.in_(("complete", "failed")),
    )
    return [dict(row._mapping) for row in conn.execute(query)]
