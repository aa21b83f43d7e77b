"""The database schema: SQLAlchemy 2 models, one class per table.

Every row belongs to a tenant, and every repository query filters on
``tenant_id``. Times are POSIX seconds (double precision), the engine's clock.

Two tables are append-only logs. ``engine_log`` holds the routing engine's
inputs (commands, timer advances, skill catalogue additions) in the order they
were applied: replaying it rebuilds the engine exactly. ``events`` holds every
event the engine emitted (``Event.to_dict()`` as the payload), each tagged with
the ``engine_log`` entry that caused it; it is the system of record that the CDR,
reports and the live feed derive from. The migrations in
``switchboard/store/migrations`` create the same schema (a test compares them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "supervisor", "agent", "analyst")

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every Switchboard table."""


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int] = mapped_column(Integer, default=0)  # the engine's random seed
    created_at: Mapped[float] = mapped_column(Float)
    # IANA zone of the tenant's local days (reports, business hours by default)
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC", default="UTC")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false(), default=False)
    # the web UI's language (en, it, fr, zh); None: from the browser's Accept-Language
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Token(Base):
    """A bearer token: only its SHA-256 is stored."""

    __tablename__ = "tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float)


class Skill(Base):
    __tablename__ = "skills"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)


class Agent(Base):
    """An agent's routing profile (the engine's ``AgentConfig``)."""

    __tablename__ = "agents"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    skills: Mapped[dict[str, Any]] = mapped_column(JSON)
    capacity: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class Queue(Base):
    """A queue and its routing settings (the engine's ``QueueConfig``)."""

    __tablename__ = "queues"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(40))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rest of QueueConfig
    created_at: Mapped[float] = mapped_column(Float)


class Contact(Base):
    """A customer: phone in E.164, e-mail, name."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_tenant_phone", "tenant_id", "phone"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class Interaction(Base):
    """A contact's current projection (state, queue, agent); the log has its history."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_tenant_contact", "tenant_id", "contact_id"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    contact_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(20))
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    enqueued_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Message(Base):
    """A chat message of an interaction: from the customer, an agent or the system."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_tenant_interaction", "tenant_id", "interaction_id",
                            "seq"),)

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    id: Mapped[str] = mapped_column(String(64), unique=True)
    interaction_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(20))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class IdempotencyKey(Base):
    """A creating POST's ``Idempotency-Key``: the request it came with (route and
    SHA-256 of the body) and the resource it created, committed with it."""

    __tablename__ = "idempotency_keys"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    route: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class EngineLogEntry(Base):
    """One input of a tenant's routing engine, in the order it was applied.

    ``entry``: ``command`` (``name`` is the command class, ``payload`` its
    fields), ``advance`` (timers fired up to ``at``) or ``skills`` (names added
    to the skill catalogue, in ``payload["add"]``).
    """

    __tablename__ = "engine_log"
    __table_args__ = (Index("ix_engine_log_tenant_seq", "tenant_id", "seq"),)

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[float] = mapped_column(Float)
    entry: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(40), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventRow(Base):
    """One event, append-only. ``payload`` is ``Event.to_dict()``."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_tenant_at", "tenant_id", "at"),
        Index("ix_events_tenant_interaction", "tenant_id", "interaction_id"),
        Index("ix_events_entry", "entry_seq"),
    )

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    entry_seq: Mapped[int] = mapped_column(SEQ, ForeignKey("engine_log.seq"))
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(40))
    interaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class EngineSnapshot(Base):
    """A tenant's routing engine as it was after log entry ``seq`` (a restart
    replays only the later entries); ``version`` names the routing code that
    wrote it (see :mod:`switchboard.server.snapshot`)."""

    __tablename__ = "engine_snapshots"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True)
    at: Mapped[float] = mapped_column(Float)
    version: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)


class LogHorizon(Base):
    """The tenant's log was pruned: entries up to ``seq`` are gone, so it can be
    rebuilt only from a snapshot taken at ``seq`` or later (demo mode prunes)."""

    __tablename__ = "log_horizons"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ)
    pruned_at: Mapped[float] = mapped_column(Float)


class AuditEntry(Base):
    """One admin or supervisor action, committed in the action's own transaction.

    ``action`` is ``METHOD /route/template``; ``target`` the id acted on;
    ``detail`` the request body (passwords left out).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_seq", "tenant_id", "seq"),)

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    at: Mapped[float] = mapped_column(Float)
    user_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(200))
    target: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class ReasonCode(Base):
    """A not-ready reason an agent may choose (``code`` goes in the events)."""

    __tablename__ = "reason_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_reason_codes_code"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


class Disposition(Base):
    """A wrap-up code an agent may give a finished contact."""

    __tablename__ = "dispositions"
    __table_args__ = (UniqueConstraint("tenant_id", "code", name="uq_dispositions_code"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[float] = mapped_column(Float)


class BusinessHours(Base):
    """Weekly opening hours in a time zone: the tenant's (``queue_id`` null) or
    one queue's. ``weekly`` maps ``mon`` .. ``sun`` to ``["08:00-12:00", ...]``."""

    __tablename__ = "business_hours"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_business_hours_name"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64))
    weekly: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class Holiday(Base):
    """A date on which the usual weekly hours do not apply: closed all day
    (``hours`` empty) or open only in ``hours``; for every calendar of the
    tenant (``hours_id`` null) or one."""

    __tablename__ = "holidays"
    __table_args__ = (Index("ix_holidays_tenant_day", "tenant_id", "day"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # ISO date, local to the calendar
    name: Mapped[str] = mapped_column(String(200))
    hours: Mapped[list[str]] = mapped_column(JSON)
    hours_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class QueueThresholds(Base):
    """When a queue's wallboard figures turn amber or red: ``levels`` maps a
    figure (``service_level``, ``longest_wait_s``, ``asa_s``, ``abandon_rate``,
    ``waiting``) to ``{"amber": x, "red": y}``. Deleted with its queue."""

    __tablename__ = "queue_thresholds"
    __table_args__ = (ForeignKeyConstraint(
        ["tenant_id", "queue_id"], ["queues.tenant_id", "queues.id"], ondelete="CASCADE",
        name="fk_queue_thresholds_queue"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    queue_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    levels: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))


class Recording(Base):
    """A call recording or a voicemail message (``kind``), attached to an
    interaction. ``path`` is relative to the server's media directory;
    ``paused`` lists the ``[from, to]`` spans (POSIX s) that are silence;
    ``status``: ``recording``, ``paused``, ``complete`` or ``failed``;
    ``details``: what the conversion placed and skipped. Times: POSIX seconds."""

    __tablename__ = "recordings"
    __table_args__ = (
        Index("ix_recordings_tenant_interaction", "tenant_id", "interaction_id"),
        Index("ix_recordings_tenant_ended", "tenant_id", "ended_at"),
    )

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    interaction_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    channels: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    paused: Mapped[list[Any]] = mapped_column(JSON)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    caller: Mapped[str | None] = mapped_column(String(64), nullable=True)
    queue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)


class RecordingRetention(Base):
    """How many days a tenant keeps its recordings and voicemail (after they end)."""

    __tablename__ = "recording_retention"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[float] = mapped_column(Float)


__all__ = [
    "ROLES", "Agent", "AuditEntry", "Base", "BusinessHours", "Contact", "Disposition",
    "EngineLogEntry", "EngineSnapshot", "EventRow", "Holiday", "IdempotencyKey", "Interaction",
    "LogHorizon", "Message", "Queue", "QueueThresholds", "ReasonCode", "Recording",
    "RecordingRetention", "Skill", "Tenant", "Token", "User",
]
