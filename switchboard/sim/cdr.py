"""Samples taken from a CDR file (METRICS.md's CSV exchange format) for the
simulator: arrival offsets to replay, and observed durations for empirical
distributions. Text comes in (the caller reads the file); nothing is written.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC

from switchboard.domain.errors import ValidationError
from switchboard.metrics.cdr import CSV_COLUMNS, RowError, parse_record
from switchboard.metrics.params import US
from switchboard.metrics.tz import TzTable

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
    """What the simulator samples from one CDR row, in POSIX seconds."""

    queue: str
    arrived: float  # naive time stamps are read as UTC
    enqueued: float | None
    answered: float | None
    abandoned: float | None
    ended: float | None
    hold_s: float
    wrapup_s: float


_UTC = TzTable(UTC)
_COLUMNS = frozenset(CSV_COLUMNS)


def _s(us: int | None) -> float | None:
    return None if us is None else us / US


def parse_cdr(text: str, source: str) -> list[CdrRow]:
    """Parse CDR CSV text with the metrics package's reader (one definition of
    the format and its contradictions); raise :class:`CdrError` at the first
    unusable row."""
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    for required in ("id", "arrived_at"):
        if required not in header:
            raise CdrError(source, 1, required, "required column is missing")
    rows: list[CdrRow] = []
    for rec in reader:
        try:
            row, _ = parse_record(rec, _UTC)
        except RowError as exc:
            column, _, detail = exc.reason.partition(": ")
            if column in _COLUMNS and detail:
                raise CdrError(source, reader.line_num, column, detail) from None
            raise CdrError(source, reader.line_num, "row", exc.reason) from None
        arrived = _s(row.arrived_at)
        assert arrived is not None
        rows.append(CdrRow(queue=row.queue, arrived=arrived, enqueued=_s(row.enqueued_at),
                           answered=_s(row.answered_at), abandoned=_s(row.abandoned_at),
                           ended=_s(row.ended_at), hold_s=row.hold_us / US,
                           wrapup_s=row.wrapup_us / US))
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
