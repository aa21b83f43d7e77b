"""Streaming == batch on random event logs, and CDR -> events -> CDR round trips."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.domain import events as ev
from switchboard.domain.enums import AgentState, AgentStatus, Channel, EndReason
from switchboard.domain.model import Customer
from switchboard.metrics.batch import compute_report
from switchboard.metrics.builder import cdr_rows_from_events
from switchboard.metrics.cdr_events import events_from_cdr_rows
from switchboard.metrics.params import GROUPINGS, ReportParams
from switchboard.metrics.streaming import LiveMetrics

T0 = 1_711_843_200.0  # 2024-03-31T00:00Z: a DST day in Europe/Rome
AGENTS = ["a1", "a2", "a3"]
QUEUES = ["q1", "q2"]


@st.composite
def lifecycle(draw: st.DrawFn, n: int) -> list[ev.Event]:
    """One interaction's events, in time order, through random branches."""
    iid = f"i{n}"
    t = T0 + draw(st.integers(0, 2 * 86400)) + draw(st.sampled_from([0.0, 0.5, 0.25]))
    gap = st.integers(0, 400)
    cust = draw(st.sampled_from(["", "c1", "c2", "c3"]))
    out: list[ev.Event] = [ev.Arrived(at=t, interaction_id=iid,
                                      channel=draw(st.sampled_from(list(Channel))),
                                      customer=Customer(id=cust or None))]
    fate = draw(st.sampled_from(["ivr", "refused", "queue", "queue", "queue"]))
    if fate == "ivr":
        out.append(ev.Ended(at=t + draw(gap), interaction_id=iid))
        return out
    queue = draw(st.sampled_from(QUEUES))
    t += draw(gap)
    if fate == "refused":
        out.append(ev.EnqueueRefused(at=t, interaction_id=iid, queue_id=queue))
        return out
    out.append(ev.Enqueued(at=t, interaction_id=iid, queue_id=queue,
                           callback=draw(st.booleans())))
    for leg in range(draw(st.integers(1, 2))):
        if draw(st.booleans()):
            t += draw(gap)
            agent = draw(st.sampled_from(AGENTS))
            out.append(ev.OfferTimedOut(at=t, interaction_id=iid, agent_id=agent,
                                        reservation_id=f"{iid}r{leg}"))
        if draw(st.integers(0, 5)) == 0:
            out.append(ev.CallbackRequested(at=t, interaction_id=iid, queue_id=queue))
        t += draw(gap)
        end = draw(st.sampled_from(["answer", "answer", "abandon", "exit", "overflow"]))
        if end == "abandon":
            out.append(ev.Abandoned(at=t, interaction_id=iid, queue_id=queue,
                                    reason=draw(st.sampled_from([EndReason.CUSTOMER_HANGUP,
                                                                 EndReason.KEY_PRESSED]))))
            return out
        if end == "exit":
            out.append(ev.Exited(at=t, interaction_id=iid, queue_id=queue))
            return out
        if end == "overflow":
            other = "q2" if queue == "q1" else "q1"
            out.append(ev.Overflowed(at=t, interaction_id=iid, queue_id=queue, to_queue=other))
            queue = other
            continue
        agent = draw(st.sampled_from(AGENTS))
        out.append(ev.Answered(at=t, interaction_id=iid, agent_id=agent, queue_id=queue))
        if draw(st.booleans()):
            t += draw(gap)
            out.append(ev.Held(at=t, interaction_id=iid))
            t += draw(gap)
            out.append(ev.Resumed(at=t, interaction_id=iid))
        t += draw(gap)
        if leg == 0 and draw(st.integers(0, 3)) == 0:
            other = "q2" if queue == "q1" else "q1"
            out.append(ev.Transferred(at=t, interaction_id=iid, agent_id=agent,
                                      to_queue=other))
            out.append(ev.WrapupEnded(at=t + draw(gap), interaction_id=iid, agent_id=agent,
                                      wrapup_s=3.0))
            queue = other
            continue
        out.append(ev.Ended(at=t, interaction_id=iid, agent_id=agent))
        if draw(st.booleans()):
            w = float(draw(gap))
            out.append(ev.WrapupEnded(at=t + w, interaction_id=iid, agent_id=agent,
                                      wrapup_s=w, disposition=draw(st.sampled_from([None, "ok"]))))
        if draw(st.integers(0, 2)) == 0:
            out.append(ev.SurveyAnswered(at=t + 500, interaction_id=iid, survey="nps",
                                         score=draw(st.integers(0, 10))))
        return out
    return out


@st.composite
def event_logs(draw: st.DrawFn) -> list[ev.Event]:
    events: list[ev.Event] = []
    for n in range(draw(st.integers(0, 12))):
        events.extend(draw(lifecycle(n)))
    for agent in AGENTS:
        t = T0
        for _ in range(draw(st.integers(0, 5))):
            t += draw(st.integers(1, 20000))
            events.append(ev.AgentStateChanged(
                at=t, agent_id=agent, status=draw(st.sampled_from(list(AgentStatus))),
                state=draw(st.sampled_from(list(AgentState)))))
    events.sort(key=lambda e: e.at)  # stable: each lifecycle keeps its order
    return events


PARAMS = [ReportParams(key_offsets=True, tz=ZoneInfo("Europe/Rome"), interval_min=15),
          ReportParams(key_offsets=False, sl_formula="ignore_short", fcr_window_s=3600.0)]


@settings(max_examples=60, deadline=None)
@given(event_logs(), st.integers(0, 1), st.integers(0, 200))
def test_streaming_equals_batch(events: list[ev.Event], which: int, cut: int) -> None:
    params = PARAMS[which]
    live = LiveMetrics(params)
    cut = min(cut, len(events))
    for e in events[:cut]:
        live.apply(e)
    for by in GROUPINGS:  # mid-stream too: the live figures are the batch ones so far
        assert live.rows(by) == compute_report(events[:cut], by, params)
    for e in events[cut:]:
        live.apply(e)
    for by in GROUPINGS:
        assert live.rows(by) == compute_report(events, by, params)


@settings(max_examples=40, deadline=None)
@given(event_logs())
def test_cdr_events_cdr_round_trip(events: list[ev.Event]) -> None:
    rows = [r for r in cdr_rows_from_events(events)
            if r.overflows == 0 and "#" not in r.id
            and (r.enqueued_at is not None or not r.queue)
            and (r.abandoned_at is None or r.ended_at == r.abandoned_at)
            and (r.answered_at is not None or not r.disposition)]
    again = cdr_rows_from_events(events_from_cdr_rows(rows))
    key = {r.id: r for r in again}
    for r in rows:
        back = key[r.id]
        # transfers to a queue come back as transfers to an agent (one row each)
        assert back == r, (r, back)


def test_live_snapshot_shows_waiting_contacts() -> None:
    live = LiveMetrics()
    live.apply(ev.Arrived(at=T0, interaction_id="x"))
    live.apply(ev.Enqueued(at=T0 + 5, interaction_id="x", queue_id="q1"))
    live.apply(ev.Arrived(at=T0 + 6, interaction_id="y"))
    live.apply(ev.Enqueued(at=T0 + 10, interaction_id="y", queue_id="q1"))
    snap = live.snapshot(now=T0 + 65)
    assert snap["waiting"] == {"q1": {"waiting": 2, "oldest_wait_s": 60.0}}
    assert snap["queues"][0]["offered"] == 2 and snap["queues"][0]["answered"] == 0
