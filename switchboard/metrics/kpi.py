"""One definition of every figure: what a CDR row contributes, and the ratios.

A report is computed in two steps that every path shares:

1. each row (one interaction leg) gives its :class:`RowFacts` (whole numbers:
   counts and microseconds), and a group's :class:`Tally` is their sum;
2. :func:`finalize` turns a tally into the METRICS.md figures.

The batch path, the streaming path and the columnar (DuckDB) path all sum the
same facts; only :func:`finalize` divides. A figure whose denominator is zero
is ``None`` (``null`` in JSON), never 0.

Definitions (METRICS.md; the SL variants as in COPC / Genesys "service level"
documentation; AHT = talk + hold + ACW per handled contact):

* a row belongs to the interval of ``enqueued_at``, else of ``arrived_at``;
  a row that never queued counts only in ``contacts`` and ``self_service_rate``;
* self-service: never queued, no agent connected, not abandoned;
* wait = answered (or abandoned) - enqueued; short abandon: wait < short_abandon_s;
* talk = ended - answered - hold (0 when ``ended_at`` is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from switchboard.metrics.cdr import CdrRow
from switchboard.metrics.params import AGENT_TIME_NAMES, US, ReportParams


@dataclass(frozen=True, slots=True)
class RowFacts:
    """What one row adds to its group (all whole numbers)."""

    contacts: int = 1
    self_service: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_answered_us: int = 0
    wait_abandoned_us: int = 0
    sl_met: int = 0  # answered with wait <= T
    abandoned_within_t: int = 0  # abandoned with wait <= T
    talk_us: int = 0
    hold_us: int = 0
    held: int = 0
    wrapup_us: int = 0
    rna: int = 0
    transfers: int = 0
    overflows: int = 0
    callbacks: int = 0
    fcr_base: int = 0
    fcr_resolved: int = 0
    csat_n: int = 0
    csat_good: int = 0
    nps_n: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    max_wait_us: int | None = None


_SUM_FIELDS = tuple(f.name for f in fields(RowFacts) if f.name != "max_wait_us")


def fcr_end(row: CdrRow) -> int | None:
    """The time from which the FCR window runs (end of the contact), or None
    when the row is not an answered contact of a known customer."""
    if row.enqueued_at is None or row.answered_at is None or not row.customer:
        return None
    return row.ended_at if row.ended_at is not None else row.answered_at


def row_facts(row: CdrRow, params: ReportParams, fcr_resolved: bool | None) -> RowFacts:
    """The contribution of one row. ``fcr_resolved``: whether no new contact
    of the same customer arrived within the FCR window after this one ended
    (None when :func:`fcr_end` is None)."""
    if row.enqueued_at is None:
        alone = row.answered_at is None and row.abandoned_at is None
        return RowFacts(self_service=1 if alone else 0)
    wait = row.wait_us
    t_us = params.sl_threshold_us
    answered = row.answered_at is not None
    abandoned = not answered and row.abandoned_at is not None
    talk = hold = held = wrap = 0
    if answered:
        assert row.answered_at is not None
        if row.ended_at is not None:
            talk = row.ended_at - row.answered_at - row.hold_us
        hold, held, wrap = row.hold_us, int(row.hold_us > 0), row.wrapup_us
    base = int(fcr_resolved is not None)
    csat, nps = row.csat, row.nps
    return RowFacts(
        offered=1,
        answered=int(answered),
        abandoned=int(abandoned),
        short_abandoned=int(abandoned and wait is not None and wait < params.short_abandon_us),
        wait_answered_us=wait if answered and wait is not None else 0,
        wait_abandoned_us=wait if abandoned and wait is not None else 0,
        sl_met=int(answered and wait is not None and wait <= t_us),
        abandoned_within_t=int(abandoned and wait is not None and wait <= t_us),
        talk_us=talk, hold_us=hold, held=held, wrapup_us=wrap,
        rna=row.rna, transfers=row.transfers, overflows=row.overflows,
        callbacks=row.callbacks,
        fcr_base=base, fcr_resolved=int(bool(fcr_resolved)),
        csat_n=int(csat is not None), csat_good=int(csat is not None and csat >= 4),
        nps_n=int(nps is not None), nps_promoters=int(nps is not None and nps >= 9),
        nps_detractors=int(nps is not None and nps <= 6),
        max_wait_us=wait,
    )


@dataclass(slots=True)
class Tally:
    """The sum of a group's row facts. ``add(facts, -1)`` takes a row back
    out (the streaming path does, when a row changes); the maximum wait only
    grows, which is exact because a row's wait never changes once known."""

    contacts: int = 0
    self_service: int = 0
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    wait_answered_us: int = 0
    wait_abandoned_us: int = 0
    sl_met: int = 0
    abandoned_within_t: int = 0
    talk_us: int = 0
    hold_us: int = 0
    held: int = 0
    wrapup_us: int = 0
    rna: int = 0
    transfers: int = 0
    overflows: int = 0
    callbacks: int = 0
    fcr_base: int = 0
    fcr_resolved: int = 0
    csat_n: int = 0
    csat_good: int = 0
    nps_n: int = 0
    nps_promoters: int = 0
    nps_detractors: int = 0
    max_wait_us: int | None = None

    def add(self, facts: RowFacts, sign: int = 1) -> None:
        for name in _SUM_FIELDS:
            setattr(self, name, getattr(self, name) + sign * getattr(facts, name))
        w = facts.max_wait_us
        if sign > 0 and w is not None and (self.max_wait_us is None or w > self.max_wait_us):
            self.max_wait_us = w

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in (*_SUM_FIELDS, "max_wait_us")}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Tally:
        t = cls()
        for name in (*_SUM_FIELDS, "max_wait_us"):
            v = values.get(name)
            setattr(t, name, None if v is None and name == "max_wait_us" else int(v or 0))
        return t


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


