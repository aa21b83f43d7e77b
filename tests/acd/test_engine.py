"""The engine, driven step by step with explicit times."""

from __future__ import annotations

import pytest

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentState, AgentStatus, Channel, InteractionState, Strategy
from switchboard.domain.errors import (
    AgentUnavailable,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from switchboard.domain.model import (
    AgentConfig,
    Customer,
    ExpansionStep,
    JoinRule,
    OverflowRule,
    QueueConfig,
)
from tests.acd.conftest import Driver, make


def test_contact_is_offered_to_longest_idle_agent(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1", now=0)
    d.ready("a2", now=1)
    d.ready("a3", now=2)
    out = d.arrive("c1", "q", now=10)
    assert d.kinds(out) == ["arrived", "enqueued", "offered", "agent_state"]
    assert d.offers(out) == [("c1", "a1")]
    offered = out[2]
    assert isinstance(offered, e.Offered) and offered.expires_at == 30.0
    assert d.engine.interaction("c1")["state"] == "offered"
    assert d.engine.agent("a1")["state"] == "reserved"


def test_full_life_of_a_call(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=5)
    ans = d.do(c.Accept(interaction_id="c1", agent_id="a1"), 8)
    answered = next(ev for ev in ans if isinstance(ev, e.Answered))
    assert answered.wait_s == 3 and answered.ring_s == 3
    d.do(c.Hold(interaction_id="c1"), 20)
    res = d.do(c.Resume(interaction_id="c1"), 50)
    assert isinstance(res[0], e.Resumed) and res[0].hold_s == 30
    end = d.do(c.Hangup(interaction_id="c1", by="agent"), 108)
    ended = end[0]
    assert isinstance(ended, e.Ended)
    assert (ended.talk_s, ended.hold_s, ended.wrapup_until) == (70, 30, 118)
    assert d.engine.interaction("c1")["state"] == "wrapup"
    assert d.engine.agent("a1")["state"] == "wrapup"
    assert d.engine.next_deadline() == 118
    wr = d.do(c.EndWrapup(interaction_id="c1", agent_id="a1", disposition="sale"), 112)
    assert isinstance(wr[0], e.WrapupEnded)
    assert (wr[0].wrapup_s, wr[0].disposition, wr[0].timed_out) == (4, "sale", False)
    assert d.engine.agent("a1")["state"] == "idle"
    with pytest.raises(InvalidTransition):
        d.engine.interaction("c1")
    assert d.at(200) == []  # the wrap-up timer was cancelled


def test_wrapup_times_out_and_can_be_extended(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 1)
    d.do(c.Hangup(interaction_id="c1"), 10)
    ext = d.do(c.ExtendWrapup(interaction_id="c1", agent_id="a1", seconds=30), 15)
    assert isinstance(ext[0], e.WrapupExtended) and ext[0].wrapup_until == 50
    assert d.at(49) == []
    out = d.at(50)
    assert isinstance(out[0], e.WrapupEnded) and out[0].timed_out and out[0].wrapup_s == 40


def test_ring_no_answer_returns_contact_to_its_place_and_tries_next_agent() -> None:
    d = make([QueueConfig(id="q", ring_timeout_s=15, max_misses=2)],
             [AgentConfig(id="a1"), AgentConfig(id="a2")])
    d.ready("a1", now=0)
    d.arrive("c1", "q", now=1)  # offered to a1
    d.arrive("c2", "q", now=2)  # waits: a2 is offline
    d.arrive("c3", "q", now=3)
    assert d.engine.waiting("q") == ["c2", "c3"]
    d.ready("a2", now=4)  # takes c2
    assert d.engine.waiting("q") == ["c3"]
    out = d.at(16)  # a1 did not answer c1
    assert d.kinds(out)[:2] == ["offer_timeout", "agent_state"]
    # c1 is back ahead of c3 (its original place), offered again to a1 (the only free agent)
    assert d.offers(out) == [("c1", "a1")]
    out = d.at(31)
    assert "offer_timeout" in d.kinds(out)
    # second consecutive miss: a1 is set not ready, c1 waits first in line
    st = [ev for ev in out if isinstance(ev, e.AgentStateChanged) and ev.agent_id == "a1"]
    assert st[-1].status is AgentStatus.NOT_READY and st[-1].reason == "missed_offers"
    assert st[-1].cause == "auto_not_ready"
    assert d.engine.waiting("q") == ["c1", "c3"]
    assert d.engine.position("c1") == 1 and d.engine.position("c3") == 2


def test_reject_moves_offer_to_another_agent(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1", "a2")
    d.arrive("c1", "q", now=5)
    out = d.do(c.Reject(interaction_id="c1", agent_id="a1"), 6)
    assert d.kinds(out)[0] == "offer_rejected"
    assert d.offers(out) == [("c1", "a2")]
    assert d.engine.agent("a1")["misses"] == 0  # a deliberate reject is not a miss


def test_priority_then_arrival_order(one_queue: Driver) -> None:
    d = one_queue
    d.arrive("low1", "q", now=1)
    d.arrive("high", "q", now=2, priority=5)
    d.arrive("low2", "q", now=3)
    assert d.engine.waiting("q") == ["high", "low1", "low2"]
    assert [d.engine.position(i) for i in ("high", "low1", "low2")] == [1, 2, 3]
    d.ready("a1", now=4)
    assert d.offers()[-1] == ("high", "a1")


def test_priority_aging_lets_old_contacts_overtake() -> None:
    d = make([QueueConfig(id="q", priority_aging_s=10)], [AgentConfig(id="a1")])
    d.arrive("old", "q", now=0)  # effective priority at t: t/10
    d.arrive("vip", "q", now=25, priority=2)  # effective 2 + (t-25)/10
    # at any t: old = t/10, vip = t/10 - 0.5 -> old stays ahead
    assert d.engine.waiting("q") == ["old", "vip"]
    d.arrive("vip2", "q", now=26, priority=5)  # 5 + (t-26)/10 = t/10 + 2.4 -> first
    assert d.engine.waiting("q") == ["vip2", "old", "vip"]


def test_skills_and_minimum_level() -> None:
    d = make([QueueConfig(id="fr", skills={"fr": 5})],
             [AgentConfig(id="weak", skills={"fr": 4}), AgentConfig(id="strong", skills={"fr": 7})])
    d.ready("weak", now=0)
    d.arrive("c1", "fr", now=1)
    assert d.offers() == []  # the weak agent is not eligible
    d.ready("strong", now=2)
    assert d.offers() == [("c1", "strong")]


def test_per_contact_skill_requirement() -> None:
    d = make([QueueConfig(id="q", skills={"en": 1})],
             [AgentConfig(id="en_only", skills={"en": 9}),
              AgentConfig(id="billing", skills={"en": 2, "billing": 6})])
    d.ready("en_only", now=0)
    d.ready("billing", now=1)
    d.arrive("c1", "q", now=5, skills={"billing": 5})
    assert d.offers() == [("c1", "billing")]


def test_expansion_steps_bullseye() -> None:
    q = QueueConfig(id="q", skills={"fr": 8}, steps=(
        ExpansionStep(after_s=30, skills={"fr": 5}),
        ExpansionStep(after_s=60, add_agents=("backup",)),
    ))
    d = make([q], [AgentConfig(id="mid", skills={"fr": 6}), AgentConfig(id="backup")])
    d.ready("mid", "backup", now=0)
    d.arrive("c1", "q", now=0)
    assert d.offers() == []
    assert d.engine.next_deadline() == 30
    out = d.at(30)
    assert d.offers(out) == [("c1", "mid")]
    d.do(c.Accept(interaction_id="c1", agent_id="mid"), 31)
    d.arrive("c2", "q", now=31)
    out = d.at(91)
    assert d.offers(out) == [("c2", "backup")]


def test_expansion_to_another_queue_agents() -> None:
    d = make([QueueConfig(id="vip", members=("v1",), steps=(ExpansionStep(
        after_s=20, add_queues=("general",)),)),
        QueueConfig(id="general", members=("g1",))],
        [AgentConfig(id="v1"), AgentConfig(id="g1")])
    d.ready("g1", now=0)
    d.arrive("c1", "vip", now=0)
    assert d.offers() == []
    assert d.offers(d.at(20)) == [("c1", "g1")]


def test_overflow_after_seconds_keeps_wait() -> None:
    d = make([QueueConfig(id="a", overflow=(OverflowRule(to_queue="b", after_s=45),)),
              QueueConfig(id="b")],
             [AgentConfig(id="x")])
    d.arrive("c1", "a", now=0)
    out = d.at(45)
    ov = out[0]
    assert isinstance(ov, e.Overflowed) and (ov.queue_id, ov.to_queue, ov.reason) == (
        "a", "b", "after_s")
    assert d.engine.interaction("c1")["queue"] == "b"
    d.ready("x", now=50)
    acc = d.do(c.Accept(interaction_id="c1", agent_id="x"), 52)
    assert isinstance(acc[0], e.Answered) and acc[0].wait_s == 52  # from the first enqueue


def test_overflow_when_ewt_too_long() -> None:
    d = make([QueueConfig(id="a", overflow=(OverflowRule(to_queue="b", ewt_above_s=100),)),
              QueueConfig(id="b")], [AgentConfig(id="x")])
    out = d.arrive("c1", "a", now=0)  # nobody logged in: EWT unknown, treated as too long
    assert d.kinds(out) == ["arrived", "enqueued", "overflowed"]
    assert d.engine.interaction("c1")["queue"] == "b"


def test_max_queue_length_and_join_rules() -> None:
    d = make([QueueConfig(id="q", max_length=1),
              QueueConfig(id="staffed", join_rule=JoinRule.LOGGED_IN)], [AgentConfig(id="a")])
    d.arrive("c1", "q", now=0)
    out = d.arrive("c2", "q", now=1)
    assert isinstance(out[-1], e.EnqueueRefused) and out[-1].reason.value == "queue_full"
    assert d.engine.interaction("c2")["state"] == "ivr"  # the IVR can route it elsewhere
    out = d.arrive("c3", "staffed", now=2)
    assert isinstance(out[-1], e.EnqueueRefused) and out[-1].reason.value == "no_agents"
    d.do(c.SetAgentStatus(agent_id="a", status="not_ready", reason="lunch"), 3)
    out = d.do(c.Enqueue(interaction_id="c3", queue_id="staffed"), 4)
    assert isinstance(out[0], e.Enqueued)


def test_leave_rule_exits_waiting_contacts_when_last_agent_leaves() -> None:
    d = make([QueueConfig(id="q", leave_rule=JoinRule.READY)],
             [AgentConfig(id="a", capacity={"voice": 1})])
    d.ready("a", now=0)
    d.arrive("c1", "q", now=1)  # offered to a
    d.arrive("c2", "q", now=2)  # waits
    out = d.do(c.SetAgentStatus(agent_id="a", status="not_ready", reason="break"), 3)
    exits = [ev for ev in out if isinstance(ev, e.Exited)]
    assert {ev.interaction_id for ev in exits} == {"c1", "c2"}
    assert all(ev.reason.value == "no_agents" for ev in exits)


def test_queue_timeout_exits() -> None:
    d = make([QueueConfig(id="q", timeout_s=60)], [AgentConfig(id="a")])
    d.arrive("c1", "q", now=0)
    out = d.at(60)
    assert isinstance(out[0], e.Exited) and out[0].wait_s == 60 and out[0].position == 1


def test_abandon_while_queued_and_while_ringing(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=0)  # ringing a1
    d.arrive("c2", "q", now=1)
    d.arrive("c3", "q", now=2)
    out = d.do(c.Hangup(interaction_id="c3"), 12)
    assert isinstance(out[0], e.Abandoned)
    assert (out[0].wait_s, out[0].position) == (10, 2)
    out = d.do(c.Hangup(interaction_id="c1"), 13)
    assert d.kinds(out)[:3] == ["offer_withdrawn", "agent_state", "abandoned"]
    assert d.offers(out) == [("c2", "a1")]  # a1 takes the next one


def test_self_service_in_ivr(one_queue: Driver) -> None:
    d = one_queue
    d.do(c.Arrive(interaction_id="c1"), 0)
    d.do(c.IvrStep(interaction_id="c1", digits="1", attributes={"account": "42"}), 3)
    out = d.do(c.Hangup(interaction_id="c1"), 9)
    assert isinstance(out[0], e.Ended) and out[0].agent_id is None


def test_chat_capacity_and_voice_exclusivity() -> None:
    d = make([QueueConfig(id="chat"), QueueConfig(id="voice")],
             [AgentConfig(id="a", capacity={"voice": 1, "chat": 3})])
    d.ready("a")
    for i in range(4):
        d.arrive(f"chat{i}", "chat", now=i, channel=Channel.CHAT)
    assert [o for o in d.offers()] == [("chat0", "a"), ("chat1", "a"), ("chat2", "a")]
    d.arrive("call", "voice", now=5)
    assert ("call", "a") not in d.offers()  # a call is never offered beside chats
    for i in range(3):
        d.do(c.Accept(interaction_id=f"chat{i}", agent_id="a"), 6 + i)
    for i in range(3):
        d.do(c.Hangup(interaction_id=f"chat{i}"), 8)
    # with all chats closed, the oldest waiting contact across both queues goes first
    assert d.offers()[-1] == ("chat3", "a")
    d.do(c.Accept(interaction_id="chat3", agent_id="a"), 9)
    d.do(c.Hangup(interaction_id="chat3"), 9)
    assert d.offers()[-1] == ("call", "a")
    d.do(c.Accept(interaction_id="call", agent_id="a"), 10)
    d.arrive("chat4", "chat", now=11, channel=Channel.CHAT)
    assert ("chat4", "a") not in d.offers()  # a call blocks new chats


def test_ring_all_offers_everyone_and_first_accept_wins() -> None:
    d = make([QueueConfig(id="q", strategy=Strategy.RING_ALL)],
             [AgentConfig(id="a1"), AgentConfig(id="a2"), AgentConfig(id="a3")])
    d.ready("a1", "a2", "a3")
    out = d.arrive("c1", "q", now=1)
    assert sorted(d.offers(out)) == [("c1", "a1"), ("c1", "a2"), ("c1", "a3")]
    out = d.do(c.Accept(interaction_id="c1", agent_id="a2"), 2)
    assert sorted(ev.agent_id for ev in out if isinstance(ev, e.OfferWithdrawn)) == ["a1", "a3"]
    assert d.engine.agent("a1")["state"] == "idle"


def test_blind_transfer_to_queue_and_agent() -> None:
    d = make([QueueConfig(id="q1", wrapup_s=5), QueueConfig(id="q2")],
             [AgentConfig(id="a"), AgentConfig(id="b"), AgentConfig(id="c")])
    d.ready("a")
    d.arrive("c1", "q1", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a"), 1)
    out = d.do(c.Transfer(interaction_id="c1", to_queue="q2"), 10)
    tr = out[0]
    assert isinstance(tr, e.Transferred) and (tr.agent_id, tr.to_queue, tr.mode) == (
        "a", "q2", "blind")
    assert d.engine.agent("a")["state"] == "wrapup"
    assert d.engine.interaction("c1")["queue"] == "q2"
    d.ready("b", now=11)
    d.do(c.Accept(interaction_id="c1", agent_id="b"), 12)
    # blind transfer to agent c, who is not ready yet: the contact waits for c
    d.do(c.SetAgentStatus(agent_id="c", status="not_ready", reason="meeting"), 13)
    d.do(c.Transfer(interaction_id="c1", to_agent="c"), 14)
    assert d.engine.interaction("c1")["state"] == "queued"
    d.ready("c", now=20)
    assert d.offers()[-1] == ("c1", "c")
    with pytest.raises(InvalidTransition):
        d.do(c.Transfer(interaction_id="c1", to_agent="a"), 21)  # ringing c: not connected
    d.do(c.Accept(interaction_id="c1", agent_id="c"), 22)
    d.do(c.SetAgentStatus(agent_id="b", status="offline"), 23)
    with pytest.raises(AgentUnavailable):
        d.do(c.Transfer(interaction_id="c1", to_agent="b"), 24)  # b is logged out


def test_warm_transfer_consults_then_completes() -> None:
    d = make([QueueConfig(id="q")], [AgentConfig(id="a"), AgentConfig(id="b")])
    d.ready("a")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a"), 1)
    d.ready("b", now=2)
    out = d.do(c.Transfer(interaction_id="c1", to_agent="b", mode="warm"), 5)
    assert d.kinds(out)[:3] == ["held", "transfer_started", "offered"]
    d.do(c.Accept(interaction_id="c1", agent_id="b"), 7)
    assert d.engine.interaction("c1")["participants"] == ["b"]
    out = d.do(c.CompleteTransfer(interaction_id="c1"), 20)
    assert d.kinds(out)[:2] == ["resumed", "transferred"]
    assert d.engine.interaction("c1")["agent"] == "b"
    out = d.do(c.Hangup(interaction_id="c1"), 30)
    ended = out[0]
    assert isinstance(ended, e.Ended) and ended.agent_id == "b" and ended.hold_s == 15


def test_warm_transfer_cancelled_and_rna() -> None:
    d = make([QueueConfig(id="q", ring_timeout_s=10)], [AgentConfig(id="a"), AgentConfig(id="b")])
    d.ready("a", "b")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a"), 1)
    d.do(c.Transfer(interaction_id="c1", to_agent="b", mode="warm"), 5)
    out = d.at(15)  # b does not answer the consultation
    assert d.kinds(out)[0] == "offer_timeout" and "transfer_cancelled" in d.kinds(out)
    assert d.engine.interaction("c1")["state"] == "held"
    d.do(c.Resume(interaction_id="c1"), 16)
    d.do(c.Transfer(interaction_id="c1", to_agent="b", mode="warm"), 17)
    d.do(c.Accept(interaction_id="c1", agent_id="b"), 18)
    d.do(c.CancelTransfer(interaction_id="c1"), 19)
    assert d.engine.agent("b")["state"] == "idle"
    assert d.engine.interaction("c1")["agent"] == "a"


def test_conference_join_and_leave(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1", "a2")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 1)
    d.do(c.JoinConference(interaction_id="c1", agent_id="a2"), 2)
    assert d.engine.agent("a2")["state"] == "busy"
    with pytest.raises(Conflict):
        d.do(c.JoinConference(interaction_id="c1", agent_id="a2"), 3)
    d.do(c.LeaveConference(interaction_id="c1", agent_id="a2"), 4)
    assert d.engine.agent("a2")["state"] == "idle"


def test_virtual_hold_callback_keeps_place_and_is_offered_outbound(one_queue: Driver) -> None:
    d = one_queue
    d.arrive("c1", "q", now=0, customer=Customer(phone="+390212345678"))
    d.arrive("c2", "q", now=1)
    out = d.do(c.RequestCallback(interaction_id="c1"), 30)
    assert isinstance(out[0], e.CallbackRequested) and out[0].phone == "+390212345678"
    assert d.engine.waiting("q") == ["c1", "c2"]
    out = d.do(c.SetAgentStatus(agent_id="a1", status="ready"), 40)
    offered = next(ev for ev in out if isinstance(ev, e.Offered))
    assert offered.interaction_id == "c1" and offered.callback


def test_scheduled_callback_enters_queue_when_due(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    out = d.do(c.ScheduleCallback(interaction_id="cb", queue_id="q", due_at=100,
                                  phone="+33142000000"), 0)
    assert d.kinds(out) == ["arrived", "callback_scheduled"]
    assert d.engine.interaction("cb")["state"] == "scheduled"
    assert d.engine.next_deadline() == 100
    out = d.at(100)
    assert d.kinds(out)[:2] == ["enqueued", "offered"]
    assert isinstance(out[1], e.Offered) and out[1].callback


def test_last_agent_affinity_with_timeout_fallback() -> None:
    d = make([QueueConfig(id="q", affinity_timeout_s=30)],
             [AgentConfig(id="a1"), AgentConfig(id="a2")])
    d.ready("a1", now=0)
    d.ready("a2", now=1)
    alice = Customer(id="alice")
    d.arrive("c1", "q", now=5, customer=alice)
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 6)
    d.do(c.Hangup(interaction_id="c1"), 10)
    # a1 is now the most recently idle; alice still goes to a1
    d.do(c.Arrive(interaction_id="other", queue_id="q"), 11)  # takes a2 (longest idle)
    d.arrive("c2", "q", now=20, customer=alice)
    assert d.offers()[-1] == ("c2", "a1")
    d.do(c.Accept(interaction_id="c2", agent_id="a1"), 21)
    d.do(c.Accept(interaction_id="other", agent_id="a2"), 21)
    d.do(c.Hangup(interaction_id="other"), 22)
    # alice calls again while a1 is busy: she waits for a1 up to 30 s, then a2
    d.arrive("c3", "q", now=30, customer=alice)
    assert d.offers()[-1] == ("c2", "a1")
    out = d.at(60)
    assert d.offers(out) == [("c3", "a2")]


def test_move_contact_by_supervisor() -> None:
    d = make([QueueConfig(id="a"), QueueConfig(id="b")], [AgentConfig(id="x")])
    d.arrive("c1", "a", now=0)
    out = d.do(c.MoveContact(interaction_id="c1", queue_id="b"), 5)
    assert isinstance(out[0], e.Overflowed) and out[0].reason == "moved"
    with pytest.raises(Conflict):
        d.do(c.MoveContact(interaction_id="c1", queue_id="b"), 6)


def test_skill_change_on_the_fly_routes_waiting_contact() -> None:
    d = make([QueueConfig(id="de", skills={"de": 3})], [AgentConfig(id="a", skills={"en": 5})])
    d.ready("a")
    d.arrive("c1", "de", now=0)
    assert d.offers() == []
    out = d.do(c.UpsertAgent(agent=AgentConfig(id="a", skills={"en": 5, "de": 4})), 10)
    assert d.kinds(out)[0] == "agent_updated"
    assert d.offers(out) == [("c1", "a")]


def test_agent_status_and_state_are_separate(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 1)
    d.do(c.SetAgentStatus(agent_id="a1", status="not_ready", reason="break"), 2)
    snap = d.engine.agent("a1")
    assert (snap["status"], snap["reason"], snap["state"]) == ("not_ready", "break", "busy")
    with pytest.raises(InvalidTransition):
        d.do(c.SetAgentStatus(agent_id="a1", status="offline"), 3)
    d.do(c.Hangup(interaction_id="c1"), 4)
    d.do(c.EndWrapup(interaction_id="c1", agent_id="a1"), 5)
    d.do(c.SetAgentStatus(agent_id="a1", status="offline"), 6)
    last = [ev for ev in d.log if isinstance(ev, e.AgentStateChanged)][-1]
    assert (last.status, last.state) == (AgentStatus.OFFLINE, AgentState.IDLE)


def test_refused_commands_change_nothing(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=0)
    before = (d.engine.interaction("c1"), d.engine.agent("a1"), d.engine.next_deadline())
    bad = [
        c.Hold(interaction_id="c1"),  # not connected yet
        c.Accept(interaction_id="c1", agent_id="a2"),  # not offered to a2
        c.EndWrapup(interaction_id="c1", agent_id="a1"),
        c.Arrive(interaction_id="c1", queue_id="q"),  # duplicate id
        c.Arrive(interaction_id="c9", queue_id="nope"),
        c.Enqueue(interaction_id="c1", queue_id="q"),
        c.SetAgentStatus(agent_id="ghost", status="ready"),
        c.Transfer(interaction_id="c1", to_queue="q"),
        c.CompleteTransfer(interaction_id="c1"),
    ]
    for cmd in bad:
        with pytest.raises((InvalidTransition, Conflict, NotFound, ValidationError)):
            d.engine.handle(cmd, 1)
        after = (d.engine.interaction("c1"), d.engine.agent("a1"), d.engine.next_deadline())
        assert after == before, cmd
    assert "c9" not in d.engine.interaction_ids()
    assert d.engine.interaction("c1")["state"] == InteractionState.OFFERED.value


def test_timer_events_survive_a_refused_command(one_queue: Driver) -> None:
    d = one_queue
    d.ready("a1")
    d.arrive("c1", "q", now=0)
    with pytest.raises(InvalidTransition):
        d.engine.handle(c.Hold(interaction_id="c1"), 25)  # the ring timer fired at 20
    out = d.engine.advance(25)
    assert "offer_timeout" in [ev.kind for ev in out]


def test_time_cannot_go_backwards(one_queue: Driver) -> None:
    d = one_queue
    d.at(10)
    with pytest.raises(ValidationError):
        d.engine.advance(5)
    for bad in (float("nan"), float("inf"), "11", True):
        with pytest.raises(ValidationError, match="finite"):
            d.engine.handle(c.Arrive(interaction_id="c9", queue_id="q"), bad)  # type: ignore[arg-type]
    assert d.engine.interaction_ids() == []


def test_queue_stats_and_ewt(one_queue: Driver) -> None:
    d = one_queue
    d.do(c.SetAgentStatus(agent_id="a1", status="not_ready", reason="x"), 0)
    d.do(c.SetAgentStatus(agent_id="a2", status="not_ready", reason="x"), 0)
    d.arrive("c1", "q", now=0)
    d.arrive("c2", "q", now=10)
    stats = d.engine.queue_stats("q")
    assert stats["waiting"] == 2 and stats["longest_wait_s"] == 10
    assert stats["agents_logged_in"] == 2 and stats["agents_ready"] == 0
    # position x default AHT (180 s) / 2 logged-in agents
    assert d.engine.ewt("c2") == pytest.approx(2 * 180 / 2)


def test_queue_timeout_due_while_ringing_applies_when_the_ring_ends() -> None:
    d = make([QueueConfig(id="q", timeout_s=30, ring_timeout_s=20, max_misses=0)],
             [AgentConfig(id="a")])
    d.arrive("c1", "q", now=0)
    d.ready("a", now=15)  # rings a until 35; the queue timeout (30) falls due meanwhile
    assert d.at(30) == []
    out = d.at(35)
    kinds = d.kinds(out)
    assert kinds[0] == "offer_timeout" and "exited" in kinds
    assert "c1" not in d.engine.interaction_ids()


def test_queue_timeout_due_while_ringing_is_dropped_when_answered() -> None:
    d = make([QueueConfig(id="q", timeout_s=30, ring_timeout_s=20)], [AgentConfig(id="a")])
    d.arrive("c1", "q", now=0)
    d.ready("a", now=25)
    d.do(c.Accept(interaction_id="c1", agent_id="a"), 33)
    assert d.at(100) == []
    assert d.engine.interaction("c1")["state"] == "connected"


def test_declined_transfer_to_an_agent_goes_back_to_the_queue() -> None:
    d = make([QueueConfig(id="q")], [AgentConfig(id="a"), AgentConfig(id="b"),
                                      AgentConfig(id="x")])
    d.ready("a")
    d.arrive("c1", "q", now=0)
    d.do(c.Accept(interaction_id="c1", agent_id="a"), 1)
    d.ready("b", now=2)
    d.do(c.Transfer(interaction_id="c1", to_agent="b"), 3)
    assert d.offers()[-1] == ("c1", "b")
    out = d.do(c.Reject(interaction_id="c1", agent_id="b"), 4)
    # b declined: the contact is in the queue again, offered to a free agent (a or b)
    assert d.engine.interaction("c1")["state"] in ("offered", "queued")
    d.ready("x", now=5)
    offered_to = [o for o in d.offers(out)]
    assert offered_to and offered_to[-1][0] == "c1"


def test_remove_queue_refused_while_a_contact_belongs_to_it() -> None:
    d = make([QueueConfig(id="q", wrapup_s=10), QueueConfig(id="q2")],
             [AgentConfig(id="a1")])
    d.arrive("c1", "q", now=1)  # waiting: no agent is ready
    with pytest.raises(Conflict):
        d.do(c.RemoveQueue(queue_id="q"), 2)
    assert d.engine.has_queue("q") and d.engine.waiting("q") == ["c1"]  # unchanged
    d.ready("a1", now=3)  # offered
    with pytest.raises(Conflict):
        d.do(c.RemoveQueue(queue_id="q"), 4)
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 5)
    d.do(c.Hangup(interaction_id="c1", by="agent"), 6)  # wrap-up until 16
    with pytest.raises(Conflict):
        d.do(c.RemoveQueue(queue_id="q"), 7)
    d.at(16)
    assert d.do(c.RemoveQueue(queue_id="q"), 17) == []
    assert not d.engine.has_queue("q") and d.engine.queue_ids() == ["q2"]


def test_remove_queue_refused_while_another_queue_overflows_or_expands_into_it() -> None:
    d = make([QueueConfig(id="q"),
              QueueConfig(id="over", overflow=(OverflowRule(after_s=30, to_queue="q"),)),
              QueueConfig(id="exp", steps=(ExpansionStep(after_s=10, add_queues=("q",)),))],
             [AgentConfig(id="a1")])
    with pytest.raises(Conflict, match="over"):
        d.do(c.RemoveQueue(queue_id="q"), 1)
    d.do(c.UpsertQueue(queue=QueueConfig(id="over")), 2)
    with pytest.raises(Conflict, match="exp"):
        d.do(c.RemoveQueue(queue_id="q"), 3)
    d.do(c.UpsertQueue(queue=QueueConfig(id="exp")), 4)
    d.do(c.RemoveQueue(queue_id="q"), 5)
    with pytest.raises(NotFound):
        d.do(c.RemoveQueue(queue_id="q"), 6)


def test_a_removed_queue_routes_nothing_and_its_agents_serve_the_others() -> None:
    d = make([QueueConfig(id="q", skills={"en": 1}), QueueConfig(id="q2", skills={"fr": 1})],
             [AgentConfig(id="a1", skills={"en": 1, "fr": 1})])
    d.ready("a1", now=0)
    d.do(c.RemoveQueue(queue_id="q"), 1)
    with pytest.raises(NotFound):
        d.arrive("c1", "q", now=2)
    assert all(p.queue_id != "q" for p in d.engine._pool_list)
    assert all(p.queue_id != "q" for p in d.engine._agents["a1"].pools)
    out = d.arrive("c2", "q2", now=3)
    assert d.offers(out) == [("c2", "a1")]
    # a queue added afterwards gets pools of its own (ids are never reused)
    d.do(c.UpsertQueue(queue=QueueConfig(id="q3", skills={"en": 1})), 4)
    assert len({p.id for p in d.engine._pool_list}) == len(d.engine._pool_list)
    assert d.engine.queue_stats("q3")["agents_logged_in"] == 1


def test_remove_agent_refused_while_logged_in_or_holding_a_contact() -> None:
    d = make([QueueConfig(id="q", wrapup_s=10)], [AgentConfig(id="a1"), AgentConfig(id="a2")])
    d.ready("a1", now=0)
    with pytest.raises(Conflict, match="log it out"):
        d.do(c.RemoveAgent(agent_id="a1"), 1)  # ready
    d.arrive("c1", "q", now=2)  # offered to a1
    d.do(c.Accept(interaction_id="c1", agent_id="a1"), 3)
    d.do(c.Hangup(interaction_id="c1", by="agent"), 4)  # wrap-up until 14
    with pytest.raises(Conflict, match="log it out"):
        d.do(c.RemoveAgent(agent_id="a1"), 6)  # in wrap-up
    assert "a1" in d.engine.agent_ids() and d.engine.queue_agents("q") == ["a1", "a2"]
    d.at(14)
    d.do(c.SetAgentStatus(agent_id="a1", status="offline"), 14)
    assert d.do(c.RemoveAgent(agent_id="a1"), 15) == []
    assert d.engine.agent_ids() == ["a2"] and d.engine.queue_agents("q") == ["a2"]
    with pytest.raises(NotFound):
        d.do(c.RemoveAgent(agent_id="a1"), 16)
    with pytest.raises(NotFound):
        d.ready("a1", now=17)


def test_remove_agent_refused_while_a_queue_or_a_contact_names_it() -> None:
    d = make([QueueConfig(id="q", members=("a1", "a2")),
              QueueConfig(id="x", steps=(ExpansionStep(after_s=10, add_agents=("a3",)),))],
             [AgentConfig(id="a1"), AgentConfig(id="a2"), AgentConfig(id="a3")])
    with pytest.raises(Conflict, match="queue q"):
        d.do(c.RemoveAgent(agent_id="a1"), 1)
    with pytest.raises(Conflict, match="queue x"):
        d.do(c.RemoveAgent(agent_id="a3"), 1)
    d.do(c.UpsertQueue(queue=QueueConfig(id="q")), 2)
    d.do(c.UpsertQueue(queue=QueueConfig(id="x")), 2)
    # an agent's own contact waits for it alone, even while it is logged out
    d.arrive("own", "q", now=3, preferred_agent="a1", agent_only=True)
    with pytest.raises(Conflict, match="own"):
        d.do(c.RemoveAgent(agent_id="a1"), 4)
    d.do(c.Withdraw(interaction_id="own"), 5)
    d.do(c.RemoveAgent(agent_id="a1"), 6)
    d.do(c.RemoveAgent(agent_id="a3"), 6)
    assert d.engine.agent_ids() == ["a2"]


def test_a_removed_agent_leaves_every_pool_and_the_others_route_on() -> None:
    d = make([QueueConfig(id="q", skills={"en": 1}, affinity_timeout_s=30)],
             [AgentConfig(id="a1", skills={"en": 5}), AgentConfig(id="a2", skills={"en": 5})])
    d.ready("a2", now=0)
    d.arrive("c1", "q", now=1, customer=Customer(id="k"))
    d.do(c.Accept(interaction_id="c1", agent_id="a2"), 2)
    d.do(c.Hangup(interaction_id="c1", by="agent"), 3)  # no wrap-up in this queue
    d.do(c.SetAgentStatus(agent_id="a2", status="offline"), 5)
    d.do(c.RemoveAgent(agent_id="a2"), 6)  # the customer's last agent: affinity forgets it
    assert all("a2" not in p.members_set for p in d.engine._pool_list)
    d.ready("a1", now=7)
    out = d.arrive("c2", "q", now=8, customer=Customer(id="k"))
    assert d.offers(out) == [("c2", "a1")]
    # an agent created again under the same id starts afresh
    d.do(c.UpsertAgent(agent=AgentConfig(id="a2", skills={"en": 5})), 9)
    assert d.engine.agent("a2")["status"] == "offline" and d.engine.agent("a2")["handled"] == 0
    assert "a2" in d.engine.queue_agents("q")
