"""Staffing solvers: minimality, boundaries, overload, exact shrinkage."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.errors import ValidationError
from switchboard.wfm import Targets, evaluate, scheduled_agents, staff, staff_plan

SL80 = Targets(sl_target=0.8, sl_threshold_s=20.0, max_occupancy=0.85)


def test_call_centre_helper_staffing() -> None:
    """100 calls / 30 min, AHT 180 s, 80/20, 85% max occupancy, 30% shrinkage:
    14 agents (13 give 79.6%), 20 scheduled."""
    result = staff(100, 1800, 180, targets=SL80, shrinkage=0.3)
    assert (result.agents, result.scheduled_agents) == (14, 20)
    assert result.model == "erlang_c" and result.p_abandon is None
    assert evaluate(100, 1800, 180, 13).service_level < 0.8 <= result.service_level  # type: ignore[operator]


def test_shrinkage_rounding_is_exact() -> None:
    assert math.ceil(21 / (1 - 0.3)) == 31  # 30.000000000000004 in floating point
    assert scheduled_agents(21, 0.3) == 30
    assert scheduled_agents(7, 0.3) == 10
    assert scheduled_agents(7, "0.3") == 10
    assert scheduled_agents(7, Decimal("0.3")) == 10
    assert scheduled_agents(7, Fraction(3, 10)) == 10
    assert scheduled_agents(0, 0.3) == 0
    assert scheduled_agents(8, 0) == 8


@given(st.integers(0, 100_000), st.integers(0, 99))
def test_scheduled_agents_is_the_exact_ceiling(agents: int, percent: int) -> None:
    s = Fraction(percent, 100)
    assert scheduled_agents(agents, percent / 100) == math.ceil(agents / (1 - s))


@pytest.mark.parametrize("bad", [1.0, 1, -0.1, float("nan"), "x", True])
def test_bad_shrinkage_is_refused(bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        scheduled_agents(5, bad)  # type: ignore[arg-type]
    assert err.value.field == "shrinkage"


@pytest.mark.parametrize("patience", [None, 120.0])
def test_closed_interval_needs_no_agent(patience: float | None) -> None:
    result = staff(0, 900, 300, targets=SL80, shrinkage=0.3, patience_s=patience)
    assert (result.agents, result.scheduled_agents, result.traffic_erlangs) == (0, 0, 0.0)
    assert result.p_wait is None and result.service_level is None and result.occupancy is None
    assert not result.overloaded


@pytest.mark.parametrize("patience", [None, 120.0])
def test_target_exactly_met_is_enough(patience: float | None) -> None:
    at_15 = evaluate(120, 900, 240, 40, patience_s=patience)
    assert at_15.service_level is not None
    exact = Targets(sl_target=at_15.service_level, sl_threshold_s=20.0)
    assert staff(120, 900, 240, targets=exact, patience_s=patience).agents == 40
    above = Targets(sl_target=math.nextafter(at_15.service_level, 1.0), sl_threshold_s=20.0)
    assert staff(120, 900, 240, targets=above, patience_s=patience).agents == 41


def test_occupancy_bound_is_exact_at_a_tie() -> None:
    # a = 221 * 90 / 1800 = 11.05 Erlangs and 11.05 / 0.85 = 13 exactly,
    # but 13.000000000000002 in floating point.
    assert math.ceil(221 * 90 / 1800 / 0.85) == 14
    only_occupancy = Targets(max_occupancy=0.85)
    assert staff(221, 1800, 90, targets=only_occupancy).agents == 13
    assert staff(221, 1800, 90, targets=only_occupancy, patience_s=60.0).agents <= 13


GRID = [(v, aht) for v in (1, 7, 45, 200, 1300) for aht in (95.0, 300.0)]


@pytest.mark.parametrize(("volume", "aht"), GRID)
@pytest.mark.parametrize("patience", [None, 75.0])
@pytest.mark.parametrize(
    "targets",
    [
        SL80,
        Targets(sl_target=0.9, sl_threshold_s=10.0),
        Targets(asa_target_s=15.0, max_occupancy=0.9),
        Targets(sl_target=0.7, sl_threshold_s=30.0, asa_target_s=8.0, max_occupancy=0.8),
    ],
)
def test_solution_is_the_fewest_agents_meeting_every_target(
    volume: int, aht: float, patience: float | None, targets: Targets
) -> None:
    result = staff(volume, 900, aht, targets=targets, patience_s=patience)
    assert _meets(
        evaluate(
            volume,
            900,
            aht,
            result.agents,
            sl_threshold_s=targets.sl_threshold_s,
            patience_s=patience,
        ),
        targets,
    )
    fewer = evaluate(
        volume,
        900,
        aht,
        result.agents - 1,
        sl_threshold_s=targets.sl_threshold_s,
        patience_s=patience,
    )
    assert not _meets(fewer, targets)


def _meets(r: object, t: Targets) -> bool:
    from switchboard.wfm import Staffing

    assert isinstance(r, Staffing)
    if r.model == "erlang_c" and r.overloaded:
        return False
    checks = []
    if t.sl_target is not None:
        checks.append(r.service_level is not None and r.service_level >= t.sl_target)
    if t.asa_target_s is not None:
        checks.append(r.asa_s is not None and r.asa_s <= t.asa_target_s)
    if t.abandon_target is not None:
        checks.append(r.p_abandon is not None and r.p_abandon <= t.abandon_target)
    if t.max_occupancy is not None:
        occ = r.traffic_erlangs / r.agents if r.model == "erlang_c" and r.agents else r.occupancy
        checks.append(occ is not None and occ <= t.max_occupancy + 1e-12)
    return all(checks)


def test_abandonment_target_with_erlang_a() -> None:
    target = Targets(abandon_target=0.05)
    result = staff(300, 1800, 240, targets=target, patience_s=60.0)
    assert result.p_abandon is not None and result.p_abandon <= 0.05
    fewer = evaluate(300, 1800, 240, result.agents - 1, patience_s=60.0)
    assert fewer.p_abandon is not None and fewer.p_abandon > 0.05


def test_erlang_a_can_staff_below_the_load_and_says_so() -> None:
    # Impatient contacts (10 s) and a modest target: abandonment carries the load.
    result = staff(400, 900, 300, targets=Targets(sl_target=0.5), patience_s=10.0)
    assert result.agents < result.traffic_erlangs
    assert result.overloaded
    assert result.service_level is not None and 0.5 <= result.service_level <= 1.0
    assert result.p_abandon is not None and 0.0 <= result.p_abandon <= 1.0


def test_abandonment_target_needs_patience() -> None:
    with pytest.raises(ValidationError) as err:
        staff(10, 900, 300, targets=Targets(abandon_target=0.05))
    assert err.value.field == "abandon_target"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"sl_target": 1.0}, "sl_target"),
        ({"sl_target": 0.0}, "sl_target"),
        ({"asa_target_s": 0.0}, "asa_target_s"),
        ({"abandon_target": 1.5}, "abandon_target"),
        ({"max_occupancy": 0.0}, "max_occupancy"),
        ({"sl_target": 0.8, "sl_threshold_s": -1.0}, "sl_threshold_s"),
        ({}, "sl_target"),
    ],
)
def test_bad_targets_are_refused(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Targets(**kwargs)
    assert err.value.field == field


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 900, 300), "volume"),
        ((10, 0, 300), "period_s"),
        ((10, 900, 0), "aht_s"),
        ((float("inf"), 900, 300), "volume"),
    ],
)
def test_bad_interval_inputs_name_the_field(args: tuple[float, float, float], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        staff(*args, targets=SL80)
    assert err.value.field == field


def test_evaluate_overloaded_erlang_c() -> None:
    result = evaluate(100, 1800, 180, 9, shrinkage=0.3)
    assert result.overloaded and result.p_wait == 1.0 and result.service_level == 0.0
    assert result.asa_s is None and result.scheduled_agents == 13


@pytest.mark.parametrize("patience", [None, 90.0])
def test_plan_solver_equals_one_interval_at_a_time(patience: float | None) -> None:
    rng = np.random.default_rng(3)
    volumes = rng.integers(0, 400, 60).astype(float)
    volumes[::7] = 0
    ahts = rng.uniform(120, 420, 60)
    plan = staff_plan(
        volumes, ahts, period_s=900, targets=SL80, shrinkage=0.25, patience_s=patience
    )
    rows = plan.rows()
    for v, h, row in zip(volumes, ahts, rows, strict=True):
        one = staff(float(v), 900, float(h), targets=SL80, shrinkage=0.25, patience_s=patience)
        assert one == row


def test_large_interval_staffing() -> None:
    """20,000 contacts per half hour and 100,000 per quarter hour solve quickly."""
    r = staff(20_000, 1800, 180, targets=Targets(sl_target=0.8, sl_threshold_s=20.0))
    assert r.agents > r.traffic_erlangs
    fewer = evaluate(20_000, 1800, 180, r.agents - 1)
    assert fewer.service_level is not None and fewer.service_level < 0.8 <= r.service_level  # type: ignore[operator]
    big = staff(100_000, 900, 300, targets=SL80, shrinkage=0.3, patience_s=120.0)
    assert big.occupancy is not None and big.occupancy <= 0.85
