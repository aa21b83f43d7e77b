"""The supervisor wallboard's view of a tenant: queues, agents and today's trend.

One snapshot (``GET /api/v1/wallboard``) joins three sources, each the one
place its figures come from:

- the routing engine, for what is true now: contacts waiting and the oldest
  one's wait, agents' status and state, who handles which contact, which
  agents a queue routes to;
- :class:`~switchboard.server.reports.TodayFigures`, for today's figures: a
  :class:`~switchboard.metrics.streaming.LiveMetrics` per (tenant, zone,
  service-level threshold), loaded once from the day's log and fed with every
  committed event, whose rows equal ``compute_report`` (the ``switchboard
  report`` figures) over the same events;
- :class:`StateClock`, for when each agent's status or state last changed
  (time in state), loaded once from the log and fed the same way.

Thresholds turn a queue's figure amber or red (:func:`level`); the levels are
part of the snapshot so that the page and the API agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection

from switchboard.acd import Engine
from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.domain.events import Event
from switchboard.domain.model import QueueConfig
from switchboard.server import reports
from switchboard.store import repo
from switchboard.store import wallboard as store

#: The figures a threshold may watch, and which way is bad.
FIGURES: dict[str, str] = {
    "service_level": "below", "asa_s": "above", "abandon_rate": "above",
    "longest_wait_s": "above", "waiting": "above"}
#: The largest level each figure takes (rates are fractions 0..1).
LIMITS: dict[str, float] = {
    "service_level": 1.0, "abandon_rate": 1.0, "asa_s": 86400.0, "longest_wait_s": 86400.0,
    "waiting": 1_000_000.0}
#: An agent's presence on the board, from its status and state (see :func:`presence`).
PRESENCES = ("available", "reserved", "busy", "wrapup", "not_ready", "offline")
PARTS = frozenset({"queues", "agents", "trend"})


def check_thresholds(body: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Validated threshold levels: ``{figure: {"amber"?: x, "red"?: y}}``.

    Each figure takes amber, red or both (null or absent: no threshold). Rates
    are fractions 0..1, times seconds up to a day. Red is the worse level: at
    or below amber for the service level (bad when low), at or above it for
    the others. Raises :class:`ValidationError` naming the field otherwise."""
    out: dict[str, dict[str, float]] = {}
    for figure, bounds in body.items():
        if figure not in FIGURES:
            raise ValidationError(f"unknown figure; use {', '.join(FIGURES)}", field=figure)
        if bounds is None:
            continue
        if not isinstance(bounds, Mapping):
            raise ValidationError('give {"amber": x, "red": y}', field=figure)
        got: dict[str, float] = {}
        for name, value in bounds.items():
            if name not in ("amber", "red"):
                raise ValidationError("only amber and red", field=f"{figure}.{name}")
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not 0 <= value <= LIMITS[figure]:
                raise ValidationError(f"must be a number from 0 to {LIMITS[figure]:g}",
                                      field=f"{figure}.{name}")
            got[name] = float(value)
        if not got:
            raise ValidationError("give amber, red or both (or null for none)", field=figure)
        if "amber" in got and "red" in got:
            below = FIGURES[figure] == "below"
            if (got["red"] > got["amber"]) if below else (got["red"] < got["amber"]):
                where = "at or below" if below else "at or above"
                raise ValidationError(f"red is the worse level: it must be {where} amber",
                                      field=f"{figure}.red")
        out[figure] = got
    return out


def level(figure: str, value: float | None, bounds: Mapping[str, float] | None) -> str | None:
    """``red``, ``amber`` or ``ok`` for ``value`` of ``figure`` against its
    threshold; ``None`` without a threshold or a value (no denominator yet).
    The service level is amber below amber and red below red; the other
    figures are amber above amber and red above red."""
    if not bounds or value is None:
        return None
    below = FIGURES[figure] == "below"
    for name in ("red", "amber"):
        bound = bounds.get(name)
        if bound is not None and (value < bound if below else value > bound):
            return name
    return "ok"


def presence(agent: Mapping[str, Any]) -> str:
    """One word for the board: ``offline``; the system's state when it is not
    idle (``reserved``, ``busy``, ``wrapup``: wrap-up is never shown as
    available); else the chosen status (``available``, ``not_ready``)."""
    if agent["status"] == "offline":
        return "offline"
    if agent["state"] != "idle":
        return str(agent["state"])
    return "available" if agent["status"] == "ready" else "not_ready"


def parse_ids(value: str | None, field: str) -> set[str] | None:
    """The ids of a comma-separated filter (``None``: no filter)."""
    if value is None:
        return None
    ids = {v for v in (p.strip() for p in value.split(",")) if v}
    if len(ids) > 1000 or any(len(v) > 64 for v in ids):
        raise ValidationError("at most 1000 ids of up to 64 characters", field=field)
    return ids


def parse_parts(value: str) -> set[str]:
    parts = {p.strip() for p in value.split(",") if p.strip()}
    if not parts or parts - PARTS:
        raise ValidationError(f"a comma-separated list of {', '.join(sorted(PARTS))}",
                              field="include")
    return parts


