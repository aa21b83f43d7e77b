"""Erlang A (M/M/n+M) against its birth-death chain, evaluated independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from switchboard.wfm import erlang_a_metrics, erlang_c_metrics
from tests.wfm.exact import erlang_a_chain

CASES = [
    # n, arrivals per second, AHT s, patience s, T s
    (10, 1 / 30, 240.0, 120.0, 20.0),
    (5, 1 / 20, 180.0, 60.0, 20.0),  # overloaded: a = 9 > 5
    (22, 300 / 3600, 240.0, 120.0, 20.0),  # the M/M/22+M of the simulator benchmark
    (3, 0.05, 100.0, 30.0, 10.0),
    (15, 0.1, 100.0, 400.0, 30.0),
    (1, 0.02, 60.0, 45.0, 0.0),
    (8, 0.04, 200.0, 200.0, 60.0),  # patience = AHT
]


@pytest.mark.parametrize(("n", "lam", "aht", "patience", "t"), CASES)
def test_erlang_a_matches_the_truncated_chain(
    n: int, lam: float, aht: float, patience: float, t: float
) -> None:
    ref = erlang_a_chain(n, lam, aht, patience, t)
    figs = erlang_a_metrics(n, lam * aht, aht, patience, t)
    assert figs.p_abandon is not None
    for key, got in (
        ("p_wait", figs.p_wait),
        ("p_abandon", figs.p_abandon),
        ("service_level", figs.service_level),
        ("asa_s", figs.asa_s),
    ):
        assert math.isclose(float(got), ref[key], rel_tol=1e-8), key


def test_patience_equal_to_aht_gives_a_poisson_number_in_system() -> None:
    """With theta = mu every contact leaves at rate mu: N ~ Poisson(a), so
    P(W > 0) = P(N >= n) and P(Ab) = E[(N - n)+] / a."""
    a, n = 12.5, 14
    figs = erlang_a_metrics(n, a, 300.0, 300.0, 20.0)
    assert figs.p_abandon is not None
    assert math.isclose(float(figs.p_wait), float(poisson.sf(n - 1, a)), rel_tol=1e-10)
    k = np.arange(n, 200)
    expected_ab = float(((k - n) * poisson.pmf(k, a)).sum()) / a
    assert math.isclose(float(figs.p_abandon), expected_ab, rel_tol=1e-9)


def test_very_patient_contacts_approach_erlang_c() -> None:
    a_figs = erlang_a_metrics(12, 10.0, 180.0, 1e9, 20.0)
    c_figs = erlang_c_metrics(12, 10.0, 180.0, 20.0)
    assert math.isclose(float(a_figs.p_wait), float(c_figs.p_wait), rel_tol=1e-5)
    assert math.isclose(float(a_figs.service_level), float(c_figs.service_level), rel_tol=1e-5)
    assert math.isclose(float(a_figs.asa_s), float(c_figs.asa_s), rel_tol=1e-5)


@pytest.mark.parametrize("n", [30_000, 33_000, 33_400])
def test_one_hundred_thousand_contacts_per_interval(n: int) -> None:
    """100,000 contacts in 15 minutes (33,333 Erlangs), under and overloaded."""
    lam, aht, patience = 100_000 / 900, 300.0, 120.0
    ref = erlang_a_chain(n, lam, aht, patience, 20.0, extra=30_000, sl=False)
    figs = erlang_a_metrics(n, lam * aht, aht, patience, 20.0)
    assert figs.p_abandon is not None
    assert math.isclose(float(figs.p_wait), ref["p_wait"], rel_tol=1e-7)
    assert math.isclose(float(figs.p_abandon), ref["p_abandon"], rel_tol=1e-7)
    assert math.isclose(float(figs.asa_s), ref["asa_s"], rel_tol=1e-6)
    assert bool(figs.overloaded) == (n <= lam * aht)


def test_metrics_are_monotone_in_agents_and_in_range_when_overloaded() -> None:
    n = np.arange(0, 60)
    figs = erlang_a_metrics(n, 40.0, 240.0, 90.0, 20.0)
    assert figs.p_abandon is not None
    live = n > 0
    for arr in (figs.p_wait, figs.p_abandon, figs.service_level):
        assert np.all((arr >= 0) & (arr <= 1))
    assert np.all(np.diff(figs.p_abandon) <= 0)
    assert np.all(np.diff(figs.p_wait) <= 0)
    assert np.all(np.diff(figs.service_level) >= 0)
    assert np.all(np.diff(figs.asa_s[live]) <= 0)
    assert np.all(np.diff(figs.occupancy[live]) <= 1e-15)
    assert figs.overloaded.tolist() == (n <= 40).tolist()
    # no agent: everyone waits and abandons
    assert (figs.p_wait[0], figs.p_abandon[0], figs.service_level[0]) == (1.0, 1.0, 0.0)
    assert math.isnan(figs.asa_s[0]) and math.isnan(figs.occupancy[0])


def test_service_level_never_exceeds_the_answered_share() -> None:
    n = np.arange(1, 30)
    figs = erlang_a_metrics(n, 20.0, 180.0, 15.0, 300.0)
    assert figs.p_abandon is not None
    assert np.all(figs.service_level <= 1.0 - figs.p_abandon + 1e-15)


def test_asa_series_gives_the_same_answer_in_small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    import switchboard.wfm.erlang as erlang

    n = np.array([5, 12, 30, 400])
    whole = erlang_a_metrics(n, [10.0, 10.0, 10.0, 390.0], 180.0, 300.0, 20.0).asa_s
    monkeypatch.setattr(erlang, "_CELLS", 7)
    sliced = erlang_a_metrics(n, [10.0, 10.0, 10.0, 390.0], 180.0, 300.0, 20.0).asa_s
    assert np.allclose(whole, sliced, rtol=1e-12, atol=0)