def _secs(num_us: int, den: int) -> float | None:
    return None if den == 0 else num_us / (den * US)


@dataclass(frozen=True, slots=True)
class AgentTimes:
    """Microseconds an agent spent in each state over the report window."""

    logged_in_us: int = 0
    ready_idle_us: int = 0
    reserved_us: int = 0
    busy_us: int = 0
    wrapup_us: int = 0
    not_ready_us: int = 0


def finalize(t: Tally, params: ReportParams, agent: AgentTimes | None = None,
             *, agent_row: bool = False) -> dict[str, Any]:
    """The METRICS.md figures of one group (without its ``key``)."""
    formula = params.sl_formula
    handled = t.answered + t.abandoned
    if formula == "answered":
        sl = _ratio(t.sl_met, t.answered)
    elif formula == "ignore_short":
        sl = _ratio(t.sl_met, handled - t.abandoned_within_t)
    elif formula == "abandons_met":
        sl = _ratio(t.sl_met + t.abandoned_within_t, handled)
    else:
        sl = _ratio(t.sl_met, handled)
    if params.exclude_short_abandons:
        abandon_rate = _ratio(t.abandoned - t.short_abandoned, t.offered - t.short_abandoned)
    else:
        abandon_rate = _ratio(t.abandoned, t.offered)
    occupancy = utilization = shrinkage = None
    if agent is not None:
        handling = agent.busy_us + agent.wrapup_us
        # Occupancy: handle time / (handle time + available time), reserved
        # (ringing) counted as available; utilization and shrinkage over
        # logged-in time (the only paid time the event log shows).
        occupancy = _ratio(handling, handling + agent.ready_idle_us + agent.reserved_us)
        utilization = _ratio(handling, agent.logged_in_us)
        shrinkage = _ratio(agent.not_ready_us, agent.logged_in_us)
    out: dict[str, Any] = {
        "contacts": t.contacts,
        "offered": t.offered,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "short_abandoned": t.short_abandoned,
        "abandon_rate": abandon_rate,
        "self_service_rate": _ratio(t.self_service, t.contacts),
        "asa_s": _secs(t.wait_answered_us, t.answered),
        "ata_s": _secs(t.wait_abandoned_us, t.abandoned),
        "max_wait_s": None if t.max_wait_us is None else t.max_wait_us / US,
        "service_level": sl,
        "sl_threshold_s": params.sl_threshold_s,
        "sl_formula": formula,
        "att_s": _secs(t.talk_us, t.answered),
        "avg_hold_s": _secs(t.hold_us, t.answered),
        "hold_rate": _ratio(t.held, t.answered),
        "acw_s": _secs(t.wrapup_us, t.answered),
        "aht_s": _secs(t.talk_us + t.hold_us + t.wrapup_us, t.answered),
        "rna": t.rna,
        "transfers": t.transfers,
        "overflows": t.overflows,
        "callbacks": t.callbacks,
        "occupancy": occupancy,
        "utilization": utilization,
        "shrinkage": shrinkage,
        "adherence": None,  # needs a schedule: WFM's adherence report computes it
        "fcr_rate": _ratio(t.fcr_resolved, t.fcr_base),
        "csat": _ratio(t.csat_good, t.csat_n),
        "nps": None if t.nps_n == 0 else 100.0 * (t.nps_promoters - t.nps_detractors) / t.nps_n,
    }
    if agent_row:
        for name, attr in zip(AGENT_TIME_NAMES, fields(AgentTimes), strict=True):
            out[name] = None if agent is None else getattr(agent, attr.name) / US
    return out
