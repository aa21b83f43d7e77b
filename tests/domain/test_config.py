"""Bad configuration raises one clear error naming the field."""

from __future__ import annotations

import pytest

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Channel
from switchboard.domain.errors import ConfigError, ValidationError
from switchboard.domain.model import (
    AgentConfig,
    ExpansionStep,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
)

SKILLS = frozenset({"en", "fr"})


def _field(exc: pytest.ExceptionInfo[ConfigError]) -> str | None:
    return exc.value.field


def test_unknown_skill_on_agent_names_the_field() -> None:
    with pytest.raises(ConfigError) as exc:
        RoutingConfig(skills=SKILLS, agents=(AgentConfig(id="a1", skills={"es": 3}),))
    assert _field(exc) == "agents[a1].skills.es"
    assert "unknown skill 'es'" in str(exc.value) and "en, fr" in str(exc.value)


def test_unknown_skill_on_queue_and_step() -> None:
    with pytest.raises(ConfigError) as exc:
        RoutingConfig(skills=SKILLS, queues=(QueueConfig(id="q", skills={"de": 2}),))
    assert _field(exc) == "queues[q].skills.de"
    with pytest.raises(ConfigError) as exc:
        RoutingConfig(skills=SKILLS, queues=(QueueConfig(
            id="q", steps=(ExpansionStep(after_s=10, skills={"xx": 1}),)),))
    assert _field(exc) == "queues[q].steps[0].skills.xx"


def test_queue_overflowing_to_itself() -> None:
    with pytest.raises(ConfigError) as exc:
        QueueConfig(id="q", overflow=(OverflowRule(to_queue="q", after_s=30),))
    assert _field(exc) == "queues[q].overflow[0].to_queue"
    assert "itself" in str(exc.value)


def test_overflow_to_unknown_queue() -> None:
    with pytest.raises(ConfigError) as exc:
        RoutingConfig(queues=(QueueConfig(id="q", overflow=(OverflowRule(
            to_queue="nowhere", after_s=30),)),))
    assert _field(exc) == "queues[q].overflow[0].to_queue"


@pytest.mark.parametrize("level", [0, 11, -1, 2.5, True])
def test_proficiency_out_of_range(level: object) -> None:
    with pytest.raises(ConfigError) as exc:
        AgentConfig(id="a1", skills={"en": level})  # type: ignore[dict-item]
    assert _field(exc) == "agents[a1].skills.en"


def test_other_bad_values() -> None:
    with pytest.raises(ConfigError, match="unknown strategy"):
        QueueConfig(id="q", strategy="fastest")  # type: ignore[arg-type]
    with pytest.raises(ConfigError) as exc:
        QueueConfig(id="q", ring_timeout_s=-5)
    assert _field(exc) == "queues[q].ring_timeout_s"
    with pytest.raises(ConfigError) as exc:
        AgentConfig(id="a", capacity={"fax": 1})  # type: ignore[dict-item]
    assert _field(exc) == "agents[a].capacity"
    with pytest.raises(ConfigError, match="duplicate"):
        RoutingConfig(agents=(AgentConfig(id="a"), AgentConfig(id="a")))
    with pytest.raises(ConfigError, match="needs after_s or ewt_above_s"):
        OverflowRule(to_queue="b")
    with pytest.raises(ConfigError) as exc:
        RoutingConfig(queues=(QueueConfig(id="q", members=("ghost",)),))
    assert _field(exc) == "queues[q].members"


def test_events_validate_and_round_trip() -> None:
    ev = e.Enqueued(at=10.0, interaction_id="i", queue_id="q", priority=2, position=1,
                    skills={"en": 3})
    assert e.Event.from_dict(ev.to_dict()) == ev
    assert ev.queue_log_verb == "ENTERQUEUE"
    with pytest.raises(ValidationError) as exc:
        e.Enqueued(at=10.0, interaction_id="i")
    assert exc.value.field == "queue_id"
    with pytest.raises(ValidationError):
        e.Arrived(at=float("nan"), interaction_id="i")
    with pytest.raises(ValidationError, match="unknown event kind"):
        e.Event.from_dict({"kind": "teleported", "at": 1})
    with pytest.raises(ValidationError) as exc:
        e.Event.from_dict({"kind": "held", "at": 1, "interaction_id": "i", "colour": "red"})
    assert exc.value.field == "colour"


def test_every_event_kind_is_registered_once() -> None:
    kinds = [cls.kind for cls in e.EVENT_TYPES.values()]
    assert len(kinds) == len(set(kinds))
    for name in ("arrived", "ivr_input", "enqueued", "offered", "offer_timeout", "answered",
                 "held", "resumed", "transferred", "overflowed", "abandoned", "ended",
                 "wrapup_ended", "callback_requested", "agent_state"):
        assert name in e.EVENT_TYPES


def test_commands_refuse_what_events_would_carry_unchecked() -> None:
    """The engine builds its events without re-validating them (trusted path):
    whatever a command hands on to an event is checked on the command."""
    with pytest.raises(ValidationError) as exc:
        c.ScheduleCallback(interaction_id="cb", queue_id="q", due_at=float("nan"))
    assert exc.value.field == "due_at"
    with pytest.raises(ValidationError) as exc:
        c.ScheduleCallback(interaction_id="cb", queue_id="q", due_at=5.0, priority="1")  # type: ignore[arg-type]
    assert exc.value.field == "priority"
    with pytest.raises(ValidationError) as exc:
        c.ScheduleCallback(interaction_id="cb", queue_id="q", due_at=5.0, channel="fax")  # type: ignore[arg-type]
    assert exc.value.field == "channel"
    cb = c.ScheduleCallback(interaction_id="cb", queue_id="q", due_at=5, channel="chat")  # type: ignore[arg-type]
    assert cb.channel is Channel.CHAT
    with pytest.raises(ValidationError) as exc:
        c.Enqueue(interaction_id="i", queue_id="q", priority=2.5)  # type: ignore[arg-type]
    assert exc.value.field == "priority"
    assert c.Enqueue(interaction_id="i", queue_id="q").priority is None
