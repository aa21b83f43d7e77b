"""CDR legs from the real routing engine's event log (hand-checked)."""

from __future__ import annotations

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain.events import Event
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig
from switchboard.metrics.batch import compute_report
from switchboard.metrics.builder import cdr_rows_from_events
from switchboard.metrics.params import ReportParams

S = 1_000_000


def run() -> list[Event]:
    eng = Engine(RoutingConfig(skills=frozenset(), seed=0,
                               queues=(QueueConfig(id="q1", wrapup_s=5), QueueConfig(id="q2")),
                               agents=(AgentConfig(id="a"), AgentConfig(id="b"))))
    log: list[Event] = []
    for cmd, now in [
        (c.SetAgentStatus(agent_id="a", status="ready"), 0),
        (c.Arrive(interaction_id="c1", queue_id="q1"), 0),
        (c.Accept(interaction_id="c1", agent_id="a"), 1),
        (c.Hold(interaction_id="c1"), 3), (c.Resume(interaction_id="c1"), 5),
        (c.Transfer(interaction_id="c1", to_queue="q2"), 10),
        (c.SetAgentStatus(agent_id="b", status="ready"), 11),
        (c.Accept(interaction_id="c1", agent_id="b"), 12),
        (c.Hangup(interaction_id="c1"), 30),
        (c.Arrive(interaction_id="c2", queue_id="q1"), 31),
        (c.Hangup(interaction_id="c2"), 33),
        (c.Arrive(interaction_id="c3"), 40), (c.Hangup(interaction_id="c3"), 45),
    ]:
        log.extend(eng.advance(now))
        log.extend(eng.handle(cmd, now))
    log.extend(eng.advance(100))
    return log


def test_engine_log_to_cdr_legs() -> None:
    rows = {r.id: r for r in cdr_rows_from_events(run())}
    assert sorted(rows) == ["c1", "c1#2", "c2", "c3"]
    leg1, leg2 = rows["c1"], rows["c1#2"]
    # leg 1: answered by a at 1 s, held 3..5, blind transfer at 10, a's 5 s wrap-up
    assert (leg1.queue, leg1.agent, leg1.answered_at, leg1.ended_at) == ("q1", "a", S, 10 * S)
    assert (leg1.hold_us, leg1.wrapup_us, leg1.transfers) == (2 * S, 5 * S, 1)
    # leg 2 in q2 keeps the first enqueued_at (0): the customer's wait is 12 s
    assert (leg2.queue, leg2.agent, leg2.enqueued_at, leg2.answered_at, leg2.ended_at) == (
        "q2", "b", 0, 12 * S, 30 * S)
    assert rows["c2"].abandoned_at == 33 * S and rows["c2"].wait_us == 2 * S
    assert rows["c3"].enqueued_at is None and rows["c3"].ended_at == 45 * S


def test_agent_report_from_the_engine() -> None:
    rows = {r["key"]: r for r in compute_report(run(), "agent", ReportParams(until=100))}
    a = rows["a"]
    # a: logged in 0..100; busy 1..10, wrap-up 10..15, ringing 0..1 and 31..33
    assert (a["logged_in_s"], a["busy_s"], a["wrapup_s"], a["reserved_s"]) == (100, 9, 5, 3)
    assert a["ready_idle_s"] == 83
    assert a["occupancy"] == 14 / 100 and a["utilization"] == 14 / 100
    assert a["att_s"] == 7 and a["acw_s"] == 5 and a["transfers"] == 1
