"""The engine's trusted event builders give exactly the events the classes give."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

import pytest

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentState, AgentStatus, Channel, EndReason
from switchboard.domain.model import Customer

# Values that pass every class's checks, by field name.
SAMPLE: dict[str, Any] = {
    "at": 12.5, "interaction_id": "c1", "agent_id": "a1", "queue_id": "q1",
    "reservation_id": "r1", "to_agent": "a2", "expires_at": 32.5, "ring_s": 3.0,
    "wait_s": 4.0, "priority": 2, "position": 3, "ewt_s": 60.0, "channel": Channel.CHAT,
    "customer": Customer(id="k1", phone="+33123"), "attributes": {"lang": "fr"},
    "skills": {"fr": 3}, "capacity": {"voice": 1}, "status": AgentStatus.READY,
    "state": AgentState.BUSY, "reason": EndReason.TIMEOUT, "survey": "nps", "score": 9,
    "by": "agent", "mode": "warm", "digits": "12", "wrapup_until": 99.0,
}


def sample(cls: type[e.Event]) -> dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs = {k: v for k, v in SAMPLE.items() if k in names}
    if cls is e.AgentStateChanged:
        kwargs["reason"] = "lunch"
    if cls is e.OfferWithdrawn:
        kwargs.pop("reason")
    if cls is e.Overflowed:
        kwargs.update(to_queue="q2", reason="ewt")
    return kwargs


@pytest.mark.parametrize("cls", [cls for _, cls in sorted(e.EVENT_TYPES.items())],
                         ids=sorted(e.EVENT_TYPES))
def test_builder_equals_class(cls: type[e.Event]) -> None:
    build = t.BUILDERS[cls]
    kwargs = sample(cls)
    checked = cls(**kwargs)
    fast = build(**kwargs)
    assert type(fast) is cls
    assert fast == checked
    assert fast.to_dict() == checked.to_dict()
    assert build(at=1.0, **{k: v for k, v in kwargs.items() if k != "at"}) != checked
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.at = 1.0  # type: ignore[misc]


def test_every_kind_has_a_builder() -> None:
    assert set(t.BUILDERS) == set(e.EVENT_TYPES.values())


def test_mapping_fields_are_copied_read_only() -> None:
    attrs = {"lang": "fr"}
    ev = t.Arrived(at=0.0, interaction_id="c1", attributes=attrs)
    attrs["lang"] = "de"
    assert ev.attributes == {"lang": "fr"}
    assert isinstance(ev.attributes, MappingProxyType)
    assert t.Enqueued(at=0.0, interaction_id="c1", queue_id="q").skills == {}


def test_defaults_are_the_class_ones() -> None:
    assert t.Arrived(at=0.0, interaction_id="c1") == e.Arrived(at=0.0, interaction_id="c1")
    assert t.Enqueued(at=0.0, interaction_id="c1", queue_id="q") == \
        e.Enqueued(at=0.0, interaction_id="c1", queue_id="q")
    assert t.AgentStateChanged(at=0.0, agent_id="a") == e.AgentStateChanged(at=0.0, agent_id="a")


def test_builder_signature_is_the_class_one() -> None:
    with pytest.raises(TypeError):
        t.Offered(at=0.0, interaction_id="c1", agent="a1")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        t.Offered(0.0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        t.builder(dict)


def test_builder_serves_the_simulators_commands() -> None:
    arrive = t.builder(c.Arrive)
    kwargs: dict[str, Any] = {"interaction_id": "d0-1", "channel": Channel.CHAT,
                              "queue_id": "q", "priority": 2, "skills": {"fr": 3}}
    assert arrive(**kwargs) == c.Arrive(**kwargs)
    assert t.builder(c.Hangup)(interaction_id="d0-1") == c.Hangup(interaction_id="d0-1")
