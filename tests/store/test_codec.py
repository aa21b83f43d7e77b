"""The engine-command codec: every command survives JSON exactly."""

from __future__ import annotations

import json

import pytest

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus, Channel, Direction, Strategy
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import (
    AgentConfig,
    Customer,
    ExpansionStep,
    JoinRule,
    OverflowRule,
    QueueConfig,
)
from switchboard.store.codec import COMMANDS, command_from_json, command_to_json

QUEUE = QueueConfig(
    id="q1", name="Billing", strategy=Strategy.BEST_SKILL, skills={"billing": 3},
    members=("a1", "a2"), weight=2, priority_aging_s=7.5,
    steps=(ExpansionStep(after_s=30.0, skills={"billing": 1}, add_agents=("a3",),
                         add_queues=("q2",)),),
    overflow=(OverflowRule(to_queue="q2", after_s=120.0),
              OverflowRule(to_queue="q3", ewt_above_s=600.0)),
    max_length=40, timeout_s=900.0, join_rule=JoinRule.READY, leave_rule=JoinRule.LOGGED_IN,
    ring_timeout_s=0.1 + 0.2, wrapup_s=15.0, callback_ewt_s=300.0,
)

SAMPLES: list[c.Command] = [
    c.Arrive(interaction_id="i1", channel=Channel.CHAT, direction=Direction.OUTBOUND,
             customer=Customer(name="Ann", phone="+441632960001", email="a@b.co"),
             priority=3, attributes={"lang": "en", "n": [1, 2]}, queue_id="q1",
             skills={"billing": 2}, preferred_agent="a1"),
    c.IvrStep(interaction_id="i1", digits="12#", step="menu", attributes={"k": 1}),
    c.Enqueue(interaction_id="i1", queue_id="q1", priority=4, skills={"fr": 5}),
    c.SetAgentStatus(agent_id="a1", status=AgentStatus.NOT_READY, reason="lunch", by="s1"),
    c.Accept(interaction_id="i1", agent_id="a1"),
    c.Reject(interaction_id="i1", agent_id="a1"),
    c.Hangup(interaction_id="i1", by="agent"),
    c.LeaveQueue(interaction_id="i1"),
    c.Hold(interaction_id="i1"),
    c.Resume(interaction_id="i1"),
    c.Transfer(interaction_id="i1", to_agent="a2", mode="warm"),
    c.CompleteTransfer(interaction_id="i1"),
    c.CancelTransfer(interaction_id="i1"),
    c.JoinConference(interaction_id="i1", agent_id="a2"),
    c.LeaveConference(interaction_id="i1", agent_id="a2"),
    c.EndWrapup(interaction_id="i1", agent_id="a1", disposition="sold", notes="ok"),
    c.ExtendWrapup(interaction_id="i1", agent_id="a1", seconds=30.5),
    c.RequestCallback(interaction_id="i1", phone="+15555550100"),
    c.ScheduleCallback(interaction_id="i2", queue_id="q1", due_at=1732281000.123456,
                       customer=Customer(id="k1"), priority=1, channel=Channel.SMS),
    c.MoveContact(interaction_id="i1", queue_id="q2"),
    c.UpsertAgent(agent=AgentConfig(id="a1", name="Bo", skills={"billing": 7},
                                    capacity={Channel.VOICE: 1, Channel.CHAT: 2},
                                    weight=2.5, order=3)),
    c.UpsertQueue(queue=QUEUE),
    c.RemoveQueue(queue_id="q1"),
    c.RemoveAgent(agent_id="a1"),
    c.Withdraw(interaction_id="i1"),
]


def test_every_command_class_has_a_sample() -> None:
    assert {type(s).__name__ for s in SAMPLES} == set(COMMANDS)


@pytest.mark.parametrize("command", SAMPLES, ids=lambda s: type(s).__name__)
def test_round_trip_through_json_is_exact(command: c.Command) -> None:
    name, payload = command_to_json(command)
    assert name == type(command).__name__
    back = command_from_json(name, json.loads(json.dumps(payload)))
    assert type(back) is type(command)
    assert back == command


def test_enums_come_back_as_enums() -> None:
    name, payload = command_to_json(SAMPLES[18])
    back = command_from_json(name, json.loads(json.dumps(payload)))
    assert isinstance(back, c.ScheduleCallback)
    assert back.channel is Channel.SMS
    name, payload = command_to_json(c.UpsertQueue(queue=QUEUE))
    q = command_from_json(name, json.loads(json.dumps(payload)))
    assert isinstance(q, c.UpsertQueue)
    assert q.queue.steps[0].add_queues == ("q2",)
    assert q.queue.overflow[1].ewt_above_s == 600.0
    assert q.queue.ring_timeout_s == 0.1 + 0.2


def test_unknown_command_or_field_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        command_from_json("Explode", {})
    assert err.value.field == "command"
    with pytest.raises(ValidationError) as err:
        command_from_json("Hold", {"interaction_id": "i1", "bogus": 1})
    assert err.value.field == "bogus"
