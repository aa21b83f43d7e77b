"""Independent reference values for the Erlang tests, computed exactly.

Erlang B and C come from direct sums of a^k / k! in rational arithmetic (no
recursion, no logs); exponentials use 50-digit decimals. Erlang A comes from
the birth-death chain itself, truncated far out, with the tagged customer's
service-within-T probability from a matrix exponential. None of this shares
code with switchboard.wfm.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from fractions import Fraction

import numpy as np
from scipy.linalg import expm


def erlang_b_fraction(n: int, a: Fraction) -> Fraction:
    """B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k!, exactly (small n)."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms, Fraction(0))


def erlang_c_fraction(n: int, a: Fraction) -> Fraction:
    """C(n, a) = (a^n/n! n/(n-a)) / (sum_{k<n} a^k/k! + a^n/n! n/(n-a)), exactly."""
    terms = [a**k / math.factorial(k) for k in range(n)]
    last = a**n / math.factorial(n) * n / (n - a)
    return last / (sum(terms, Fraction(0)) + last)


def erlang_c_decimal(n: int, a: Decimal, aht: Decimal, t: Decimal) -> tuple[Decimal, Decimal]:
    """(C(n, a), 1 - C exp(-(n - a) t / AHT)) by the direct sum in 60-digit decimals.

    All terms a^k / k! are positive, so the plain sum loses nothing; this is
    fast enough for thousands of agents (20,000 contacts per half hour).
    """
    with localcontext() as ctx:
        ctx.prec = 60
        total = Decimal(0)
        term = Decimal(1)
        for k in range(n):
            total += term
            term = term * a / (k + 1)
        last = term * n / (n - a)
        c = last / (total + last)
        return c, 1 - c * (-(n - a) * t / aht).exp()


def erlang_a_chain(
    n: int, lam: float, aht: float, patience: float, t: float, extra: int = 400, sl: bool = True
) -> dict[str, float]:
    """M/M/n+M by its birth-death chain truncated at n + extra waiting contacts.

    Returns p_wait, p_abandon (theta E[Q] / lambda), service_level (answered
    within t over offered, from the tagged customer's absorbing chain) and
    asa_s (mean wait of answered contacts).
    """
    mu, theta = 1.0 / aht, 1.0 / patience
    top = n + extra
    level = np.arange(1, top + 1)
    death = np.minimum(level, n) * mu + np.maximum(level - n, 0) * theta
    log_p = np.concatenate(([0.0], np.cumsum(math.log(lam) - np.log(death))))
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    queue = np.arange(top + 1) - n
    p_wait = float(p[n:].sum())
    p_ab = float(theta * (queue[n:] * p[n:]).sum() / lam)
    out = {"p_wait": p_wait, "p_abandon": p_ab}
    # Tagged customer with k ahead passes stages k, ..., 0; in stage j it moves
    # on at rate n mu + j theta or abandons at rate theta (competing clocks).
    rate = n * mu + np.arange(extra + 1) * theta
    served = np.cumprod(rate / (rate + theta))  # P(answered | k ahead)
    mean = np.cumsum(1.0 / (rate + theta))  # E[wait | answered, k ahead]
    out["asa_s"] = float((p[n:] * served * mean).sum()) / (1.0 - p_ab)
    if sl:
        size = extra + 1
        gen = np.zeros((size + 2, size + 2))
        done, gone = size, size + 1
        for j in range(size):
            move = n * mu + j * theta
            gen[j, j - 1 if j else done] += move
            gen[j, gone] += theta
            gen[j, j] = -(move + theta)
        reach = expm(gen * t)[:size, done]
        out["service_level"] = float(p[:n].sum() + (p[n : n + size] * reach).sum())
    return out
