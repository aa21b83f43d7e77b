"""Staffing solvers: the fewest agents that meet the targets, per interval.

An interval is (volume, period, AHT); its traffic is a = volume x AHT / period
Erlangs. The solver finds, for every interval at once (numpy), the smallest
whole n such that every target given holds:

- service level (answered within T over offered) >= ``sl_target``;
- ASA of answered contacts <= ``asa_target_s``;
- P(abandon) <= ``abandon_target`` (Erlang A only);
- occupancy <= ``max_occupancy``;
- and, for Erlang C, n > a (a stable queue).

Each figure is monotone in n, so a vectorised galloping-then-bisection search
finds the boundary. Scheduled agents and the occupancy bound are computed
exactly on decimal inputs (:mod:`switchboard.wfm.rounding`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from switchboard.domain.errors import ValidationError
from switchboard.wfm.erlang import (
    BoolArray,
    FloatArray,
    QueueFigures,
    erlang_a_metrics,
    erlang_c_metrics,
)
from switchboard.wfm.rounding import (
    Number,
    check_shrinkage,
    finite,
    min_agents_for_occupancy,
    scheduled_array,
)

IntArray = NDArray[np.int64]

ERLANG_C = "erlang_c"
ERLANG_A = "erlang_a"


def _fraction_in(value: float | None, field: str, *, low: float, high: float, top: bool) -> None:
    if value is None:
        return
    v = finite(value, field)
    if not (low < v < high or (top and v == high)):
        bound = f"<= {high:g}" if top else f"< {high:g}"
        raise ValidationError(f"must be > {low:g} and {bound}, got {value!r}", field=field)


def _check_threshold(threshold_s: float) -> None:
    if finite(threshold_s, "sl_threshold_s") < 0:
        raise ValidationError(f"must be >= 0 seconds, got {threshold_s!r}", field="sl_threshold_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class Targets:
    """What the staffing must achieve. At least one target must be given.

    ``sl_target`` is a share of offered contacts answered within
    ``sl_threshold_s`` seconds (METRICS.md default formula).
    """

    sl_target: float | None = None
    sl_threshold_s: float = 20.0
    asa_target_s: float | None = None
    abandon_target: float | None = None
    max_occupancy: float | None = None

    def __post_init__(self) -> None:
        _fraction_in(self.sl_target, "sl_target", low=0.0, high=1.0, top=False)
        _fraction_in(self.abandon_target, "abandon_target", low=0.0, high=1.0, top=False)
        _fraction_in(self.max_occupancy, "max_occupancy", low=0.0, high=1.0, top=True)
        _check_threshold(self.sl_threshold_s)
        if self.asa_target_s is not None and finite(self.asa_target_s, "asa_target_s") <= 0:
            raise ValidationError(
                f"must be > 0 seconds, got {self.asa_target_s!r}", field="asa_target_s"
            )
        if (
            self.sl_target is None
            and self.asa_target_s is None
            and self.abandon_target is None
            and self.max_occupancy is None
        ):
            raise ValidationError(
                "give at least one target (service level, ASA, abandonment or occupancy)",
                field="sl_target",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Staffing:
    """The staffing of one interval and the figures it achieves (None: undefined)."""

    model: str
    traffic_erlangs: float
    agents: int
    scheduled_agents: int
    p_wait: float | None
    service_level: float | None
    asa_s: float | None
    occupancy: float | None
    p_abandon: float | None
    overloaded: bool

    def as_dict(self) -> dict[str, object]:
        """The figures under their JSON names, in a fixed order."""
        return {
            "model": self.model,
            "traffic_erlangs": self.traffic_erlangs,
            "agents": self.agents,
            "scheduled_agents": self.scheduled_agents,
            "p_wait": self.p_wait,
            "service_level": self.service_level,
            "asa_s": self.asa_s,
            "occupancy": self.occupancy,
            "p_abandon": self.p_abandon,
            "overloaded": self.overloaded,
        }


@dataclass(frozen=True, slots=True)
class PlanResult:
    """Staffing of every interval of a plan (arrays in input order)."""

    model: str
    traffic_erlangs: FloatArray
    agents: IntArray
    scheduled_agents: IntArray
    figures: QueueFigures

    def rows(self) -> list[Staffing]:
        """One :class:`Staffing` per interval."""
        f = self.figures
        return [
            Staffing(
                model=self.model,
                traffic_erlangs=float(self.traffic_erlangs[i]),
                agents=int(self.agents[i]),
                scheduled_agents=int(self.scheduled_agents[i]),
                p_wait=_opt(f.p_wait[i]),
                service_level=_opt(f.service_level[i]),
                asa_s=_opt(f.asa_s[i]),
                occupancy=_opt(f.occupancy[i]),
                p_abandon=None if f.p_abandon is None else _opt(f.p_abandon[i]),
                overloaded=bool(f.overloaded[i]),
            )
            for i in range(self.agents.size)
        ]


def _opt(value: np.floating | float) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True, slots=True)
class _Plan:
    volume: FloatArray
    aht: FloatArray
    period_s: float
    patience_s: float | None
    traffic: FloatArray

    @property
    def model(self) -> str:
        return ERLANG_C if self.patience_s is None else ERLANG_A

    def figures(
        self, agents: ArrayLike, idx: NDArray[np.intp] | slice, threshold_s: float, asa: bool
    ) -> QueueFigures:
        a, aht = self.traffic[idx], self.aht[idx]
        if self.patience_s is None:
            return erlang_c_metrics(agents, a, aht, threshold_s)
        return erlang_a_metrics(agents, a, aht, self.patience_s, threshold_s, with_asa=asa)


def _plan(volume: ArrayLike, aht_s: ArrayLike, period_s: float, patience_s: float | None) -> _Plan:
    vol = np.atleast_1d(np.asarray(volume, dtype=np.float64))
    aht = np.broadcast_to(np.asarray(aht_s, dtype=np.float64), vol.shape).copy()
    if vol.ndim != 1:
        raise ValidationError("must be a number or a flat list of numbers", field="volume")
    bad = np.flatnonzero(~np.isfinite(vol) | (vol < 0))
    if bad.size:
        raise ValidationError(
            f"must be a number >= 0, got {float(vol[bad[0]])!r}", field=_at("volume", vol, bad)
        )
    bad = np.flatnonzero(~np.isfinite(aht) | (aht < 0) | ((aht == 0) & (vol > 0)))
    if bad.size:
        raise ValidationError(
            f"must be a number of seconds > 0, got {float(aht[bad[0]])!r}",
            field=_at("aht_s", vol, bad),
        )
    if finite(period_s, "period_s") <= 0:
        raise ValidationError(f"must be > 0 seconds, got {period_s!r}", field="period_s")
    if patience_s is not None and finite(patience_s, "patience_s") <= 0:
        raise ValidationError(f"must be > 0 seconds, got {patience_s!r}", field="patience_s")
    traffic = vol * aht / float(period_s)
    return _Plan(
        vol, aht, float(period_s), None if patience_s is None else float(patience_s), traffic
    )


def _at(name: str, vol: FloatArray, bad: NDArray[np.intp]) -> str:
    return name if vol.size == 1 else f"{name}[{int(bad[0])}]"


def _search(
    feasible: Callable[[IntArray, NDArray[np.intp]], BoolArray], lo: IntArray, hi: IntArray
) -> IntArray:
    """Smallest n in (lo, inf) with feasible(n), for each element; lo must be infeasible."""
    limit = hi * 64 + 1_000_000
    idx = np.arange(lo.size)
    ok = feasible(hi, idx)
    while not ok.all():
        bad = idx[~ok]
        step = np.maximum(hi[bad] - lo[bad], 1)
        lo[bad] = hi[bad]
        hi[bad] = hi[bad] + 2 * step
        if (hi[bad] > limit[bad]).any():
            raise ValidationError(
                "the targets cannot be met by any number of agents", field="sl_target"
            )
        ok = np.ones(lo.size, dtype=bool)
        ok[bad] = feasible(hi[bad], bad)
    open_ = np.flatnonzero(hi - lo > 1)
    while open_.size:
        mid = (lo[open_] + hi[open_]) // 2
        good = feasible(mid, open_)
        hi[open_[good]] = mid[good]
        lo[open_[~good]] = mid[~good]
        open_ = open_[hi[open_] - lo[open_] > 1]
    return hi


def staff_plan(
    volume: ArrayLike,
    aht_s: ArrayLike,
    *,
    period_s: float,
    targets: Targets,
    shrinkage: Number = 0,
    patience_s: float | None = None,
) -> PlanResult:
    """Fewest agents per interval meeting ``targets``; Erlang A when ``patience_s`` is given.

    A closed interval (volume 0) needs 0 agents. Raises ValidationError naming
    the field for bad input, and when a target cannot be met.
    """
    plan = _plan(volume, aht_s, period_s, patience_s)
    check_shrinkage(shrinkage)
    if targets.abandon_target is not None and patience_s is None:
        raise ValidationError(
            "an abandonment target needs Erlang A: give the mean patience", field="abandon_target"
        )
    a = plan.traffic
    open_ = np.flatnonzero(a > 0)
    agents = np.zeros(a.shape, dtype=np.int64)
    if open_.size:
        a_open = a[open_]
        lo = np.zeros(open_.size, dtype=np.int64)  # n = 0 never serves anyone
        if plan.patience_s is None:
            lo = np.floor(a_open).astype(np.int64)  # n <= a is unstable
        n_occ = np.zeros(open_.size, dtype=np.int64)
        if targets.max_occupancy is not None:
            n_occ = min_agents_for_occupancy(
                plan.volume[open_], plan.aht[open_], plan.period_s, targets.max_occupancy
            )
            if plan.patience_s is None:
                lo = np.maximum(lo, n_occ - 1)
        want_asa = targets.asa_target_s is not None

        def feasible(n: IntArray, sub: NDArray[np.intp]) -> BoolArray:
            where = open_[sub]
            figs = plan.figures(n, where, targets.sl_threshold_s, want_asa)
            ok: BoolArray = (n > 0) & ~(figs.overloaded & (plan.patience_s is None))
            if targets.sl_target is not None:
                ok &= figs.service_level >= targets.sl_target
            if targets.asa_target_s is not None:
                ok &= figs.asa_s <= targets.asa_target_s
            if targets.abandon_target is not None and figs.p_abandon is not None:
                ok &= figs.p_abandon <= targets.abandon_target
            if targets.max_occupancy is not None:
                if plan.patience_s is None:
                    ok &= n >= n_occ[sub]
                else:
                    ok &= figs.occupancy <= targets.max_occupancy
            return ok

        guess = np.maximum(lo + 1, np.ceil(a_open + np.sqrt(a_open)).astype(np.int64))
        agents[open_] = _search(feasible, lo.copy(), guess)
    return _result(plan, agents, targets.sl_threshold_s, shrinkage)


def evaluate_plan(
    volume: ArrayLike,
    aht_s: ArrayLike,
    agents: ArrayLike,
    *,
    period_s: float,
    sl_threshold_s: float = 20.0,
    shrinkage: Number = 0,
    patience_s: float | None = None,
) -> PlanResult:
    """The figures that a given number of agents per interval achieves."""
    plan = _plan(volume, aht_s, period_s, patience_s)
    raw = np.broadcast_to(np.asarray(agents), plan.traffic.shape)
    if (
        raw.dtype.kind not in "iuf"
        or not np.all(np.isfinite(raw))
        or np.any(raw < 0)
        or np.any(raw != np.floor(raw))
    ):
        raise ValidationError(f"must be whole numbers >= 0, got {agents!r}", field="agents")
    _check_threshold(sl_threshold_s)
    return _result(plan, raw.astype(np.int64), sl_threshold_s, shrinkage)


def _result(plan: _Plan, agents: IntArray, threshold_s: float, shrinkage: Number) -> PlanResult:
    figures = plan.figures(agents, slice(None), threshold_s, True)
    return PlanResult(
        model=plan.model,
        traffic_erlangs=plan.traffic,
        agents=agents,
        scheduled_agents=scheduled_array(agents, shrinkage),
        figures=figures,
    )


def staff(
    volume: float,
    period_s: float,
    aht_s: float,
    *,
    targets: Targets,
    shrinkage: Number = 0,
    patience_s: float | None = None,
) -> Staffing:
    """Fewest agents for one interval; see :func:`staff_plan`."""
    finite(volume, "volume")
    return staff_plan(
        volume,
        aht_s,
        period_s=period_s,
        targets=targets,
        shrinkage=shrinkage,
        patience_s=patience_s,
    ).rows()[0]


def evaluate(
    volume: float,
    period_s: float,
    aht_s: float,
    agents: int,
    *,
    sl_threshold_s: float = 20.0,
    shrinkage: Number = 0,
    patience_s: float | None = None,
) -> Staffing:
    """The figures ``agents`` achieve for one interval; see :func:`evaluate_plan`."""
    finite(volume, "volume")
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ValidationError(f"must be a whole number >= 0, got {agents!r}", field="agents")
    return evaluate_plan(
        volume,
        aht_s,
        agents,
        period_s=period_s,
        sl_threshold_s=sl_threshold_s,
        shrinkage=shrinkage,
        patience_s=patience_s,
    ).rows()[0]
