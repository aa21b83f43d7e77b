"""The event vocabulary: every fact Switchboard records, one frozen dataclass each.

The event log is the system of record (see DESIGN.md): the CDR, every KPI, the
WebSocket feed, webhooks and the Asterisk ``queue_log`` export are all views of
these events. Each class names its stable ``kind`` (the log's event type, part
of the API contract) and the ``queue_log`` verb it maps to where Asterisk has
one (``None`` where it has none; the exporter documents composite mappings).

Times are POSIX seconds (float). ``interaction_id``, ``agent_id`` and
``queue_id`` are the log's indexed columns; the rest is the JSON payload.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Self

from switchboard.domain.enums import (
    AgentState,
    AgentStatus,
    Channel,
    Direction,
    EndReason,
    OfferEnd,
)
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import Customer

EVENT_TYPES: dict[str, type[Event]] = {}


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _frozen_map(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if not value:
        return _EMPTY
    return MappingProxyType(dict(value))


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every logged fact."""

    kind: ClassVar[str] = "event"
    queue_log_verb: ClassVar[str | None] = None

    at: float
    interaction_id: str | None = None
    agent_id: str | None = None
    queue_id: str | None = None

    def __post_init__(self) -> None:
        if (
            isinstance(self.at, bool)
            or not isinstance(self.at, int | float)
            or not math.isfinite(self.at)
        ):
            raise ValidationError(f"time must be a finite number, got {self.at!r}", field="at")
        self._validate()

    def _validate(self) -> None:
        """Subclasses check their own fields here."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: ``kind`` first, then the fields; empty ones left out."""
        out: dict[str, Any] = {"kind": self.kind}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None or (isinstance(value, Mapping | tuple) and not value):
                continue
            if isinstance(value, Customer):
                value = value.as_dict()
                if not value:
                    continue
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_dict` output; a clear error if malformed."""
        kind = data.get("kind")
        etype = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
        if etype is None:
            raise ValidationError(f"unknown event kind {kind!r}", field="kind")
        return etype._from_fields(data)

    @classmethod
    def _from_fields(cls, data: Mapping[str, Any]) -> Self:
        names = {f.name: f for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key == "kind":
                continue
            if key not in names:
                raise ValidationError(f"unknown field for {cls.kind!r} event", field=key)
            if key == "customer" and isinstance(value, Mapping):
                value = Customer(**value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[key] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ValidationError(f"bad {cls.kind!r} event: {exc}") from None


def _require(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("is required", field=name)


def _enum(event: Event, name: str, enum: type[Any]) -> None:
    value = getattr(event, name)
    if value.__class__ is enum:
        return
    try:
        object.__setattr__(event, name, enum(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationError(f"{value!r} is not one of {allowed}", field=name) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrived(Event):
    """The contact reached the system (IVR answered, chat opened, e-mail received)."""

    kind: ClassVar[str] = "arrived"
    channel: Channel = Channel.VOICE
    direction: Direction = Direction.INBOUND
    customer: Customer = field(default_factory=Customer)
    priority: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _enum(self, "channel", Channel)
        _enum(self, "direction", Direction)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValidationError("must be a whole number", field="priority")
        object.__setattr__(self, "attributes", _frozen_map(self.attributes))


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrInput(Event):
    """The customer keyed digits (or the IVR set attributes) in self-service."""

    kind: ClassVar[str] = "ivr_input"
    digits: str = ""
    step: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        object.__setattr__(self, "attributes", _frozen_map(self.attributes))


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueued(Event):
    """The contact entered a queue. ``position`` is 1-based; ``ewt_s`` the
    estimate at entry; ``callback_offered`` when EWT passed the queue's
    callback threshold (the shell then offers the callback)."""

    kind: ClassVar[str] = "enqueued"
    queue_log_verb: ClassVar[str | None] = "ENTERQUEUE"
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    position: int = 0
    ewt_s: float | None = None
    callback_offered: bool = False
    callback: bool = False  # a callback entering its queue (virtual hold or scheduled)

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")
        object.__setattr__(self, "skills", _frozen_map(self.skills))


@dataclass(frozen=True, slots=True, kw_only=True)
class EnqueueRefused(Event):
    """The queue would not take the contact (full, or no agents by its join rule)."""

    kind: ClassVar[str] = "enqueue_refused"
    queue_log_verb: ClassVar[str | None] = "FULL"  # JOINEMPTY when reason is no_agents
    reason: EndReason = EndReason.QUEUE_FULL

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")
        _enum(self, "reason", EndReason)


@dataclass(frozen=True, slots=True, kw_only=True)
class Offered(Event):
    """The contact was reserved for an agent, who is ringing until ``expires_at``."""

    kind: ClassVar[str] = "offered"
    reservation_id: str = ""
    expires_at: float = 0.0
    ring_all: bool = False
    callback: bool = False  # an outbound callback: ring the agent, then the customer

    def _validate(self) -> None:
        for name in ("interaction_id", "agent_id", "reservation_id"):
            _require(getattr(self, name), name)


@dataclass(frozen=True, slots=True, kw_only=True)
class _OfferEnded(Event):
    reservation_id: str = ""
    ring_s: float = 0.0

    def _validate(self) -> None:
        for name in ("interaction_id", "agent_id", "reservation_id"):
            _require(getattr(self, name), name)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferTimedOut(_OfferEnded):
    """Ring no answer (RNA): the contact returns to its place in the queue."""

    kind: ClassVar[str] = "offer_timeout"
    queue_log_verb: ClassVar[str | None] = "RINGNOANSWER"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferRejected(_OfferEnded):
    """The agent declined the offer: the contact returns to its place."""

    kind: ClassVar[str] = "offer_rejected"
    queue_log_verb: ClassVar[str | None] = "RINGNOANSWER"


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferWithdrawn(_OfferEnded):
    """The offer was cancelled: another agent answered (ring all), the customer
    left, or the agent logged out."""

    kind: ClassVar[str] = "offer_withdrawn"
    queue_log_verb: ClassVar[str | None] = "RINGCANCELED"
    reason: OfferEnd = OfferEnd.WITHDRAWN


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered(Event):
    """An agent connected. ``wait_s`` counts from the first ``enqueued`` of the
    interaction (transfers and overflows keep the customer's wait)."""

    kind: ClassVar[str] = "answered"
    queue_log_verb: ClassVar[str | None] = "CONNECT"
    reservation_id: str | None = None
    wait_s: float = 0.0
    ring_s: float = 0.0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.agent_id, "agent_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Held(Event):
    kind: ClassVar[str] = "held"

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed(Event):
    kind: ClassVar[str] = "resumed"
    hold_s: float = 0.0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferStarted(Event):
    """A warm transfer began: the customer is held while the agent consults
    ``to_agent``, who is offered the consultation."""

    kind: ClassVar[str] = "transfer_started"
    to_agent: str = ""

    def _validate(self) -> None:
        for name in ("interaction_id", "agent_id", "to_agent"):
            _require(getattr(self, name), name)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferCancelled(Event):
    kind: ClassVar[str] = "transfer_cancelled"
    to_agent: str = ""

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred(Event):
    """The contact left ``agent_id`` for ``to_agent`` or ``to_queue``.
    ``mode`` is ``blind`` or ``warm``."""

    kind: ClassVar[str] = "transferred"
    queue_log_verb: ClassVar[str | None] = "BLINDTRANSFER"  # ATTENDEDTRANSFER when warm
    to_agent: str | None = None
    to_queue: str | None = None
    mode: str = "blind"

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        if self.mode not in ("blind", "warm"):
            raise ValidationError("must be blind or warm", field="mode")
        if (self.to_agent is None) == (self.to_queue is None):
            raise ValidationError("name exactly one of to_agent, to_queue", field="to_agent")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceJoined(Event):
    kind: ClassVar[str] = "conference_joined"

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.agent_id, "agent_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConferenceLeft(Event):
    kind: ClassVar[str] = "conference_left"

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.agent_id, "agent_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Overflowed(Event):
    """The contact moved from ``queue_id`` to ``to_queue`` keeping its wait.
    ``reason``: ``after_s`` (waited too long), ``ewt`` (estimate too long) or
    ``moved`` (a supervisor moved it)."""

    kind: ClassVar[str] = "overflowed"
    to_queue: str = ""
    reason: str = "after_s"

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")
        _require(self.to_queue, "to_queue")


@dataclass(frozen=True, slots=True, kw_only=True)
class Abandoned(Event):
    """The customer left while queued or ringing an agent (hung up, or pressed
    the exit key: EXITWITHKEY). ``position`` at the moment of leaving."""

    kind: ClassVar[str] = "abandoned"
    queue_log_verb: ClassVar[str | None] = "ABANDON"
    reason: EndReason = EndReason.CUSTOMER_HANGUP
    wait_s: float = 0.0
    position: int = 0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _enum(self, "reason", EndReason)


@dataclass(frozen=True, slots=True, kw_only=True)
class Exited(Event):
    """The system took the contact out of the queue without an agent:
    ``timeout`` (EXITWITHTIMEOUT) or ``no_agents`` (EXITEMPTY)."""

    kind: ClassVar[str] = "exited"
    queue_log_verb: ClassVar[str | None] = "EXITWITHTIMEOUT"  # EXITEMPTY for no_agents
    reason: EndReason = EndReason.TIMEOUT
    wait_s: float = 0.0
    position: int = 0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _enum(self, "reason", EndReason)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ended(Event):
    """The customer part ended. ``by``: ``customer``, ``agent`` or ``system``.
    With an agent: talk and hold totals, and when wrap-up times out."""

    kind: ClassVar[str] = "ended"
    queue_log_verb: ClassVar[str | None] = "COMPLETECALLER"  # COMPLETEAGENT when by agent
    by: str = "customer"
    talk_s: float = 0.0
    hold_s: float = 0.0
    wrapup_until: float | None = None

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        if self.by not in ("customer", "agent", "system"):
            raise ValidationError("must be customer, agent or system", field="by")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapupExtended(Event):
    kind: ClassVar[str] = "wrapup_extended"
    wrapup_until: float = 0.0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.agent_id, "agent_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapupEnded(Event):
    """The agent finished after-call work (or its time ran out: ``timed_out``)."""

    kind: ClassVar[str] = "wrapup_ended"
    wrapup_s: float = 0.0
    disposition: str | None = None
    notes: str | None = None
    timed_out: bool = False

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.agent_id, "agent_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequested(Event):
    """The customer left the line and keeps its place: when its turn comes the
    callback is offered to an agent as an outbound contact (virtual hold)."""

    kind: ClassVar[str] = "callback_requested"
    phone: str | None = None

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackScheduled(Event):
    """A callback will enter ``queue_id`` at ``due_at``."""

    kind: ClassVar[str] = "callback_scheduled"
    due_at: float = 0.0
    phone: str | None = None
    priority: int = 0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentStateChanged(Event):
    """An agent's chosen status or its system state changed (both are given).

    ``cause`` says why: ``status`` (the agent or a supervisor chose it),
    ``auto_not_ready`` (too many missed offers), or the interaction event that
    moved the system state."""

    kind: ClassVar[str] = "agent_state"
    queue_log_verb: ClassVar[str | None] = "PAUSE"  # AGENTLOGIN/AGENTLOGOFF/PAUSE/UNPAUSE
    status: AgentStatus = AgentStatus.OFFLINE
    reason: str | None = None
    state: AgentState = AgentState.IDLE
    cause: str = "status"

    def _validate(self) -> None:
        _require(self.agent_id, "agent_id")
        _enum(self, "status", AgentStatus)
        _enum(self, "state", AgentState)


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentUpdated(Event):
    """An agent's routing profile changed (skills, capacity): ADDMEMBER /
    REMOVEMEMBER in queue_log terms, per queue gained or lost."""

    kind: ClassVar[str] = "agent_updated"
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=dict)

    def _validate(self) -> None:
        _require(self.agent_id, "agent_id")
        object.__setattr__(self, "skills", _frozen_map(self.skills))
        object.__setattr__(self, "capacity", _frozen_map(self.capacity))


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAnswered(Event):
    """The customer answered a post-contact survey: ``csat`` (1 to 5) or
    ``nps`` (0 to 10). Metrics attach it to the interaction's answered leg."""

    kind: ClassVar[str] = "survey_answered"
    survey: str = "csat"
    score: int = 0

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        scales = {"csat": (1, 5), "nps": (0, 10)}
        if self.survey not in scales:
            raise ValidationError("must be csat or nps", field="survey")
        lo, hi = scales[self.survey]
        if isinstance(self.score, bool) or not isinstance(self.score, int) \
                or not lo <= self.score <= hi:
            raise ValidationError(f"must be a whole number from {lo} to {hi}", field="score")


DIAL_RESULTS = ("busy", "no_answer", "rejected", "failed", "cancelled")


@dataclass(frozen=True, slots=True, kw_only=True)
class DialFailed(Event):
    """An outbound call (a callback, a click-to-dial) rang its agent, who
    answered, but the customer's side never connected: ``result`` is
    ``busy``, ``no_answer``, ``rejected``, ``failed``, or ``cancelled`` (the
    agent hung up first); ``sip_code`` the final response, 0 for none.
    ``retry_at``: when a new attempt is due (``retry_of`` it names this
    one), none when the attempts are over.
    Logged beside routing (not an engine event); metrics count the contact
    as not connected: not answered."""

    kind: ClassVar[str] = "dial_failed"
    result: str = "failed"
    sip_code: int = 0
    attempt: int = 1
    retry_at: float | None = None

    def _validate(self) -> None:
        _require(self.interaction_id, "interaction_id")
        if self.result not in DIAL_RESULTS:
            raise ValidationError(f"must be one of {', '.join(DIAL_RESULTS)}", field="result")
        for name in ("sip_code", "attempt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError("must be a whole number, 0 or more", field=name)


def _register(cls: type[Event]) -> None:
    for sub in cls.__subclasses__():
        if "kind" in vars(sub):
            EVENT_TYPES[sub.kind] = sub
        _register(sub)


_register(Event)


def events_to_jsonl(events: list[Event]) -> str:
    """One JSON object a line (the ``--events`` file format)."""
    return "".join(json.dumps(e.to_dict(), separators=(",", ":")) + "\n" for e in events)
