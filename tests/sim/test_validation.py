"""The simulator against queueing theory and a published simulation.

Erlang C / Erlang A values come from :mod:`switchboard.wfm.erlang` (which its
own tests check against published tables). Each simulated figure's Student-t
95% interval across days must contain the model's value. Days start empty,
so a little warm-up bias is in every run; the days are long enough (hundreds
of handle times) for it to stay well inside the interval.
"""

from __future__ import annotations

import math

import pytest

from switchboard.sim.kpis import ci95, figures
from switchboard.sim.model import single_queue
from switchboard.sim.runner import simulate
from switchboard.wfm.erlang import erlang_a_metrics, erlang_c_metrics
from tests.sim.conftest import scenario


def _run(level: float = 0.95, **kw: float
         ) -> tuple[dict[str, object], dict[str, list[float] | None]]:
    sc = single_queue(**kw)  # type: ignore[arg-type]
    result = simulate(sc)
    per_day = [figures(d, sc.sl_threshold_s, sc.sl_formula) for d in result.days]
    return figures(result.total, sc.sl_threshold_s, sc.sl_formula), ci95(per_day, level)


def _inside(value: float, band: list[float] | None) -> bool:
    assert band is not None
    return band[0] <= value <= band[1]


def test_mmn_agrees_with_erlang_c() -> None:
    # 10 agents, 240 calls/h, AHT 120 s: 8 Erlangs
    f, ci = _run(arrivals_per_hour=240, aht_s=120, agents=10, hours=4, days=16, seed=11)
    model = erlang_c_metrics(10, 8.0, 120.0, 20.0)
    assert f["abandoned"] == 0
    # with no abandonment the default SL is answered within T / answered
    assert _inside(float(model.service_level), ci["service_level"])
    assert _inside(float(model.asa_s), ci["asa_s"])
    assert _inside(float(model.occupancy), ci["occupancy"])


def test_mmn_plus_m_agrees_with_erlang_a() -> None:
    # 10 agents, 270 calls/h, AHT 120 s (9 Erlangs), mean patience 60 s
    f, ci = _run(arrivals_per_hour=270, aht_s=120, agents=10, patience_s=60, hours=4,
                 days=16, seed=12)
    model = erlang_a_metrics(10, 9.0, 120.0, 60.0, 20.0)
    assert model.p_abandon is not None
    assert f["abandon_rate"] == pytest.approx(float(model.p_abandon[()]), rel=0.1)
    assert _inside(float(model.p_abandon[()]), ci["abandon_rate"])
    assert _inside(float(model.service_level), ci["service_level"])
    assert _inside(float(model.asa_s), ci["asa_s"])


@pytest.mark.slow
@pytest.mark.parametrize(("agents", "rate", "patience"), [(22, 300, 120), (5, 60, 30),
                                                          (50, 720, 180)])
def test_erlang_a_across_loads(agents: int, rate: float, patience: float) -> None:
    # Nine comparisons: at 95% one would miss about a third of the time by
    # chance alone, so this sweep uses 99% intervals.
    f, ci = _run(0.99, arrivals_per_hour=rate, aht_s=240, agents=agents, patience_s=patience,
                 hours=8, days=20, seed=agents)
    model = erlang_a_metrics(agents, rate * 240 / 3600, 240.0, patience, 20.0)
    assert model.p_abandon is not None
    assert f["abandon_rate"] == pytest.approx(float(model.p_abandon[()]), rel=0.1)
    assert _inside(float(model.p_abandon[()]), ci["abandon_rate"])
    assert _inside(float(model.service_level), ci["service_level"])
    assert _inside(float(model.asa_s), ci["asa_s"])


def test_published_ciw_mm3_run_lies_in_the_spread_of_days() -> None:
    # Ciw's README (github.com/CiwPython/Ciw): an M/M/3 queue with arrival
    # rate 0.2 and service rate 0.1 per minute, simulated for 1440 minutes
    # (seed 1), reports a mean wait of 4.2305 minutes. Our days are that same
    # run (12 calls/h, AHT 600 s, 3 agents, 24 h): its published mean must
    # lie within the 95% spread of our single-day means, and the mean over
    # days must agree with Erlang C's 4.444 minutes.
    sc = single_queue(arrivals_per_hour=12, aht_s=600, agents=3, hours=24, days=60, seed=3)
    days = simulate(sc).days
    waits = [d.wait_answered_s / d.answered / 60.0 for d in days]
    mean = math.fsum(waits) / len(waits)
    sd = math.sqrt(math.fsum((w - mean) ** 2 for w in waits) / (len(waits) - 1))
    assert mean - 1.96 * sd <= 4.2305 <= mean + 1.96 * sd
    per_day = [figures(d, 20.0, "default") for d in days]
    band = ci95(per_day)["asa_s"]
    erlang = float(erlang_c_metrics(3, 2.0, 600.0, 20.0).asa_s) / 60.0
    assert erlang == pytest.approx(4.4444, abs=1e-4)  # C(3, 2) = 4/9; 4/9 / (0.3 - 0.2)
    assert band is not None and band[0] / 60 <= erlang <= band[1] / 60


MULTI_SKILL = """
hours: 4
days: 12
seed: 21
skills: [sales, support]
queues:
  - {id: sales, skills: {sales: 1}}
  - {id: support, skills: {support: 1}}
agents:
  - {group: sales, count: 5, skills: {sales: 5}}
  - {group: support, count: 5, skills: {support: 5}}
  - {group: both, count: 2, skills: {sales: 5, support: 5}}
demand:
  - {queue: sales, arrivals: {per_hour: 135}, aht: 120}
  - {queue: support, arrivals: {per_hour: 135}, aht: 120}
"""


def test_multi_skill_lies_between_split_and_pooled_erlang() -> None:
    # Two queues of 4.5 Erlangs; 5 specialists each and 2 agents with both
    # skills. Erlang C has no model for this. Sized per queue with the
    # specialists only (5 agents) it predicts an ASA near 3 minutes; pooled
    # (12 agents, 9 Erlangs) it assumes every agent takes every call and
    # predicts about 11 s. The simulation runs the real routing: the two
    # shared agents recover most of the pooling gain, but not all of it,
    # and both Erlang answers fall outside its interval.
    sc = scenario(MULTI_SKILL)
    days = simulate(sc).days
    per_day = [figures(d, 20.0, "default") for d in days]
    band = ci95(per_day)["asa_s"]
    assert band is not None
    split = float(erlang_c_metrics(5, 4.5, 120.0, 20.0).asa_s)
    pooled = float(erlang_c_metrics(12, 9.0, 120.0, 20.0).asa_s)
    assert split == pytest.approx(183.0, abs=0.5)
    assert pooled == pytest.approx(10.64, abs=0.01)
    assert pooled < band[0] and band[1] < split
