"""Scenario files: what parses, and errors that name the line and field."""

from __future__ import annotations

import pytest

from switchboard.sim.cdr import CdrError
from switchboard.sim.dists import Constant, Empirical, Exponential, LogNormal
from switchboard.sim.model import PoissonArrivals, ReplayArrivals
from switchboard.sim.scenario import ScenarioError
from tests.sim.conftest import scenario

GOOD = """\
hours: 10
days: 2
seed: 9
start: 2024-05-06T08:00:00
sl_threshold: 30
sl_formula: answered
skills: [billing, spanish]
queues:
  - id: billing
    strategy: best_skill
    skills: {billing: 1}
    wrapup_s: 15
    steps: [{after_s: 30, skills: {billing: 1}}]
    overflow: [{to_queue: backup, after_s: 120}]
  - id: backup
agents:
  - group: tier1
    count: 12
    skills: {billing: 3}
    shifts:
      - start: 0
        end: "5:30"
        breaks: [{start: "2:00", minutes: 15}]
  - id: maria
    skills: {billing: 8, spanish: 9}
demand:
  - name: calls
    queue: billing
    arrivals:
      intervals:
        - {start: 0, end: 4, per_hour: 100}
        - {start: "4:00", end: 10, per_hour: 60}
    aht: {dist: lognormal, mean: 300, sd: 150}
    patience: 90
    wrapup: {dist: empirical, cdr: calls.csv, field: wrapup}
  - queue: billing
    skills: {spanish: 5}
    arrivals: {replay: calls.csv}
    aht: {dist: constant, value: 200}
"""
CDR = """id,queue,arrived_at,answered_at,ended_at,wrapup_s
1,billing,2024-01-02T09:00:00,2024-01-02T09:00:10,2024-01-02T09:05:10,20
2,billing,2024-01-02T09:30:00,,,
"""


def test_a_full_scenario_parses() -> None:
    sc = scenario(GOOD, {"calls.csv": CDR})
    assert (sc.hours, sc.days, sc.seed, sc.sl_threshold_s, sc.sl_formula) == \
        (10, 2, 9, 30, "answered")
    assert sc.start == 1714982400.0  # 2024-05-06T08:00:00Z
    assert [a.config.id for a in sc.agents][:2] == ["tier1-01", "tier1-02"]
    assert len(sc.agents) == 13
    tier1 = sc.agents[0].shifts[0]
    assert (tier1.start_s, tier1.end_s) == (0.0, 5.5 * 3600)
    assert tier1.breaks[0].start_s == 7200.0 and tier1.breaks[0].duration_s == 900.0
    assert sc.agents[-1].shifts[0].end_s == 36000.0  # default: the whole window
    calls, spanish = sc.streams
    assert isinstance(calls.arrivals, PoissonArrivals)
    assert [r.per_hour for r in calls.arrivals.rates] == [100, 60]
    assert calls.aht == LogNormal(300, 150)
    assert calls.patience == Exponential(90)
    assert calls.wrapup == Empirical((20.0,))
    assert isinstance(spanish.arrivals, ReplayArrivals)
    assert spanish.arrivals.offsets == (9 * 3600.0, 9.5 * 3600.0)
    assert spanish.aht == Constant(200)
    assert sc.routing.queue("billing").overflow[0].to_queue == "backup"  # type: ignore[union-attr]


