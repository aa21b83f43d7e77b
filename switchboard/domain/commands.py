"""What the outside world asks of the routing engine.

Commands are the engine's inputs (``Engine.handle(command, now)``); the engine
answers with the :mod:`events <switchboard.domain.events>` that happened. A
command that is invalid in the current state raises and changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.domain.enums import AgentStatus, Channel, Direction
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import AgentConfig, Customer, QueueConfig, check_levels


def _require(value: Any, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("is required", field=name)


def _whole(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("must be a whole number", field=name)


def _enum(command: Command, name: str, enum: type[Any]) -> None:
    """Turn the field into the enum's member (already one: nothing to do)."""
    value = getattr(command, name)
    if value.__class__ is enum:
        return
    try:
        object.__setattr__(command, name, enum(value))
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValidationError(f"{value!r} is not one of {allowed}", field=name) from None


# A contact with no customer details: frozen, so one instance serves every default.
NO_CUSTOMER = Customer()


def _agent_only(agent_only: object, preferred: str | None) -> None:
    if not isinstance(agent_only, bool):
        raise ValidationError("must be true or false", field="agent_only")
    if agent_only and not preferred:
        raise ValidationError("agent_only needs preferred_agent: the agent it is for",
                              field="preferred_agent")


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """Base of every engine input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrive(Command):
    """A new contact reached the system. With ``queue_id`` it is enqueued at
    once (an API, chat or e-mail contact with no IVR); otherwise it is in IVR."""

    interaction_id: str
    channel: Channel = Channel.VOICE
    direction: Direction = Direction.INBOUND
    customer: Customer = NO_CUSTOMER
    priority: int = 0
    attributes: Mapping[str, Any] = field(default_factory=dict)
    queue_id: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    preferred_agent: str | None = None
    #: Offer it to ``preferred_agent`` only (an agent's own outbound call, a
    #: callback for one agent): it never falls back to the queue's other
    #: agents, and the queue (``queue_id``) is where it is reported.
    agent_only: bool = False

    def __post_init__(self) -> None:
        _require(self.interaction_id, "interaction_id")
        if self.agent_only is not False:
            _agent_only(self.agent_only, self.preferred_agent)
        _enum(self, "channel", Channel)
        _enum(self, "direction", Direction)
        _whole(self.priority, "priority")
        object.__setattr__(self, "skills", check_levels(self.skills, "skills"))


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrStep(Command):
    """Record what the customer keyed (or attributes the IVR set)."""

    interaction_id: str
    digits: str = ""
    step: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueue(Command):
    """Put a contact that is in IVR into a queue, with optional per-contact
    skill requirements (added to the queue's) and a preferred agent."""

    interaction_id: str
    queue_id: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=dict)
    preferred_agent: str | None = None
    agent_only: bool = False  # as in :class:`Arrive`

    def __post_init__(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")
        if self.agent_only is not False:
            _agent_only(self.agent_only, self.preferred_agent)
        if self.priority is not None:
            _whole(self.priority, "priority")
        object.__setattr__(self, "skills", check_levels(self.skills, "skills"))


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAgentStatus(Command):
    """The agent (or a supervisor, ``by``) chooses ready, not ready + reason, offline."""

    agent_id: str
    status: AgentStatus
    reason: str | None = None
    by: str | None = None

    def __post_init__(self) -> None:
        _require(self.agent_id, "agent_id")
        try:
            object.__setattr__(self, "status", AgentStatus(self.status))
        except ValueError:
            raise ValidationError(
                f"{self.status!r} is not one of ready, not_ready, offline", field="status"
            ) from None
        if self.status is not AgentStatus.NOT_READY and self.reason is not None:
            raise ValidationError("a reason goes only with not_ready", field="reason")


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(Command):
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(Command):
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(Command):
    """The customer part ends: ``by`` customer, agent or system. While queued or
    ringing it is an abandon; in IVR it is self-service; connected, wrap-up starts."""

    interaction_id: str
    by: str = "customer"

    def __post_init__(self) -> None:
        if self.by not in ("customer", "agent", "system"):
            raise ValidationError("must be customer, agent or system", field="by")


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveQueue(Command):
    """The customer pressed the exit key while queued (EXITWITHKEY)."""

    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw(Command):
    """The system takes a waiting contact out of routing, not the customer
    (an agent's own outbound call that its agent did not answer): it exits
    with reason ``withdrawn``, neither answered nor abandoned."""

    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold(Command):
    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resume(Command):
    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Command):
    """Transfer a connected contact to an agent or a queue. ``blind``: at once;
    ``warm``: consult the target agent first (the customer is held), then
    :class:`CompleteTransfer` or :class:`CancelTransfer`."""

    interaction_id: str
    to_agent: str | None = None
    to_queue: str | None = None
    mode: str = "blind"

    def __post_init__(self) -> None:
        if (self.to_agent is None) == (self.to_queue is None):
            raise ValidationError("name exactly one of to_agent, to_queue", field="to_agent")
        if self.mode not in ("blind", "warm"):
            raise ValidationError("must be blind or warm", field="mode")
        if self.mode == "warm" and self.to_agent is None:
            raise ValidationError("a warm transfer consults an agent: give to_agent",
                                  field="to_agent")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteTransfer(Command):
    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTransfer(Command):
    interaction_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinConference(Command):
    """Add a free agent (a colleague, a supervisor barging in) to a connected contact."""

    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveConference(Command):
    interaction_id: str
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EndWrapup(Command):
    interaction_id: str
    agent_id: str
    disposition: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendWrapup(Command):
    interaction_id: str
    agent_id: str
    seconds: float

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int | float) \
                or not 0 < self.seconds <= 3600:
            raise ValidationError("must be between 0 and 3600 seconds", field="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCallback(Command):
    """The queued customer asks to be called back, keeping its place."""

    interaction_id: str
    phone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleCallback(Command):
    """A callback that enters ``queue_id`` at ``due_at`` (a new interaction)."""

    interaction_id: str
    queue_id: str
    due_at: float
    customer: Customer = NO_CUSTOMER
    phone: str | None = None
    priority: int = 0
    channel: Channel = Channel.VOICE

    def __post_init__(self) -> None:
        _require(self.interaction_id, "interaction_id")
        _require(self.queue_id, "queue_id")
        if isinstance(self.due_at, bool) or not isinstance(self.due_at, int | float) \
                or not math.isfinite(self.due_at):
            raise ValidationError(f"must be a finite time, got {self.due_at!r}", field="due_at")
        _whole(self.priority, "priority")
        _enum(self, "channel", Channel)


@dataclass(frozen=True, slots=True, kw_only=True)
class MoveContact(Command):
    """A supervisor moves a waiting contact to another queue (keeps its wait)."""

    interaction_id: str
    queue_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertAgent(Command):
    """Create an agent or change its skills and capacity, on the fly."""

    agent: AgentConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class UpsertQueue(Command):
    queue: QueueConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveQueue(Command):
    """Delete a queue from routing. Refused (:class:`~switchboard.domain.errors.Conflict`)
    while any live contact belongs to it (waiting, scheduled, ringing, connected
    or in wrap-up) or another queue overflows or expands into it."""

    queue_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoveAgent(Command):
    """Delete an agent from routing. Refused (:class:`~switchboard.domain.errors.Conflict`)
    unless it is logged out with nothing in hand (no offer, contact or wrap-up),
    no queue names it (members, expansion steps) and no live contact waits for
    it in particular."""

    agent_id: str

    def __post_init__(self) -> None:
        _require(self.agent_id, "agent_id")
