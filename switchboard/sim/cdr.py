"""Samples taken from a CDR file (METRICS.md's CSV exchange format) for the
simulator: arrival offsets to replay, and observed durations for empirical
distributions. Text comes in (the caller reads the file); nothing is written.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime

from switchboard.domain.errors import ValidationError

# Durations an empirical distribution may take from a CDR, by name.
CDR_FIELDS = ("handle", "talk", "wrapup", "abandon_wait")


class CdrError(ValidationError):
    """A CDR row that cannot be used: names the file, line and column."""

    def __init__(self, source: str, line: int, column: str, message: str) -> None:
        super().__init__(message, field=column)
        self.source = source
        self.line = line

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class CdrRow:
    queue: str
    arrived: float  # POSIX seconds (naive time stamps read as UTC)
    enqueued: float | None
    answered: float | None
    abandoned: float | None
    ended: float | None
    hold_s: float
    wrapup_s: float


def _time(text: str, source: str, line: int, column: str) -> float | None:
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise CdrError(source, line, column, f"not an ISO 8601 time stamp: {text!r}") from None
    if dt.tzinfo is None:
        return (dt - datetime(1970, 1, 1)).total_seconds()
    return dt.timestamp()


def _seconds(text: str, source: str, line: int, column: str) -> float:
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise CdrError(source, line, column, f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise CdrError(source, line, column, f"must be seconds >= 0, got {text!r}")
    return value


def parse_cdr(text: str, source: str) -> list[CdrRow]:
    """Parse CDR CSV text; raise :class:`CdrError` at the first unusable row."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for required in ("id", "arrived_at"):
        if required not in header:
            raise CdrError(source, 1, required, "required column is missing")
    rows: list[CdrRow] = []
    for rec in reader:
        line = reader.line_num

        def t(col: str, rec: dict[str, str] = rec, line: int = line) -> float | None:
            return _time((rec.get(col) or "").strip(), source, line, col)

        arrived = t("arrived_at")
        if arrived is None:
            raise CdrError(source, line, "arrived_at", "is required")
        row = CdrRow(queue=(rec.get("queue") or "").strip(), arrived=arrived,
                     enqueued=t("enqueued_at"), answered=t("answered_at"),
                     abandoned=t("abandoned_at"), ended=t("ended_at"),
                     hold_s=_seconds((rec.get("hold_s") or "").strip(), source, line, "hold_s"),
                     wrapup_s=_seconds((rec.get("wrapup_s") or "").strip(), source, line,
                                       "wrapup_s"))
        if row.answered is not None and row.abandoned is not None:
            raise CdrError(source, line, "abandoned_at", "a row cannot be answered and abandoned")
        if row.answered is not None and row.ended is not None and row.ended < row.answered:
            raise CdrError(source, line, "ended_at", "ends before it was answered")
        rows.append(row)
    if not rows:
        raise CdrError(source, 2, "id", "the file has no rows")
    return rows


def arrival_offsets(rows: list[CdrRow], queue: str | None = None) -> tuple[float, ...]:
    """Seconds from midnight (UTC / naive) of the first row's day, sorted."""
    picked = [r.arrived for r in rows if queue is None or r.queue == queue]
    if not picked:
        return ()
    first = min(picked)
    midnight = first - first % 86400.0
    return tuple(sorted(t - midnight for t in picked))


def durations(rows: list[CdrRow], name: str, queue: str | None = None) -> list[float]:
    """Observed durations: ``handle`` (ended − answered), ``talk`` (handle −
    hold), ``wrapup`` (wrapup_s of answered rows), ``abandon_wait`` (abandoned −
    enqueued, or − arrived when never enqueued)."""
    out: list[float] = []
    for r in rows:
        if queue is not None and r.queue != queue:
            continue
        if name in ("handle", "talk") and r.answered is not None and r.ended is not None:
            span = r.ended - r.answered
            out.append(max(0.0, span - r.hold_s) if name == "talk" else span)
        elif name == "wrapup" and r.answered is not None:
            out.append(r.wrapup_s)
        elif name == "abandon_wait" and r.abandoned is not None:
            start = r.enqueued if r.enqueued is not None else r.arrived
            out.append(max(0.0, r.abandoned - start))
    return out
