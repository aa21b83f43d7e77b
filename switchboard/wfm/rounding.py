"""Exact rounding on decimal inputs: scheduled agents and the occupancy bound.

Scheduled agents = ceil(agents / (1 - shrinkage)). In floating point,
21 / (1 - 0.3) is 30.000000000000004 and rounds up to 31; here the shrinkage
counts as the decimal it was written as (a float as the decimal it prints
as), so the answer is 30. The occupancy bound n >= a / max_occupancy gets the
same treatment where the float quotient lies within rounding of an integer.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from switchboard.domain.errors import ValidationError
from switchboard.wfm.erlang import FloatArray

IntArray = NDArray[np.int64]
Number = int | float | str | Decimal | Fraction


def decimal_fraction(value: Number, field: str) -> Fraction:
    """The exact value of a decimal input: a float counts as the decimal it prints as."""
    try:
        if isinstance(value, bool):
            raise TypeError
        exact = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise ValidationError(f"must be a number, got {value!r}", field=field) from None
    return exact


def finite(value: float, field: str) -> float:
    """``value`` as a float; ValidationError unless it is a finite real number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"must be a finite number, got {value!r}", field=field)
    return float(value)


def check_shrinkage(shrinkage: Number) -> Fraction:
    """Validate a shrinkage (0 <= s < 1); return its exact decimal value."""
    s = decimal_fraction(shrinkage, "shrinkage")
    if not 0 <= s < 1:
        raise ValidationError(f"must be >= 0 and < 1, got {shrinkage!r}", field="shrinkage")
    return s


def scheduled_agents(agents: int, shrinkage: Number) -> int:
    """ceil(agents / (1 - shrinkage)) computed exactly on the decimal shrinkage."""
    if isinstance(agents, bool) or not isinstance(agents, int | np.integer) or agents < 0:
        raise ValidationError(f"must be a whole number >= 0, got {agents!r}", field="agents")
    s = check_shrinkage(shrinkage)
    keep = 1 - s
    return -(-int(agents) * keep.denominator // keep.numerator)


def min_agents_for_occupancy(
    volume: FloatArray, aht: FloatArray, period_s: float, max_occupancy: float
) -> IntArray:
    """Smallest n with volume x AHT / period / n <= max_occupancy, exact at integer ties."""
    q = volume * aht / (period_s * max_occupancy)
    n = np.ceil(q)
    near = np.flatnonzero(np.abs(q - np.round(q)) <= 1e-9 * np.maximum(q, 1.0))
    if near.size:
        denom = decimal_fraction(period_s, "period_s") * decimal_fraction(
            max_occupancy, "max_occupancy"
        )
        for i in near:
            exact = (
                decimal_fraction(float(volume[i]), "volume")
                * decimal_fraction(float(aht[i]), "aht_s")
                / denom
            )
            n[i] = math.ceil(exact)
    return n.astype(np.int64)


def scheduled_array(agents: IntArray, shrinkage: Number) -> IntArray:
    """:func:`scheduled_agents` for every element."""
    s = check_shrinkage(shrinkage)
    keep = 1 - s
    num, den = keep.denominator, keep.numerator
    return np.array([-(-int(n) * num // den) for n in agents], dtype=np.int64)
