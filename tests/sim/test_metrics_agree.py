"""One definition: the simulator's figures equal the metrics package's report
computed from the very event log the simulation wrote (METRICS.md)."""

from __future__ import annotations

import pytest

from switchboard.domain import events as e
from switchboard.metrics import ReportParams, compute_report
from switchboard.sim.kpis import figures
from switchboard.sim.model import single_queue
from switchboard.sim.runner import simulate

KEYS_EXACT = ("contacts", "offered", "answered", "abandoned", "short_abandoned", "rna",
              "transfers", "overflows", "callbacks")
KEYS_RATE = ("abandon_rate", "service_level", "hold_rate")
KEYS_SECONDS = ("asa_s", "ata_s", "max_wait_s", "att_s", "avg_hold_s", "acw_s", "aht_s")


@pytest.mark.parametrize("formula", ["default", "answered", "ignore_short", "abandons_met"])
def test_simulator_and_metrics_report_agree(formula: str) -> None:
    log: list[e.Event] = []
    scenario = single_queue(arrivals_per_hour=240, aht_s=200, agents=15, patience_s=60,
                            hours=2, days=2, seed=11, sl_formula=formula)
    result = simulate(scenario, sink=log.extend)
    sim = figures(result.total, 20.0, formula)
    (row,) = compute_report(log, "queue", ReportParams(sl_formula=formula))
    assert sim["contacts"] > 500 and sim["abandoned"] > 10  # a run with something to count
    for key in KEYS_EXACT:
        assert sim[key] == row[key], key
    for key in KEYS_RATE:
        assert sim[key] == pytest.approx(row[key], abs=1e-6), key
    for key in KEYS_SECONDS:  # the metrics package counts whole microseconds
        assert sim[key] == pytest.approx(row[key], abs=0.01), key
