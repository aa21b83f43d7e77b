"""Reports from the event log: ``GET /api/v1/reports/{by}`` and today's queue figures.

A report reads the tenant's logged events with ``from <= at < to``
(``Event.from_dict``) and hands them to the pure metrics package
(``compute_report``). A queue's ``today`` figures in ``/queues/{id}/stats``
come from :class:`TodayFigures`: a :class:`LiveMetrics` per tenant, zone and
service-level threshold, loaded once from the day's logged events and then fed
by the runtime with every committed event, O(1) per event instead of a whole
day's events per request. ``LiveMetrics.rows`` equals ``compute_report`` over
the same events (a property test in tests/metrics), so the figures are the
``queue`` report's for the same day.

:func:`export` writes report rows as a download: CSV (the CLI's columns),
XLSX (openpyxl: numbers as numbers, ratios formatted as percentages, a second
sheet with the report's parameters) or Parquet (the CLI's typed columns and
metadata, through :func:`switchboard.metrics.output.write_parquet`).
"""

from __future__ import annotations

import io
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from switchboard.domain.errors import ValidationError
from switchboard.domain.events import Event
from switchboard.metrics import EXPORT_NAMES, ReportParams, compute_report
from switchboard.metrics.output import to_csv, write_parquet
from switchboard.metrics.params import AGENT_TIME_NAMES
from switchboard.metrics.streaming import LiveMetrics
from switchboard.store import log


def zone(name: str) -> tzinfo:
    """The IANA zone ``name``; a ValidationError naming ``tz`` otherwise."""
    try:
        if not 0 < len(name) <= 64:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"unknown time zone {name[:64]!r} (use an IANA name such as "
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
    try:
        return when.timestamp()
    except (OverflowError, ValueError):
        raise ValidationError("out of range", field=field) from None


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


#: download formats: media type and file suffix
EXPORTS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}
_RATIOS = {"abandon_rate", "self_service_rate", "service_level", "hold_rate", "occupancy",
           "utilization", "shrinkage", "adherence", "fcr_rate"}


def export(rows: Sequence[dict[str, Any]], by: str, fmt: str,
           meta: dict[str, Any]) -> bytes:
    """The ``by`` report's rows as a ``fmt`` file (one of :data:`EXPORTS`);
    ``meta`` (period, zone, parameters) goes in the XLSX's second sheet and the
    Parquet file's metadata."""
    cols = names(by)
    if fmt == "csv":
        return to_csv(rows, cols).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        write_parquet(rows, cols, buf, meta)
        return buf.getvalue()
    if fmt == "xlsx":
        return _xlsx(rows, by, cols, meta)
    raise ValidationError(f"must be one of json, {', '.join(EXPORTS)}", field="format")


def file_name(by: str, start: str, end: str, suffix: str) -> str:
    """``switchboard-queue-2025-01-01-2025-02-01.xlsx``: the period as it was asked
    for, with anything but letters, digits and ``-`` made ``_``."""
    def clean(text: str) -> str:
        return re.sub(r"[^0-9A-Za-z-]", "_", text)[:40]
    return f"switchboard-{by}-{clean(start)}-{clean(end)}.{suffix}"


def _xlsx(rows: Sequence[dict[str, Any]], by: str, cols: list[str],
          meta: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = by
    sheet.append(cols)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "B2"
    for r in rows:
        sheet.append([_excel(r.get(n)) for n in cols])
    for j, name in enumerate(cols, start=1):
        if name in _RATIOS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = "0.0%"
    sheet.column_dimensions["A"].width = 26
    about = book.create_sheet("parameters")
    for key, value in meta.items():
        about.append([key, value if isinstance(value, int | float | str) else
                      json.dumps(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _excel(value: Any) -> Any:
    if isinstance(value, float) and value != value:  # NaN: an empty cell
        return None
    return value


class TodayFigures:
    """Live ``queue`` report rows since local midnight, per (tenant, zone, SL
    threshold): loaded from the log on first use (and on a new day), then fed
    by :meth:`feed` (a runtime listener) with each committed event."""

    MAX_ENTRIES = 64

    def __init__(self) -> None:
        self._live: OrderedDict[tuple[str, str, float],
                                tuple[float, float, LiveMetrics]] = OrderedDict()

    def feed(self, tenant_id: str, events: list[Event]) -> None:
        """Take a tenant's newly committed events (in log order) into account."""
        for key, (start, end, live) in list(self._live.items()):
            if key[0] != tenant_id:
                continue
            try:
                for ev in events:
                    if start <= ev.at < end:
                        live.apply(ev)
            except Exception:
                del self._live[key]  # rebuilt from the log on the next request
                raise

    def rows(self, conn: Connection, tenant_id: str, tz: tzinfo, now: float,
             sl_threshold_s: float) -> list[dict[str, Any]]:
        """Today's ``queue`` report rows of the tenant (local day of ``now`` in ``tz``)."""
        return list(self.live(conn, tenant_id, tz, now, sl_threshold_s)[2].rows("queue"))

    def live(self, conn: Connection, tenant_id: str, tz: tzinfo, now: float,
             sl_threshold_s: float) -> tuple[float, float, LiveMetrics]:
        """(day start, day end, metrics) of the local day of ``now`` in ``tz``:
        the metrics give any row kind (``queue``, ``interval``...)."""
        start = day_start(now, tz)
        key = (tenant_id, str(tz), sl_threshold_s)
        entry = self._live.get(key)
        if entry is None or entry[0] != start:
            end = day_end(start, tz)
            live = LiveMetrics(ReportParams(tz=tz, sl_threshold_s=sl_threshold_s))
            for payload in log.events_between(conn, tenant_id, start, end):
                live.apply(Event.from_dict(payload))
            entry = self._live[key] = (start, end, live)
            while len(self._live) > self.MAX_ENTRIES:
                self._live.popitem(last=False)
        self._live.move_to_end(key)
        return entry


def today(rows: list[dict[str, Any]], queue_id: str, start: float,
          sl_threshold_s: float) -> dict[str, Any]:
    """One queue's figures out of today's ``queue`` rows (counts 0 and ratios
    null when the queue had no contact yet)."""
    row = next((r for r in rows if r["key"] == queue_id), None)
    if row is None:
        row = {n: None for n in EXPORT_NAMES}
        row.update({k: 0 for k in ("contacts", "offered", "answered", "abandoned",
                                   "short_abandoned", "rna", "transfers", "overflows",
                                   "callbacks")})
        row.update(sl_threshold_s=sl_threshold_s, sl_formula=ReportParams().sl_formula)
    out = {k: v for k, v in row.items() if k != "key"}
    out["from"] = start
    return out
