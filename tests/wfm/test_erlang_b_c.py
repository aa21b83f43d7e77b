"""Erlang B and Erlang C against published tables and exact evaluations."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from switchboard.wfm import erlang_b, erlang_c, erlang_c_metrics, log_erlang_b
from tests.wfm.exact import erlang_b_fraction, erlang_c_decimal, erlang_c_fraction


def sig4(x: float, y: float) -> bool:
    """Equal to 4 significant digits."""
    return math.isclose(x, y, rel_tol=5e-5)


# Erlang B table, 1% grade of service column (traffic in Erlangs that N trunks
# carry at 1% blocking), as printed in standard traffic tables (e.g. the
# "Erlang B table" appendix of telephone-traffic handbooks) to 4 digits.
@pytest.mark.parametrize(
    ("n", "traffic"),
    [(1, 0.0101), (2, 0.1526), (5, 1.361), (10, 4.461), (20, 12.03), (50, 37.90), (100, 84.06)],
)
def test_erlang_b_reproduces_the_one_percent_table(n: int, traffic: float) -> None:
    assert float(erlang_b(n, traffic)) == pytest.approx(0.01, abs=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 25, 40])
@pytest.mark.parametrize("a", [Fraction(1, 3), Fraction(5, 2), Fraction(7), Fraction(119, 4), 33])
def test_erlang_b_matches_the_exact_factorial_sum(n: int, a: Fraction) -> None:
    exact = float(erlang_b_fraction(n, Fraction(a)))
    assert math.isclose(float(erlang_b(n, float(a))), exact, rel_tol=1e-11)


@pytest.mark.parametrize("n", [2, 5, 11, 30, 60])
@pytest.mark.parametrize("a", [Fraction(1, 2), Fraction(9, 5), Fraction(10), Fraction(201, 7)])
def test_erlang_c_matches_the_exact_factorial_sum(n: int, a: Fraction) -> None:
    if n <= a:
        assert float(erlang_c(n, float(a))) == 1.0
        return
    exact = float(erlang_c_fraction(n, Fraction(a)))
    assert math.isclose(float(erlang_c(n, float(a))), exact, rel_tol=1e-11)


def test_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C formula made simple": 100 calls in 30 min,
    AHT 180 s, 80% in 20 s. Traffic 10 Erlangs; with 11 agents P(wait) = 68.21%.
    """
    figs = erlang_c_metrics(11, 10.0, 180.0, 20.0)
    assert round(float(figs.p_wait), 4) == 0.6821
    exact_c = erlang_c_fraction(11, Fraction(10))
    assert sig4(float(figs.p_wait), float(exact_c))
    # ASA = C AHT / (n - a) and SL = 1 - C e^{-(n-a) T / AHT}, exactly evaluated
    assert sig4(float(figs.asa_s), float(exact_c) * 180.0 / 1.0)
    _, exact_sl = erlang_c_decimal(11, Decimal(10), Decimal(180), Decimal(20))
    assert sig4(float(figs.service_level), float(exact_sl))


def test_westbay_worked_example() -> None:
    """The step-by-step Erlang-C example (Westbay Engineers' "The Erlang-C
    formula"): 360 calls per half hour, 4-minute calls, 55 agents, 15 s target.
    Traffic 48 Erlangs, occupancy 0.873; the rest is checked against the direct
    factorial sum in 60-digit decimals.
    """
    a = 360 * 240 / 1800
    assert a == 48.0
    figs = erlang_c_metrics(55, a, 240.0, 15.0)
    assert round(float(figs.occupancy), 3) == 0.873
    c, sl = erlang_c_decimal(55, Decimal(48), Decimal(240), Decimal(15))
    assert sig4(float(figs.p_wait), float(c))
    assert sig4(float(figs.service_level), float(sl))
    assert sig4(float(figs.asa_s), float(c) * 240 / 7)
    assert round(float(figs.p_wait), 4) == 0.2387
    assert round(float(figs.service_level), 4) == 0.8459


@pytest.mark.parametrize(("aht", "n"), [(180, 2001), (180, 2040), (180, 2100), (240, 2700)])
def test_twenty_thousand_contacts_per_half_hour(aht: int, n: int) -> None:
    """20,000 contacts per 30 minutes (2,000 or 2,667 Erlangs), to 4 significant
    digits and far beyond, against the direct sum in 60-digit decimals."""
    a_exact = Decimal(20000 * aht) / Decimal(1800)
    figs = erlang_c_metrics(n, 20000 * aht / 1800, float(aht), 20.0)
    c, sl = erlang_c_decimal(n, a_exact, Decimal(aht), Decimal(20))
    assert sig4(float(figs.p_wait), float(c))
    assert math.isclose(float(figs.p_wait), float(c), rel_tol=1e-9)
    assert math.isclose(float(figs.service_level), float(sl), rel_tol=1e-9)
    assert math.isclose(float(figs.asa_s), float(c * Decimal(aht) / (n - a_exact)), rel_tol=1e-9)


def test_log_erlang_b_far_below_the_traffic_uses_the_series() -> None:
    # Poisson CDF at 10 with mean 20,000 underflows; B is then near 1 - n/a.
    value = float(np.exp(log_erlang_b(10, 20000.0)))
    exact = float(erlang_b_fraction(10, Fraction(20000)))
    assert math.isclose(value, exact, rel_tol=1e-12)


def test_up_to_100000_contacts_per_interval_stays_finite_and_monotone() -> None:
    a = 100_000 * 300 / 900  # 33,333 Erlangs
    n = np.arange(1, 40_001, 97)
    figs = erlang_c_metrics(n, a, 300.0, 20.0)
    for arr in (figs.p_wait, figs.service_level, figs.occupancy):
        assert np.all((arr >= 0) & (arr <= 1))
    stable = n > a
    assert np.all(np.diff(figs.p_wait[stable]) <= 0)
    assert np.all(np.diff(figs.service_level[stable]) >= 0)
    assert np.all(np.isfinite(figs.asa_s[stable]))


def test_overloaded_erlang_c_says_so_and_keeps_probabilities_in_range() -> None:
    figs = erlang_c_metrics([0, 5, 10, 11], 10.0, 180.0, 20.0)
    assert figs.overloaded.tolist() == [True, True, True, False]
    assert figs.p_wait[:3].tolist() == [1.0, 1.0, 1.0]
    assert figs.service_level[:3].tolist() == [0.0, 0.0, 0.0]
    assert np.isinf(figs.asa_s[:3]).all()
    assert math.isnan(figs.occupancy[0])
    assert figs.occupancy[1:3].tolist() == [1.0, 1.0]
    assert 0 < figs.p_wait[3] < 1


def test_no_traffic_means_undefined_figures_and_zero_occupancy() -> None:
    figs = erlang_c_metrics([0, 3], 0.0, 180.0, 20.0)
    assert np.isnan(figs.p_wait).all() and np.isnan(figs.service_level).all()
    assert math.isnan(figs.occupancy[0]) and figs.occupancy[1] == 0.0
    assert not figs.overloaded.any()
