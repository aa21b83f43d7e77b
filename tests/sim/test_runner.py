"""The simulation loop, checked against hand-computed timelines.

Arrivals are replayed from a CDR at fixed offsets and durations are constant,
so every wait below is worked out by hand from the timeline in the comment.
"""

from __future__ import annotations

import pytest

from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus
from switchboard.sim.kpis import figures
from switchboard.sim.runner import simulate
from tests.sim.conftest import cdr_of, scenario

ONE_AGENT = """
hours: {hours}
skills: []
queues:
  - id: main
{queue}
agents:
  - id: ann
{agent}
demand:
  - queue: main
    arrivals: {{replay: calls.csv}}
    aht: {{dist: constant, value: 30}}
{demand}
"""


def run(offsets: list[float], *, hours: float = 1 / 60, queue: str = "", agent: str = "",
        demand: str = "", top: str = "") -> tuple[dict[str, object], list[e.Event]]:
    text = top + ONE_AGENT.format(hours=hours, queue=queue or "    strategy: longest_idle",
                                  agent=agent or "    skills: {}", demand=demand)
    sc = scenario(text, {"calls.csv": cdr_of(offsets)})
    log: list[e.Event] = []
    result = simulate(sc, sink=log.extend)
    return figures(result.total, sc.sl_threshold_s, sc.sl_formula), log


def test_fifo_single_agent_timeline() -> None:
    # arrivals 0, 10, 20; talk 30 each: answered at 0, 30, 60 -> waits 0, 20, 40
    f, log = run([0, 10, 20])
    assert (f["offered"], f["answered"], f["abandoned"]) == (3, 3, 0)
    assert f["asa_s"] == pytest.approx(20.0)
    assert f["max_wait_s"] == pytest.approx(40.0)
    assert f["service_level"] == pytest.approx(2 / 3)  # waits 0 and 20 are <= 20
    assert f["att_s"] == pytest.approx(30.0)
    # busy from 0 to 90 without a gap, then the closing agent logs out
    assert f["occupancy"] == pytest.approx(1.0)
    last = [ev for ev in log if isinstance(ev, e.AgentStateChanged)][-1]
    assert last.status is AgentStatus.OFFLINE
    assert last.at - log[0].at == pytest.approx(90.0)


def test_patience_turns_waits_into_abandons() -> None:
    # patience 15: the contact of 10 leaves at 25, before ann is free at 30;
    # the contact of 20 (patience until 35) is answered at 30 after 10 s
    f, _ = run([0, 10, 20], demand="    patience: {dist: constant, value: 15}")
    assert (f["answered"], f["abandoned"], f["short_abandoned"]) == (2, 1, 0)
    assert f["abandon_rate"] == pytest.approx(1 / 3)
    assert f["ata_s"] == pytest.approx(15.0)
    assert f["asa_s"] == pytest.approx(5.0)
    assert f["service_level"] == pytest.approx(2 / 3)  # 2 met / (2 answered + 1 abandoned)


def test_sampled_wrapup_and_fixed_wrapup() -> None:
    # wrap-up 10 s after each call: answered at 0 and 40 (wait 30)
    f, _ = run([0, 10], demand="    wrapup: {dist: constant, value: 10}")
    assert f["acw_s"] == pytest.approx(10.0)
    assert f["aht_s"] == pytest.approx(40.0)
    assert f["asa_s"] == pytest.approx(15.0)
    # the queue's own wrap-up timer (engine side), 5 s
    f, _ = run([0, 10], queue="    wrapup_s: 5")
    assert f["acw_s"] == pytest.approx(5.0)
    assert f["asa_s"] == pytest.approx(12.5)  # answered at 0 and 35


def test_break_holds_contacts_until_it_ends() -> None:
    # talk 0-30; break from 0:05 hours... here 20 s in: not ready 20..80 s
    agent = """    skills: {}
    shifts:
      - start: 0
        end: 0.05
        breaks: [{start: 0.005556, minutes: 1, reason: lunch}]"""
    f, log = run([0, 25], hours=0.05, agent=agent)
    # the contact of 25 waits until the break ends at 20.0016 + 60 s
    answered = [ev for ev in log if isinstance(ev, e.Answered)]
    assert answered[1].wait_s == pytest.approx(0.005556 * 3600 + 60 - 25, abs=1e-6)
    reasons = [ev.reason for ev in log if isinstance(ev, e.AgentStateChanged)]
    assert "lunch" in reasons
    assert f["shrinkage"] is not None and f["shrinkage"] > 0


def test_shift_end_logs_out_after_the_contact_in_hand() -> None:
    # two agents; bob's shift ends at 36 s (0.01 h) in the middle of a call (20-50)
    text = """
hours: 0.05
skills: []
queues: [{id: main}]
agents:
  - id: ann
  - id: bob
    shifts: [{start: 0, end: 0.01}]
demand:
  - queue: main
    arrivals: {replay: calls.csv}
    aht: {dist: constant, value: 30}
"""
    sc = scenario(text, {"calls.csv": cdr_of([0, 20, 40])})
    log: list[e.Event] = []
    simulate(sc, sink=log.extend)
    t0 = log[0].at
    bob = [ev for ev in log if isinstance(ev, e.AgentStateChanged) and ev.agent_id == "bob"]
    assert bob[-1].status is AgentStatus.OFFLINE
    assert bob[-1].at - t0 == pytest.approx(50.0)
    # the contact of 40 had to wait for ann (free at 30? no: ann took 0-30, then 40-70)
    answered = {ev.interaction_id: ev.agent_id for ev in log if isinstance(ev, e.Answered)}
    assert sorted(answered.values()) == ["ann", "ann", "bob"]


def test_callbacks_keep_customers_from_abandoning() -> None:
    # EWT > 0 s offers a callback; everyone takes it, so patience never ends a wait
    f, _ = run([0, 1, 2], queue="    callback_ewt_s: 0",
               demand="    patience: {dist: constant, value: 5}\n    callback_accept: 1")
    assert f["abandoned"] == 0
    assert f["answered"] == 3
    assert f["callbacks"] == 2  # the first contact was answered at once, before any offer


def test_answer_time_counts_in_the_wait() -> None:
    f, _ = run([0], top="answer_time: {dist: constant, value: 3}\n")
    assert f["asa_s"] == pytest.approx(3.0)


def test_same_seed_same_log_other_seed_other_log() -> None:
    text = """
hours: 1
days: 2
seed: {seed}
skills: []
queues: [{{id: main}}]
agents: [{{group: a, count: 3}}]
demand:
  - queue: main
    arrivals: {{per_hour: 60}}
    aht: 150
    patience: {{dist: lognormal, mean: 60, sd: 40}}
"""

    def log_of(seed: int) -> str:
        out: list[e.Event] = []
        simulate(scenario(text.format(seed=seed)), sink=out.extend)
        return e.events_to_jsonl(out)

    assert log_of(5) == log_of(5)
    assert log_of(5) != log_of(6)


def test_a_day_does_not_depend_on_how_many_days_run() -> None:
    text = """
hours: 1
days: {days}
skills: []
queues: [{{id: main}}]
agents: [{{group: a, count: 2}}]
demand: [{{queue: main, arrivals: {{per_hour: 40}}, aht: 120}}]
"""
    one = simulate(scenario(text.format(days=1))).days[0]
    three = simulate(scenario(text.format(days=3))).days
    assert three[0] == one
    assert three[1] != one
