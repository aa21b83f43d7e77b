"""Historical (batch) reports over CDR rows or an event log.

``report_from_cdr_rows(rows, by, params)`` and ``compute_report(events, by,
params)`` return the report rows: dicts with ``key`` then the METRICS.md
export names, sorted by key (``--by agent`` rows add the agent state times).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from switchboard.domain.errors import ValidationError
from switchboard.domain.events import AgentStateChanged, Event
from switchboard.metrics.agents import AgentClock
from switchboard.metrics.builder import CdrBuilder
from switchboard.metrics.cdr import CdrRow
from switchboard.metrics.kpi import Tally, fcr_end, finalize, row_facts
from switchboard.metrics.params import GROUPINGS, ReportParams, seconds_to_us
from switchboard.metrics.tz import TzTable, day_key, interval_key, interval_start

Report = list[dict[str, object]]


def check_by(by: str) -> None:
    if by not in GROUPINGS:
        raise ValidationError(f"must be one of {', '.join(GROUPINGS)}", field="by")


def group_key(row: CdrRow, by: str, params: ReportParams, tz: TzTable) -> str:
    """The row's group: METRICS.md "Intervals" and "Names in exports"."""
    if by == "queue":
        return row.queue
    if by == "agent":
        return row.agent
    if by == "channel":
        return row.channel
    t = row.enqueued_at if row.enqueued_at is not None else row.arrived_at
    local, off = tz.local(t)
    if by == "day":
        return day_key(local)
    start = interval_start(local, params.interval_us)
    return interval_key(start, off if params.key_offsets else None)


def fcr_resolved(end_us: int, arrivals: Sequence[int], window_us: int) -> bool:
    """No arrival of the same customer in ``(end, end + window]`` (sorted arrivals)."""
    i = bisect.bisect_right(arrivals, end_us)
    return i == len(arrivals) or arrivals[i] > end_us + window_us


def fcr_flags(rows: Sequence[CdrRow], params: ReportParams) -> list[bool | None]:
    """Each row's FCR outcome (None when it is not an answered contact of a
    known customer). A new contact is any row of the customer arriving after
    this one ended, within ``fcr_window_s``; the file's end censors the window."""
    arrivals: dict[str, list[int]] = {}
    for r in rows:
        if r.customer:
            arrivals.setdefault(r.customer, []).append(r.arrived_at)
    for times in arrivals.values():
        times.sort()
    out: list[bool | None] = []
    w = params.fcr_window_us
    for r in rows:
        end = fcr_end(r)
        out.append(None if end is None else fcr_resolved(end, arrivals[r.customer], w))
    return out


def tallies(rows: Sequence[CdrRow], by: str, params: ReportParams) -> dict[str, Tally]:
    """Each group's tally of row facts."""
    check_by(by)
    tz = TzTable(params.tz)
    groups: dict[str, Tally] = {}
    for row, flag in zip(rows, fcr_flags(rows, params), strict=True):
        key = group_key(row, by, params, tz)
        t = groups.get(key)
        if t is None:
            t = groups[key] = Tally()
        t.add(row_facts(row, params, flag))
    return groups


def report_from_tallies(groups: dict[str, Tally], by: str, params: ReportParams,
                        clock: AgentClock | None = None, until_us: int = 0) -> Report:
    """Finalize tallies into sorted report rows."""
    keys = set(groups)
    if by == "agent" and clock is not None:
        keys.update(clock.agents())
    out: Report = []
    for key in sorted(keys):
        agent = clock.times(key, until_us) if by == "agent" and clock is not None else None
        row: dict[str, object] = {"key": key}
        row.update(finalize(groups.get(key) or Tally(), params, agent,
                            agent_row=by == "agent"))
        out.append(row)
    return out


def report_from_cdr_rows(rows: Sequence[CdrRow], by: str, params: ReportParams) -> Report:
    """A report over CDR rows (the pure-Python reference path)."""
    return report_from_tallies(tallies(rows, by, params), by, params)


def compute_report(events: Iterable[Event], by: str, params: ReportParams) -> Report:
    """A report over an event log: its CDR legs, plus agent state times for
    ``by="agent"`` (open states closed at ``params.until`` or the last event)."""
    check_by(by)
    builder = CdrBuilder()
    clock = AgentClock()
    last = None
    for event in events:
        builder.apply(event)
        if isinstance(event, AgentStateChanged):
            clock.apply(event)
        last = event.at if last is None else max(last, event.at)
    rows = [leg.row() for leg in builder.legs]
    until = params.until if params.until is not None else (last or 0.0)
    return report_from_tallies(tallies(rows, by, params), by, params, clock,
                               seconds_to_us(until))