class StateClock:
    """When each agent's status or state last changed, per tenant: loaded from
    the log on first use, then fed by the runtime with each committed event."""

    def __init__(self) -> None:
        self._since: dict[str, dict[str, float]] = {}

    def feed(self, tenant_id: str, events: list[Event]) -> None:
        since = self._since.get(tenant_id)
        if since is None:
            return
        for ev in events:
            if ev.agent_id is None:
                continue
            if ev.kind == "agent_state":
                since[ev.agent_id] = ev.at
            elif ev.kind == "agent_updated":
                since.setdefault(ev.agent_id, ev.at)

    def since(self, conn: Connection, tenant_id: str) -> dict[str, float]:
        got = self._since.get(tenant_id)
        if got is None:
            got = self._since[tenant_id] = store.state_changes(conn, tenant_id)
        return got


class Wallboard:
    """Builds snapshots; :meth:`feed` is the runtime listener that keeps it current."""

    def __init__(self, today: reports.TodayFigures) -> None:
        self.clock = StateClock()
        #: today's figures, shared with ``GET /queues/{id}/stats`` (fed by the
        #: runtime through its own listener, once for both)
        self.today = today

    def feed(self, tenant_id: str, events: list[Event]) -> None:
        self.clock.feed(tenant_id, events)

    def snapshot(self, conn: Connection, engine: Engine, tenant_id: str, *, now: float,
                 tz: Any, parts: set[str], queue_ids: set[str] | None = None,
                 agent_ids: set[str] | None = None,
                 trend_sl_threshold_s: float = 20.0) -> dict[str, Any]:
        """The board at ``now``: ``queues``, ``agents`` and ``trend`` (those in
        ``parts``), queues and agents limited to the ids given (unknown ids are
        left out)."""
        out: dict[str, Any] = {"at": now, "tz": str(tz),
                               "day_start": reports.day_start(now, tz)}
        known = set(engine.queue_ids())
        configs = [q for q in repo.list_queues(conn, tenant_id) if q.id in known]
        agents = {a: engine.agent(a) for a in engine.agent_ids()}
        members = {q.id: engine.queue_agents(q.id) for q in configs}
        if "queues" in parts:
            wanted = [q for q in configs if queue_ids is None or q.id in queue_ids]
            levels = store.thresholds(conn, tenant_id)
            today: dict[float, tuple[float, list[dict[str, Any]]]] = {}
            for t in {q.sl_threshold_s for q in wanted}:  # one report per SL threshold
                start, _, live = self.today.live(conn, tenant_id, tz, now, t)
                today[t] = (start, list(live.rows("queue")))
            out["queues"] = [
                _queue(engine, q, now, today[q.sl_threshold_s], levels.get(q.id, {}),
                       [agents[a] for a in members[q.id] if a in agents])
                for q in wanted]
        if "agents" in parts:
            rows = repo.list_agents(conn, tenant_id)
            since = self.clock.since(conn, tenant_id)
            serves: dict[str, list[str]] = {}
            for qid, ids in members.items():
                for a in ids:
                    serves.setdefault(a, []).append(qid)
            out["agents"] = [
                _agent(engine, agents[r.id], since.get(r.id), serves.get(r.id, []), now)
                for r in rows if r.id in agents and (agent_ids is None or r.id in agent_ids)]
        if "trend" in parts:
            start, end, live = self.today.live(conn, tenant_id, tz, now, trend_sl_threshold_s)
            out["trend"] = {"from": start, "to": end, "interval_min": live.params.interval_min,
                            "sl_threshold_s": trend_sl_threshold_s,
                            "sl_formula": live.params.sl_formula,
                            "rows": list(live.rows("interval"))}
        return out


def _queue(engine: Engine, q: QueueConfig, now: float,
           today_rows: tuple[float, list[dict[str, Any]]], bounds: dict[str, dict[str, float]],
           members: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    stats = engine.queue_stats(q.id)
    longest = stats["longest_wait_s"]
    if stats["waiting"]:  # the engine's clock stops between inputs; ours does not
        longest += max(0.0, now - engine.now)
    start, rows = today_rows
    today = reports.today(rows, q.id, start, q.sl_threshold_s)
    by_presence = dict.fromkeys(PRESENCES, 0)
    for a in members:
        by_presence[presence(a)] += 1
    figures = {"service_level": today["service_level"], "asa_s": today["asa_s"],
               "abandon_rate": today["abandon_rate"], "longest_wait_s": longest,
               "waiting": stats["waiting"]}
    return {
        "id": q.id, "name": q.name, "sl_threshold_s": q.sl_threshold_s,
        "waiting": stats["waiting"], "longest_wait_s": longest,
        "oldest_enqueued_at": now - longest if stats["waiting"] else None,
        "ewt_s": stats["ewt_s"], "agents": by_presence, "today": today,
        "thresholds": bounds,
        "levels": {f: level(f, v, bounds.get(f)) for f, v in figures.items()},
    }


def _agent(engine: Engine, a: Mapping[str, Any], since: float | None, queues: list[str],
           now: float) -> dict[str, Any]:
    current = next(iter([*a["contacts"], *a["wrapups"], *a["offers"]]), None)
    contact = None
    if current is not None:
        try:
            it = engine.interaction(current)
        except SwitchboardError:  # closed meanwhile
            it = None
        if it is not None:
            contact = {"id": it["id"], "queue": it["queue"], "channel": it["channel"],
                       "state": it["state"], "customer": it["customer"].get("name")}
    return {
        "id": a["id"], "name": a["name"], "status": a["status"], "reason": a["reason"],
        "state": a["state"], "presence": presence(a), "since": since,
        "time_in_state_s": None if since is None else max(0.0, now - since),
        "skills": a["skills"], "queues": sorted(queues), "contact": contact,
        "contacts": len(a["contacts"]) + len(a["wrapups"]) + len(a["offers"]),
    }
