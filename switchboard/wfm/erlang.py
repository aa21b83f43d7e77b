"""Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M) queue figures, vectorised.

Every function takes numbers or numpy arrays (broadcast against each other) and
returns float64 arrays. Inputs: ``agents`` n (whole numbers >= 0), ``traffic``
a = arrival rate x AHT in Erlangs, ``aht_s``, ``patience_s`` (mean of the
exponential patience) and ``threshold_s`` (the service-level threshold T) in
seconds. Figures with no denominator are NaN (no offered contacts, or no agents
for occupancy); the ASA of an unstable Erlang C queue is +inf.

Everything is computed in log space or through ratios bounded by 1, so results
stay finite and inside [0, 1] from a fraction of a contact up to 100,000
contacts per interval and for overloaded queues (n <= a).

Sources:
- Erlang B and C: A. K. Erlang (1917); textbook forms as in L. Kleinrock,
  *Queueing Systems* Vol. 1 (1975), sections 3.6-3.7:
  B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k!,
  C(n, a) = B / (1 - (a/n)(1 - B)),  P(W > t) = C exp(-(n - a) t / AHT),
  ASA = C AHT / (n - a).
- Erlang A: O. Garnett, A. Mandelbaum, M. Reiman, "Designing a call center
  with impatient customers", MSOM 4(3), 2002; A. Mandelbaum, S. Zeltyn, "The
  Palm/Erlang-A queue, with applications to call centers" (Technion, 2005).
  With x = n mu / theta, y = lambda / theta (theta = 1 / mean patience) and
  A(x, y) = x e^y y^-x gamma(x, y) = sum_{k>=0} y^k / ((x+1)...(x+k)):
  P(W > 0) = A B / (1 + (A - 1) B),
  P(Ab) = P(W > 0) (1 - 1/rho + 1/(rho A)),  rho = a / n.
  The share answered within T (of offered contacts) follows from the same
  birth-death chain; its derivation is in docs/erlang.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, gammainc, gammaincc, gammaln

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Below this a regularised incomplete gamma value is treated as underflowed and
# the quantity is summed as a series instead.
_TINY = 1e-280
# Relative size at which a series term no longer changes a double.
_EPS = 1e-18


def _arr(value: ArrayLike) -> FloatArray:
    return np.asarray(value, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """The steady-state figures of one queue per element.

    ``p_abandon`` is None for Erlang C (no abandonment in the model).
    ``overloaded`` is True where the traffic is at least the agents (a >= n,
    a > 0): an Erlang C queue then grows without bound, an Erlang A queue is
    held down only by abandonment.
    """

    p_wait: FloatArray
    service_level: FloatArray
    asa_s: FloatArray
    occupancy: FloatArray
    p_abandon: FloatArray | None
    overloaded: BoolArray


def _log_erlang_b_sum(n: float, a: float) -> float:
    """log B(n, a) for n far below a, where the Poisson CDF underflows.

    1 / B(n, a) = sum_{k=0}^{n} n! / ((n-k)! a^k); the terms fall at least as
    fast as (n/a)^k, so few are needed in this region.
    """
    total = 1.0
    term = 1.0
    k = 0
    while k < n:
        term *= (n - k) / a
        k += 1
        total += term
        if term < _EPS * total:
            break
    return -math.log(total)


def log_erlang_b(agents: ArrayLike, traffic: ArrayLike) -> FloatArray:
    """Natural log of the Erlang B blocking probability B(n, a).

    B(n, a) is the Poisson(a) probability of n over the probability of at most
    n, so log B = log pmf(n) - log Q(n + 1, a), where the regularised upper
    incomplete gamma Q(n + 1, a) is the Poisson CDF at n.
    """
    n, a = np.broadcast_arrays(_arr(agents), _arr(traffic))
    out = np.zeros(n.shape, dtype=np.float64)
    with np.errstate(all="ignore"):
        out[(n > 0) & (a <= 0)] = -np.inf
        pos = (n > 0) & (a > 0)
        nn = n[pos]
        aa = a[pos]
        cdf = _arr(gammaincc(nn + 1.0, aa))
        res = nn * np.log(aa) - aa - _arr(gammaln(nn + 1.0)) - np.log(cdf)
        for i in np.flatnonzero(cdf < _TINY):
            res[i] = _log_erlang_b_sum(float(nn[i]), float(aa[i]))
        out[pos] = res
    return out


def erlang_b(agents: ArrayLike, traffic: ArrayLike) -> FloatArray:
    """Erlang B: the probability that a contact finds all n agents busy (lost)."""
    return np.exp(log_erlang_b(agents, traffic))


def _log_erlang_c(n: FloatArray, a: FloatArray, log_b: FloatArray) -> FloatArray:
    # C = B / ((1 - rho) + rho B), rho = a / n < 1: both terms positive, no cancellation.
    rho = a / n
    return log_b - np.log((1.0 - rho) + rho * np.exp(log_b))


def erlang_c(agents: ArrayLike, traffic: ArrayLike) -> FloatArray:
    """Erlang C: the probability that a contact waits, P(W > 0).

    1 where the queue is unstable (n <= a, a > 0); NaN where a = 0.
    """
    n, a = np.broadcast_arrays(_arr(agents), _arr(traffic))
    out = np.full(n.shape, np.nan)
    out[(a > 0) & (n <= a)] = 1.0
    stable = (a > 0) & (n > a)
    with np.errstate(all="ignore"):
        ns, as_ = n[stable], a[stable]
        out[stable] = np.exp(_log_erlang_c(ns, as_, log_erlang_b(ns, as_)))
    return out


def _occupancy(n: FloatArray, carried: FloatArray) -> FloatArray:
    with np.errstate(all="ignore"):
        occ = np.where(n > 0, np.minimum(carried / n, 1.0), np.nan)
    return _arr(occ)


def erlang_c_metrics(
    agents: ArrayLike, traffic: ArrayLike, aht_s: ArrayLike, threshold_s: ArrayLike
) -> QueueFigures:
    """Erlang C figures: P(wait), service level at T, ASA and occupancy.

    With no abandonment, service level = P(W <= T) = 1 - C exp(-(n - a) T / AHT).
    Unstable queues (n <= a, a > 0) get P(wait) 1, service level 0, ASA +inf
    and occupancy 1.
    """
    n, a, aht, t = np.broadcast_arrays(_arr(agents), _arr(traffic), _arr(aht_s), _arr(threshold_s))
    shape = n.shape
    p_wait = np.full(shape, np.nan)
    sl = np.full(shape, np.nan)
    asa = np.full(shape, np.nan)
    over = (a > 0) & (n <= a)
    p_wait[over] = 1.0
    sl[over] = 0.0
    asa[over] = np.inf
    stable = (a > 0) & (n > a)
    with np.errstate(all="ignore"):
        ns, as_, hs, ts = n[stable], a[stable], aht[stable], t[stable]
        log_c = _log_erlang_c(ns, as_, log_erlang_b(ns, as_))
        gap = ns - as_
        p_wait[stable] = np.exp(log_c)
        sl[stable] = -np.expm1(log_c - gap * ts / hs)
        asa[stable] = np.exp(log_c) * hs / gap
    return QueueFigures(
        p_wait=p_wait,
        service_level=np.clip(sl, 0.0, 1.0),
        asa_s=asa,
        occupancy=_occupancy(n, a),
        p_abandon=None,
        overloaded=over,
    )


def log_a_function(x: ArrayLike, z: ArrayLike) -> FloatArray:
    """log A(x, z), A(x, z) = x e^z z^-x gamma(x, z) = sum_{k>=0} z^k / ((x+1)...(x+k)).

    Garnett, Mandelbaum & Reiman (2002), eq. for A(x, y). Computed from the
    regularised lower incomplete gamma P(x, z) where it does not underflow
    (log A = z - x log z + log Gamma(x + 1) + log P(x, z)), otherwise from the
    series, which then converges fast because z is far below x.
    """
    xs, zs = np.broadcast_arrays(_arr(x), _arr(z))
    out = np.zeros(xs.shape, dtype=np.float64)
    with np.errstate(all="ignore"):
        zero_x = (xs <= 0) & (zs > 0)
        out[zero_x] = zs[zero_x]  # A(0, z) = e^z
        pos = (xs > 0) & (zs > 0)
        xx, zz = xs[pos], zs[pos]
        p = _arr(gammainc(xx, zz))
        res = zz - xx * np.log(zz) + _arr(gammaln(xx + 1.0)) + np.log(p)
        for i in np.flatnonzero(p < _TINY):
            res[i] = _log_a_series(float(xx[i]), float(zz[i]))
        out[pos] = res
    return out


def _log_a_series(x: float, z: float) -> float:
    total = 1.0
    term = 1.0
    k = 0
    while True:
        k += 1
        term *= z / (x + k)
        total += term
        if term < _EPS * total:
            return math.log(total)


# Cells (contacts x queue positions) summed at once by the vectorised ASA series.
_CELLS = 2_000_000


def _answered_wait(
    x: FloatArray, y: FloatArray, theta: FloatArray, log_q: FloatArray
) -> FloatArray:
    """E[W; answered] of Erlang A per element: the mean wait times the answered indicator.

    A contact arriving with k others waiting ahead (probability pi_{n+k} /
    total = q w_k, w_k = prod_{i<=k} y / (x+i)) moves ahead at rate
    theta (x + j) with j ahead and abandons at rate theta, so it is answered
    with probability x / (x + k + 1) and, given that, waits
    sum_{j=0}^{k} 1 / (theta (x + j + 1)). The terms peak near k = y - x and
    fall like exp(-m^2 / 2y) beyond; the sum runs 12 standard deviations past
    the peak. Elements are summed in blocks of similar length.
    """
    counts = (np.maximum(0.0, np.ceil(y - x)) + 12.0 * np.sqrt(y) + 60.0).astype(np.int64)
    out = np.empty(x.shape, dtype=np.float64)
    order = np.argsort(counts, kind="stable")
    start = 0
    while start < order.size:
        stop = start + 1
        while stop < order.size and (stop - start + 1) * counts[order[stop]] <= _CELLS:
            stop += 1
        rows = order[start:stop]
        out[rows] = _answered_wait_block(
            x[rows], y[rows], theta[rows], log_q[rows], int(counts[order[stop - 1]])
        )
        start = stop
    return out


def _answered_wait_block(
    x: FloatArray, y: FloatArray, theta: FloatArray, log_q: FloatArray, count: int
) -> FloatArray:
    # Sums k = 0..count for every row, in slices of at most _CELLS cells, carrying
    # log w_k, the harmonic sum and a running log-sum-exp across slices.
    xs = x[:, None]
    log_y = np.log(y)[:, None]
    width = max(1, _CELLS // x.size)
    log_w_prev = np.full((x.size, 1), -np.inf)  # log w_{k-1}; w_0 = 1 is set below
    harm_prev = np.zeros((x.size, 1))
    acc = np.full(x.size, -np.inf)
    for first in range(0, count + 1, width):
        k = np.arange(first, min(count + 1, first + width), dtype=np.float64)[None, :]
        steps = log_y - np.log(xs + k)
        if first == 0:
            steps[:, 0] = 0.0
            log_w_prev = np.zeros((x.size, 1))
        log_w = log_w_prev + np.cumsum(steps, axis=1)
        harmonic = harm_prev + np.cumsum(1.0 / (xs + k + 1.0), axis=1)
        log_terms = log_w + np.log(xs / (xs + k + 1.0)) + np.log(harmonic)
        top = log_terms.max(axis=1)
        part = top + np.log(np.exp(log_terms - top[:, None]).sum(axis=1))
        acc = np.logaddexp(acc, part)
        log_w_prev = log_w[:, -1:]
        harm_prev = harmonic[:, -1:]
    return _arr(np.exp(log_q + acc) / theta)


def erlang_a_metrics(
    agents: ArrayLike,
    traffic: ArrayLike,
    aht_s: ArrayLike,
    patience_s: ArrayLike,
    threshold_s: ArrayLike,
    *,
    with_asa: bool = True,
) -> QueueFigures:
    """Erlang A (M/M/n+M) figures: P(wait), P(abandon), service level, ASA, occupancy.

    Service level is METRICS.md's default: answered within T over offered
    (abandoned contacts count in the denominator, never as met). ASA is the
    mean wait of answered contacts. Occupancy is the carried load
    a (1 - P(Ab)) over n. With ``with_asa=False`` the ASA (a series per
    element) is skipped and left NaN.
    """
    n, a, aht, pat, t = np.broadcast_arrays(
        _arr(agents), _arr(traffic), _arr(aht_s), _arr(patience_s), _arr(threshold_s)
    )
    shape = n.shape
    p_wait = np.full(shape, np.nan)
    p_ab = np.full(shape, np.nan)
    sl = np.full(shape, np.nan)
    asa = np.full(shape, np.nan)
    nobody = (a > 0) & (n <= 0)  # everyone waits and, with no agent, abandons
    p_wait[nobody] = 1.0
    p_ab[nobody] = 1.0
    sl[nobody] = 0.0
    occupancy = _occupancy(n, a)
    live = (a > 0) & (n > 0)
    if live.any():
        with np.errstate(all="ignore"):
            ns, as_, hs, ps, ts = n[live], a[live], aht[live], pat[live], t[live]
            x = ns * ps / hs  # n mu / theta
            y = as_ * ps / hs  # lambda / theta
            log_u = -ts / ps  # u = exp(-theta T)
            log_a = log_a_function(x, y)
            log_a_u = log_a_function(x, y * np.exp(log_u))
            log_b = log_erlang_b(ns, as_)
            # P(W > 0) = 1 / (1 + (1/B - 1) / A) = expit(-L), L = log(1/B - 1) - log A
            big_l = np.log(-np.expm1(log_b)) - log_b - log_a
            pw = _arr(expit(-big_l))
            log_pw = -np.logaddexp(0.0, big_l)
            rho = as_ / ns
            one_minus_inv_a = -np.expm1(-log_a)  # 1 - 1/A, accurate when A is near 1
            pab = np.clip(pw * (1.0 - one_minus_inv_a / rho), 0.0, 1.0)
            # Answered within T among those who wait, times rho (docs/erlang.md):
            # R = (1 - 1/A) - (A(x, yu) - 1) u^x e^{y(1-u)} / A
            tail = np.exp(np.log(np.expm1(log_a_u)) + x * log_u - y * np.expm1(log_u) - log_a)
            r = np.clip(one_minus_inv_a - tail, 0.0, 1.0)
            sl_live = _arr(expit(big_l)) + pw * r / rho
            p_wait[live] = pw
            p_ab[live] = pab
            sl[live] = np.minimum(sl_live, 1.0 - pab)
            occupancy[live] = np.minimum(as_ * (1.0 - pab) / ns, 1.0)
            if with_asa:
                answered = 1.0 - pab
                some = answered > 0
                waits = _answered_wait(x[some], y[some], 1.0 / ps[some], (log_pw - log_a)[some])
                asa_live = np.full(x.shape, np.nan)
                asa_live[some] = waits / answered[some]
                asa[live] = asa_live
    return QueueFigures(
        p_wait=p_wait,
        service_level=np.clip(sl, 0.0, 1.0),
        asa_s=asa,
        occupancy=occupancy,
        p_abandon=p_ab,
        overloaded=(a > 0) & (n <= a),
    )
