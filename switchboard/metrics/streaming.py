"""Live (streaming) metrics: the batch figures, kept up to date per event.

:class:`LiveMetrics` runs the same :class:`~switchboard.metrics.builder.CdrBuilder`
as the batch path. Each event changes at most a few legs; for each, the
leg's previous :class:`~switchboard.metrics.kpi.RowFacts` are taken out of
its groups' tallies and its new facts put in, under every grouping at once
(interval, day, queue, agent, channel). So ``rows(by)`` equals
:func:`~switchboard.metrics.batch.compute_report` over the same events, by
construction and by a property test. FCR outcomes of a customer's earlier
contacts are re-evaluated when that customer arrives again (each contact is
watched only while its window is open). Cost per event: O(1) tally updates
plus O(log n) in the customer's arrivals.
"""

from __future__ import annotations

import bisect
from dataclasses import replace
from typing import Any

from switchboard.domain.events import AgentStateChanged, Arrived, Event
from switchboard.metrics.agents import AgentClock
from switchboard.metrics.batch import Report, fcr_resolved, group_key, report_from_tallies
from switchboard.metrics.builder import CdrBuilder, Leg, customer_key
from switchboard.metrics.kpi import RowFacts, Tally, fcr_end, row_facts
from switchboard.metrics.params import GROUPINGS, ReportParams, seconds_to_us
from switchboard.metrics.tz import TzTable


class LiveMetrics:
    """Incremental KPIs for a wallboard. ``apply(event)`` per event, in time order."""

    def __init__(self, params: ReportParams | None = None) -> None:
        self.params = params or ReportParams(key_offsets=True)
        self._tz = TzTable(self.params.tz)
        self._builder = CdrBuilder()
        self._clock = AgentClock()
        self._tallies: dict[str, dict[str, Tally]] = {by: {} for by in GROUPINGS}
        self._contrib: dict[int, tuple[tuple[str, ...], RowFacts]] = {}
        self._arrivals: dict[str, list[int]] = {}
        self._watch: dict[str, list[Leg]] = {}
        self._last_at: float | None = None

    def apply(self, event: Event) -> None:
        """Take one event into account."""
        self._last_at = event.at if self._last_at is None else max(self._last_at, event.at)
        if isinstance(event, AgentStateChanged):
            self._clock.apply(event)
            return
        legs = self._builder.apply(event)
        for leg in legs:
            self._refresh(leg)
        if isinstance(event, Arrived) and legs:
            cust = customer_key(event)
            if cust:
                bisect.insort(self._arrivals.setdefault(cust, []), seconds_to_us(event.at))
                self._rewatch(cust, seconds_to_us(event.at))

    def _rewatch(self, cust: str, now_us: int) -> None:
        window = self.params.fcr_window_us
        keep: list[Leg] = []
        for leg in self._watch.get(cust, []):
            row = leg.row()
            end = fcr_end(row)
            self._refresh(leg)
            if end is not None and (end + window >= now_us or row.ended_at is None):
                keep.append(leg)
        self._watch[cust] = keep

    def _refresh(self, leg: Leg) -> None:
        row = leg.row()
        end = fcr_end(row)
        flag = None
        if end is not None:
            flag = fcr_resolved(end, self._arrivals.get(row.customer, []),
                                self.params.fcr_window_us)
            watched = self._watch.setdefault(row.customer, [])
            if leg not in watched:
                watched.append(leg)
        facts = row_facts(row, self.params, flag)
        keys = tuple(group_key(row, by, self.params, self._tz) for by in GROUPINGS)
        old = self._contrib.get(id(leg))
        if old == (keys, facts):
            return
        if old is not None:
            for by, key in zip(GROUPINGS, old[0], strict=True):
                self._tallies[by][key].add(old[1], -1)
        for by, key in zip(GROUPINGS, keys, strict=True):
            t = self._tallies[by].get(key)
            if t is None:
                t = self._tallies[by][key] = Tally()
            t.add(facts)
        self._contrib[id(leg)] = (keys, facts)

    def rows(self, by: str = "queue", *, until: float | None = None) -> Report:
        """The report rows now (as :func:`compute_report` gives them); open
        agent states are counted up to ``until`` (default: the last event)."""
        groups = {k: t for k, t in self._tallies[by].items() if t.contacts > 0}
        end = until if until is not None else (
            self.params.until if self.params.until is not None else (self._last_at or 0.0))
        return report_from_tallies(groups, by, self.params, self._clock, seconds_to_us(end))

    def snapshot(self, now: float) -> dict[str, Any]:
        """A wallboard view at ``now``: queue rows, and per queue the contacts
        waiting and the age of the oldest (seconds)."""
        waiting: dict[str, dict[str, float | int]] = {}
        now_us = seconds_to_us(now)
        for it in self._builder.interactions.values():
            leg = it.current
            if leg.enqueued_at is None or leg.ended_at is not None \
                    or leg.answered_at is not None or leg.abandoned_at is not None:
                continue
            w = waiting.setdefault(leg.queue, {"waiting": 0, "oldest_wait_s": 0.0})
            w["waiting"] = int(w["waiting"]) + 1
            w["oldest_wait_s"] = max(float(w["oldest_wait_s"]),
                                     (now_us - leg.enqueued_at) / 1_000_000)
        return {"at": now, "queues": self.rows("queue", until=now), "waiting": waiting,
                "params": replace(self.params).describe()}
