"""Reports from the event log: ``GET /api/v1/reports/{by}`` and today's queue figures.

Both read the tenant's logged events with ``from <= at < to`` (``Event.from_dict``)
and hand them to the pure metrics package (``compute_report``), so a queue's
``today`` figures in ``/queues/{id}/stats`` are by construction the ``queue``
report over the same day (METRICS.md definitions, docs/metrics.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from switchboard.domain.errors import ValidationError
from switchboard.domain.events import Event
from switchboard.metrics import EXPORT_NAMES, ReportParams, compute_report
from switchboard.metrics.params import AGENT_TIME_NAMES
from switchboard.store import log


def zone(name: str) -> tzinfo:
    """The IANA zone ``name``; a ValidationError naming ``tz`` otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {name!r} (use an IANA name such as "
                              "Europe/Rome)", field="tz") from None


def instant(value: str, tz: tzinfo, field: str) -> float:
    """POSIX seconds from ``value``: a number, or an ISO 8601 date or date-time
    (local to ``tz`` when it has no offset)."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("give POSIX seconds or an ISO 8601 date or date-time",
                              field=field) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.timestamp()


def day_start(now: float, tz: tzinfo) -> float:
    """The POSIX time of local midnight (in ``tz``) of the day containing ``now``."""
    local = datetime.fromtimestamp(now, tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def day_end(start: float, tz: tzinfo) -> float:
    """The next local midnight after ``start`` (23 or 25 hours on DST days)."""
    local = datetime.fromtimestamp(start, tz).date() + timedelta(days=1)
    return datetime(local.year, local.month, local.day, tzinfo=tz).timestamp()


def report(conn: Connection, tenant_id: str, by: str, start: float, end: float,
           params: ReportParams) -> list[dict[str, Any]]:
    """The ``by`` report over the tenant's events with ``start <= at < end``."""
    if not start < end:
        raise ValidationError("must be after from", field="to")
    events = (Event.from_dict(p) for p in log.events_between(conn, tenant_id, start, end))
    return list(compute_report(events, by, params))


def names(by: str) -> list[str]:
    """The CSV columns of a ``by`` report."""
    return ["key", *EXPORT_NAMES, *(AGENT_TIME_NAMES if by == "agent" else ())]


def today(conn: Connection, tenant_id: str, queue_id: str, now: float, tz: tzinfo,
          sl_threshold_s: float) -> dict[str, Any]:
    """Today's METRICS.md figures of one queue (the ``queue`` report's row from
    local midnight; every figure null-or-zero when the queue had no contact)."""
    start = day_start(now, tz)
    params = ReportParams(tz=tz, sl_threshold_s=sl_threshold_s)
    rows = report(conn, tenant_id, "queue", start, day_end(start, tz), params)
    row = next((r for r in rows if r["key"] == queue_id), None)
    if row is None:
        row = {n: None for n in EXPORT_NAMES}
        row.update({k: 0 for k in ("contacts", "offered", "answered", "abandoned",
                                   "short_abandoned", "rna", "transfers", "overflows",
                                   "callbacks")})
        row.update(sl_threshold_s=sl_threshold_s, sl_formula=params.sl_formula)
    out = {k: v for k, v in row.items() if k != "key"}
    out["from"] = start
    return out