def _error(text: str, files: dict[str, str] | None = None) -> str:
    with pytest.raises(ScenarioError) as info:
        scenario(text, files if files is not None else {"calls.csv": CDR})
    return str(info.value)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    strategy: best_skill", "    strategy: fastest",
     "scenario.yaml:10: queues[0].strategy: unknown strategy 'fastest'"),
    ("    wrapup_s: 15", "    wrapup_s: -1",
     "scenario.yaml:12: queues[0].wrapup_s: must be a number of seconds >= 0"),
    ("    wrapup_s: 15", "    wrap_up: 15",
     "scenario.yaml:12: queues[0].wrap_up: unknown field"),
    ("overflow: [{to_queue: backup,", "overflow: [{to_queue: nowhere,",
     "scenario.yaml:14: queues[0].overflow[0].to_queue: unknown queue 'nowhere'"),
    ("    skills: {billing: 3}", "    skills: {billing: 30}",
     "scenario.yaml:19: agents[0].skills.billing: proficiency must be between 1 and 10"),
    ("    skills: {billing: 8, spanish: 9}", "    skills: {billing: 8, french: 9}",
     "scenario.yaml:25: agents[1].skills.french: unknown skill 'french'"),
    ('        end: "5:30"', '        end: "5:75"',
     'scenario.yaml:22: agents[0].shifts[0].end: must be hours (8.5) or "H:MM"'),
    ("breaks: [{start: \"2:00\"", "breaks: [{start: \"7:00\"",
     "scenario.yaml:23: agents[0].shifts[0].breaks[0].start: must fall within the shift"),
    ("    queue: billing\n    arrivals:", "    queue: sales\n    arrivals:",
     "scenario.yaml:28: demand[0].queue: unknown queue 'sales'"),
    ("        - {start: \"4:00\"", "        - {start: \"3:00\"",
     "scenario.yaml:32: demand[0].arrivals.intervals[1].start: overlaps the previous"),
    ("    aht: {dist: lognormal, mean: 300, sd: 150}", "    aht: {dist: gamma, mean: 300}",
     "scenario.yaml:33: demand[0].aht.dist: a number (exponential mean) or a mapping"),
    ("    patience: 90", "    patience: 90\n    channel: fax",
     "scenario.yaml:35: demand[0].channel: unknown channel 'fax'"),
    ("    skills: {spanish: 5}", "    skills: {spanish: 11}",
     "scenario.yaml:37: demand[1].skills.spanish: proficiency must be between 1 and 10"),
    ("    patience: 90", "    patience: 0",
     "scenario.yaml:34: demand[0].patience: must be a number > 0, got 0"),
    ("field: wrapup}", "field: mood}",
     "scenario.yaml:35: demand[0].wrapup.field: use one of handle, talk, wrapup, abandon_wait"),
    ("sl_formula: answered", "sl_formula: generous",
     "scenario.yaml:6: sl_formula: unknown formula 'generous'"),
    ("days: 2", "days: 0", "scenario.yaml:2: days: must be a whole number >= 1, got 0"),
    ("seed: 9", "seed: 9\nseed: 10", "scenario.yaml:4: seed: duplicate key"),
    ("  - id: backup", "  - id: billing",
     "scenario.yaml:15: queues[1].id: duplicate queue id 'billing'"),
    ("  - id: maria", "  - id: tier1-01",
     "scenario.yaml:24: agents[1].id: duplicate agent id 'tier1-01'"),
])
def test_errors_name_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in GOOD
    assert _error(GOOD.replace(old, new, 1)).startswith(expected)


def test_broken_yaml_and_missing_files() -> None:
    assert _error("queues: [\n").startswith("scenario.yaml:2: not valid YAML")
    assert _error("").startswith("scenario.yaml:1: the file is empty")
    assert _error(GOOD, {}).startswith(
        "scenario.yaml:35: demand[0].wrapup.cdr: cannot read calls.csv")


def test_bad_cdr_rows_name_their_line() -> None:
    bad = CDR + "3,billing,2024-01-02T25:00:00,,,\n"
    with pytest.raises(CdrError) as info:
        scenario(GOOD, {"calls.csv": bad})
    assert str(info.value).startswith("calls.csv:4: arrived_at: not an ISO 8601 time stamp")
    both = CDR + "3,billing,2024-01-02T10:00:00,2024-01-02T10:00:05,,\n"
    both = both.replace("arrived_at,answered_at", "arrived_at,answered_at,abandoned_at", 1)
    both = both.replace("10:00:05,,", "10:00:05,2024-01-02T10:00:06,", 1)
    with pytest.raises(CdrError):
        scenario(GOOD, {"calls.csv": both})
