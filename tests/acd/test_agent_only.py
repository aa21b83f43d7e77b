"""Agent-directed contacts (``agent_only``): an agent's own outbound call or a
callback for one agent, offered to that agent alone and reported under a queue."""

from __future__ import annotations

import pytest

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus, Direction, EndReason
from switchboard.domain.errors import InvalidTransition, NotFound, ValidationError
from switchboard.domain.model import AgentConfig, OverflowRule, QueueConfig
from tests.acd.conftest import Driver, make


def two_agents(**queue: object) -> Driver:
    return make([QueueConfig(id="sales", ring_timeout_s=20, **queue),  # type: ignore[arg-type]
                 QueueConfig(id="other")],
                [AgentConfig(id="a1"), AgentConfig(id="a2")])


def dial(d: Driver, iid: str, agent: str, now: float, queue: str = "sales") -> list[e.Event]:
    return d.do(c.Arrive(interaction_id=iid, direction=Direction.OUTBOUND, queue_id=queue,
                         preferred_agent=agent, agent_only=True), now)


def test_offered_to_its_agent_only_though_another_is_idle_longer() -> None:
    d = two_agents()
    d.ready("a2", now=0)
    d.ready("a1", now=5)
    out = dial(d, "o1", "a1", 10)
    assert d.kinds(out)[:2] == ["arrived", "enqueued"]
    enq = out[1]
    assert isinstance(enq, e.Enqueued) and enq.queue_id == "sales"  # reported there
    assert d.offers(out) == [("o1", "a1")]


def test_it_waits_for_its_busy_agent_and_never_goes_to_another() -> None:
    d = two_agents(overflow=(OverflowRule(to_queue="other", after_s=5),))
    d.ready("a1", "a2", now=0)
    d.arrive("c1", "sales", now=1)  # a1 (longest idle) takes c1
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 2)
    out = dial(d, "o1", "a1", 3)
    assert d.offers(out) == []  # a2 is free, but o1 is a1's
    assert d.offers(d.at(100)) == []  # no overflow timer moved it either
    assert d.engine.interaction("o1")["queue"] == "sales"
    out = d.do(c.Hangup(interaction_id="c1", by="agent"), 110)  # no wrap-up: a1 is free
    assert d.offers(out) == [("o1", "a1")]


def test_ring_no_answer_keeps_it_for_its_agent_with_the_usual_miss_rules() -> None:
    d = make([QueueConfig(id="sales", ring_timeout_s=20, max_misses=1)],
             [AgentConfig(id="a1"), AgentConfig(id="a2")])
    d.ready("a1", "a2", now=0)
    dial(d, "o1", "a1", 1)
    out = d.at(21)  # RNA: a1 misses it and goes not ready (max_misses 1)
    assert "offer_timeout" in d.kinds(out)
    assert d.offers(out) == []  # not to a2
    assert d.engine.agent("a1")["status"] == AgentStatus.NOT_READY.value
    out = d.do(c.SetAgentStatus(agent_id="a1", status=AgentStatus.READY), 30)
    assert d.offers(out) == [("o1", "a1")]


def test_declined_it_stays_with_its_agent() -> None:
    d = two_agents()
    d.ready("a1", "a2", now=0)
    dial(d, "o1", "a1", 1)
    out = d.do(c.Reject(interaction_id="o1", agent_id="a1"), 2)
    assert all(agent == "a1" for _, agent in d.offers(out))


def test_its_agent_logging_off_ends_it_as_no_agents() -> None:
    d = two_agents()
    d.ready("a1", now=0)
    d.do(c.SetAgentStatus(agent_id="a1", status=AgentStatus.NOT_READY, reason="lunch"), 1)
    dial(d, "o1", "a1", 2)
    d.ready("a2", now=3)
    out = d.do(c.SetAgentStatus(agent_id="a1", status=AgentStatus.OFFLINE), 4)
    exited = [ev for ev in out if isinstance(ev, e.Exited)]
    assert len(exited) == 1 and exited[0].reason is EndReason.NO_AGENTS
    assert exited[0].queue_id == "sales"
    assert d.offers(out) == []


def test_supervisor_move_makes_it_an_ordinary_contact() -> None:
    d = two_agents()
    d.ready("a2", now=0)
    dial(d, "o1", "a1", 1)
    out = d.do(c.MoveContact(interaction_id="o1", queue_id="other"), 2)
    assert d.offers(out) == [("o1", "a2")]


def test_enqueue_from_ivr_for_one_agent() -> None:
    d = two_agents()
    d.ready("a2", now=0)
    d.ready("a1", now=1)
    d.do(c.Arrive(interaction_id="v1"), 2)
    out = d.do(c.Enqueue(interaction_id="v1", queue_id="sales", preferred_agent="a1",
                         agent_only=True), 3)
    assert d.offers(out) == [("v1", "a1")]


def test_bad_commands_say_what_to_fix_and_change_nothing() -> None:
    d = two_agents()
    with pytest.raises(ValidationError) as err:
        c.Arrive(interaction_id="x", queue_id="sales", agent_only=True)
    assert err.value.field == "preferred_agent"
    with pytest.raises(ValidationError) as err:
        c.Enqueue(interaction_id="x", queue_id="sales", preferred_agent="a1",
                  agent_only="yes")  # type: ignore[arg-type]
    assert err.value.field == "agent_only"
    with pytest.raises(NotFound):
        dial(d, "o1", "nobody", 1)
    with pytest.raises(NotFound):
        d.engine.interaction("o1")


def test_once_answered_a_transfer_to_another_agent_falls_back_as_usual() -> None:
    d = two_agents()
    d.ready("a1", "a2", now=0)
    dial(d, "o1", "a1", 1)
    d.do(c.Accept(interaction_id="o1", agent_id="a1"), 2)
    d.do(c.Transfer(interaction_id="o1", to_agent="a2"), 3)
    out = d.do(c.Reject(interaction_id="o1", agent_id="a2"), 4)
    assert d.offers(out) == [("o1", "a1")]  # back to the queue: a1 is free again


def test_withdraw_takes_a_waiting_contact_out_as_neither_answered_nor_abandoned() -> None:
    d = two_agents()
    d.ready("a1", now=0)
    dial(d, "o1", "a1", 1)  # ringing a1
    out = d.do(c.Withdraw(interaction_id="o1"), 5)
    assert [k for k in d.kinds(out) if k != "agent_state"] == ["offer_withdrawn", "exited"]
    exited = next(ev for ev in out if isinstance(ev, e.Exited))
    assert exited.reason is EndReason.WITHDRAWN
    assert exited.queue_id == "sales" and exited.wait_s == 4
    assert d.engine.agent("a1")["state"] == "idle"
    with pytest.raises(InvalidTransition):  # it has ended
        d.do(c.Withdraw(interaction_id="o1"), 6)


def test_withdraw_refuses_a_connected_contact_and_changes_nothing() -> None:
    d = two_agents()
    d.ready("a1", now=0)
    dial(d, "o1", "a1", 1)
    d.do(c.Accept(interaction_id="o1", agent_id="a1"), 2)
    with pytest.raises(InvalidTransition):
        d.do(c.Withdraw(interaction_id="o1"), 3)
    assert d.engine.interaction("o1")["state"] == "connected"
