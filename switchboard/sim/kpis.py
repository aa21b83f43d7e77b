"""Per-day KPI figures of a simulation, computed from the engine's events.

The definitions are METRICS.md's, applied to the event log as it is produced
(one pass, O(1) per event). :class:`DayTally` holds additive counts and sums,
so a whole run's figures are those of the summed tallies (pooled over days),
and the per-day figures give a confidence interval across days.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from switchboard.domain import events as e
from switchboard.domain.enums import AgentState, AgentStatus

# Every METRICS.md export name, in METRICS.md's order.
EXPORT_KEYS = (
    "contacts", "offered", "answered", "abandoned", "short_abandoned", "abandon_rate",
    "self_service_rate", "asa_s", "ata_s", "max_wait_s", "service_level", "sl_threshold_s",
    "sl_formula", "att_s", "avg_hold_s", "hold_rate", "acw_s", "aht_s", "rna", "transfers",
    "overflows", "callbacks", "occupancy", "utilization", "shrinkage", "adherence",
    "fcr_rate", "csat", "nps",
)
_OFF, _HANDLE, _AVAIL, _UNAVAIL = 0, 1, 2, 3
_BUSY = (AgentState.BUSY, AgentState.WRAPUP)


@dataclass(slots=True)
class DayTally:
    """Additive counts and sums of one simulated day (or of several, summed)."""

    contacts: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    abandoned_within_t: int = 0
    met: int = 0  # answered with wait_s <= T
    exited: int = 0
    self_service: int = 0
    wait_answered_s: float = 0.0
    wait_abandoned_s: float = 0.0
    max_wait_s: float | None = None
    talk_s: float = 0.0
    hold_s: float = 0.0
    held: int = 0
    acw_s: float = 0.0
    rna: int = 0
    transfers: int = 0
    overflows: int = 0
    callbacks: int = 0
    handle_time_s: float = 0.0  # agents busy or in wrap-up
    available_s: float = 0.0  # ready and not handling
    unavailable_s: float = 0.0  # not ready and not handling
    unfinished: int = 0  # contacts still open when the day stopped

    def add(self, other: DayTally) -> None:
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "max_wait_s":
                setattr(self, f.name, b if a is None else a if b is None else max(a, b))
            else:
                setattr(self, f.name, a + b)


@dataclass(slots=True)
class Collector:
    """Feeds a :class:`DayTally` from events, in log order."""

    threshold_s: float
    short_abandon_s: float
    tally: DayTally = field(default_factory=DayTally)
    _agents: dict[str, tuple[float, int]] = field(default_factory=dict)
    _queued: set[str] = field(default_factory=set)
    _count: dict[type[e.Event], str] = field(init=False, repr=False)
    _react: dict[type[e.Event], Callable[[Any], None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._count = {  # events that only count: the DayTally field each adds 1 to
            e.Arrived: "contacts", e.OfferTimedOut: "rna", e.Transferred: "transfers",
            e.Overflowed: "overflows", e.CallbackRequested: "callbacks",
            e.CallbackScheduled: "callbacks",
        }
        self._react: dict[type[e.Event], Callable[[Any], None]] = {
            e.AgentStateChanged: self._agent, e.Answered: self._answered,
            e.Ended: self._ended, e.WrapupEnded: self._wrapup_ended,
            e.Enqueued: self._enqueued, e.Abandoned: self._abandoned, e.Exited: self._exited,
            e.EnqueueRefused: self._refused,
            **{k: self._counted for k in self._count},
        }

    def feed(self, events: Sequence[e.Event]) -> None:
        react = self._react.get
        for ev in events:
            reaction = react(ev.__class__)
            if reaction is not None:
                reaction(ev)

    def _counted(self, ev: e.Event) -> None:
        name = self._count[ev.__class__]
        setattr(self.tally, name, getattr(self.tally, name) + 1)

    def _answered(self, ev: e.Answered) -> None:
        t = self.tally
        w = ev.wait_s
        t.answered += 1
        t.wait_answered_s += w
        if w <= self.threshold_s:
            t.met += 1
        if t.max_wait_s is None or w > t.max_wait_s:
            t.max_wait_s = w

    def _ended(self, ev: e.Ended) -> None:
        t = self.tally
        if ev.agent_id is not None:
            t.talk_s += ev.talk_s
            h = ev.hold_s
            t.hold_s += h
            if h > 0:
                t.held += 1
        elif ev.interaction_id in self._queued:
            self._queued.discard(ev.interaction_id)
        else:
            t.self_service += 1

    def _wrapup_ended(self, ev: e.WrapupEnded) -> None:
        self.tally.acw_s += ev.wrapup_s
        self._queued.discard(ev.interaction_id)

    def _enqueued(self, ev: e.Enqueued) -> None:
        self.tally.offered += 1
        self._queued.add(ev.interaction_id)  # type: ignore[arg-type]

    def _exited(self, ev: e.Exited) -> None:
        self.tally.exited += 1
        self._queued.discard(ev.interaction_id)

    def _refused(self, ev: e.EnqueueRefused) -> None:
        self._queued.add(ev.interaction_id)  # type: ignore[arg-type]

    def _abandoned(self, ev: e.Abandoned) -> None:
        t = self.tally
        w = ev.wait_s
        t.abandoned += 1
        t.wait_abandoned_s += w
        if w < self.short_abandon_s:
            t.short_abandoned += 1
        if w <= self.threshold_s:
            t.abandoned_within_t += 1
        if t.max_wait_s is None or w > t.max_wait_s:
            t.max_wait_s = w
        self._queued.discard(ev.interaction_id)

    def _agent(self, ev: e.AgentStateChanged) -> None:
        if ev.status is AgentStatus.OFFLINE:
            cat = _OFF
        elif ev.state in _BUSY:
            cat = _HANDLE
        elif ev.status is AgentStatus.READY:
            cat = _AVAIL
        else:
            cat = _UNAVAIL
        aid: str = ev.agent_id  # type: ignore[assignment]
        prev = self._agents.get(aid)
        if prev is not None:
            self._credit(prev, ev.at)
        self._agents[aid] = (ev.at, cat)

    def _credit(self, prev: tuple[float, int], now: float) -> None:
        since, cat = prev
        span = now - since
        if cat == _HANDLE:
            self.tally.handle_time_s += span
        elif cat == _AVAIL:
            self.tally.available_s += span
        elif cat == _UNAVAIL:
            self.tally.unavailable_s += span

    def close(self, now: float, unfinished: int) -> DayTally:
        """End the day at ``now``: credit agents still logged in; return the tally."""
        for aid, prev in self._agents.items():
            self._credit(prev, now)
            self._agents[aid] = (now, prev[1])
        self.tally.unfinished = unfinished
        return self.tally


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def figures(t: DayTally, threshold_s: float, formula: str) -> dict[str, Any]:
    """The METRICS.md export names for one tally (``null`` where no denominator)."""
    ans, ab = t.answered, t.abandoned
    if formula == "answered":
        sl = _ratio(t.met, ans)
    elif formula == "ignore_short":
        sl = _ratio(t.met, ans + ab - t.abandoned_within_t)
    elif formula == "abandons_met":
        sl = _ratio(t.met + t.abandoned_within_t, ans + ab)
    else:
        sl = _ratio(t.met, ans + ab)
    logged = t.handle_time_s + t.available_s + t.unavailable_s
    return {
        "contacts": t.contacts,
        "offered": t.offered,
        "answered": ans,
        "abandoned": ab,
        "short_abandoned": t.short_abandoned,
        "abandon_rate": _ratio(ab, t.offered),
        "self_service_rate": _ratio(t.self_service, t.contacts),
        "asa_s": _ratio(t.wait_answered_s, ans),
        "ata_s": _ratio(t.wait_abandoned_s, ab),
        "max_wait_s": t.max_wait_s,
        "service_level": sl,
        "sl_threshold_s": threshold_s,
        "sl_formula": formula,
        "att_s": _ratio(t.talk_s, ans),
        "avg_hold_s": _ratio(t.hold_s, ans),
        "hold_rate": _ratio(t.held, ans),
        "acw_s": _ratio(t.acw_s, ans),
        "aht_s": _ratio(t.talk_s + t.hold_s + t.acw_s, ans),
        "rna": t.rna,
        "transfers": t.transfers,
        "overflows": t.overflows,
        "callbacks": t.callbacks,
        "occupancy": _ratio(t.handle_time_s, t.handle_time_s + t.available_s),
        "utilization": _ratio(t.handle_time_s, logged),
        "shrinkage": _ratio(t.unavailable_s, logged),
        # No schedule adherence, FCR or surveys in a simulation: no denominator.
        "adherence": None,
        "fcr_rate": None,
        "csat": None,
        "nps": None,
    }


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t as student_t  # imported only for multi-day runs

    return float(student_t.ppf(p, df))


def interval(values: Sequence[float], level: float = 0.95) -> list[float] | None:
    """Student-t interval of the mean: mean ± t((1+level)/2, n-1) s / sqrt(n);
    ``None`` with fewer than two values."""
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile((1.0 + level) / 2.0, n - 1) * sd / math.sqrt(n)
    return [mean - half, mean + half]


def ci95(per_day: Sequence[dict[str, Any]], level: float = 0.95) -> dict[str, list[float] | None]:
    """The Student-t 95% interval (or ``level``) of the mean across days, for
    each numeric figure, over the days where it is defined; ``None`` where
    fewer than two days have a value."""
    out: dict[str, list[float] | None] = {}
    for key in EXPORT_KEYS:
        vals = [float(d[key]) for d in per_day
                if isinstance(d.get(key), int | float) and not isinstance(d.get(key), bool)]
        out[key] = None if key in ("sl_threshold_s", "sl_formula") else interval(vals, level)
    return out
