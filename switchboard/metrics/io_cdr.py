"""Reading and writing CDR CSV files and ``--events`` JSON-lines files (shell).

:func:`read_cdr_csv` is the row-by-row reader (the reference the columnar
reader is tested against, and the one ``export``/round trips use); reports
over large files go through :mod:`switchboard.metrics.columnar`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from switchboard.domain.errors import ValidationError
from switchboard.domain.events import Event
from switchboard.metrics.cdr import CSV_COLUMNS, REQUIRED_COLUMNS, CdrRow, RowError, parse_record
from switchboard.metrics.params import US
from switchboard.metrics.tz import TzTable, format_offset, us_to_naive


@dataclass(slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(slots=True)
class CdrFile:
    """The rows read, whether any time stamp had an offset, the rows skipped."""

    rows: list[CdrRow]
    had_offset: bool
    skipped: list[BadRow] = field(default_factory=list)


def bad_file(bad: BadRow, path: Path) -> ValidationError:
    return ValidationError(f"{path}: line {bad.line}: {bad.reason}", field="cdr")


def read_cdr_csv(path: Path, tz: TzTable, *, skip_bad_rows: bool = False) -> CdrFile:
    """Read a CDR CSV. A self-contradicting row raises :class:`ValidationError`
    naming its line and reason, unless ``skip_bad_rows`` (then it is counted)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return _read(csv.reader(fh), path, tz, skip_bad_rows)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="cdr") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text", field="cdr") from None
    except csv.Error as exc:
        raise ValidationError(f"{path}: not a CSV file: {exc}", field="cdr") from None


def _read(reader: Any, path: Path, tz: TzTable, skip: bool) -> CdrFile:
    header = next(reader, None)
    if header is None:
        raise ValidationError(f"{path}: empty file (a header row is required)", field="cdr")
    names = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise ValidationError(f"{path}: line 1: missing column(s) {', '.join(missing)}",
                              field="cdr")
    out = CdrFile(rows=[], had_offset=False)
    seen: dict[str, int] = {}
    for fields in reader:
        line = int(reader.line_num)  # the record's last physical line
        if not fields or all(not f.strip() for f in fields):
            continue
        try:
            if len(fields) != len(names):
                raise RowError(f"{len(fields)} fields where the header has {len(names)}")
            row, off = parse_record(dict(zip(names, fields, strict=True)), tz)
            first = seen.get(row.id)
            if first is not None:
                raise RowError(f"duplicate id {row.id!r} (first on line {first})")
        except RowError as exc:
            bad = BadRow(line, exc.reason)
            if not skip:
                raise bad_file(bad, path) from None
            out.skipped.append(bad)
            continue
        seen[row.id] = line
        out.rows.append(row)
        out.had_offset = out.had_offset or off
    return out


def format_time(us: int | None, tz: TzTable) -> str:
    """ISO 8601 in the tenant's zone with its offset (microseconds only if any)."""
    if us is None:
        return ""
    local, off = tz.local(us)
    dt = us_to_naive(local)
    text = dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")
    return text + format_offset(off)


def _seconds(us: int) -> str:
    if us % US == 0:
        return str(us // US)
    return f"{us / US:.6f}".rstrip("0")


def write_cdr_csv(rows: Sequence[CdrRow], path: Path, tz: TzTable) -> None:
    """Write rows in the METRICS.md CDR format (with the optional columns)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in rows:
            w.writerow([
                r.id, r.channel, r.direction, r.queue, r.agent, r.customer, r.disposition,
                format_time(r.arrived_at, tz), format_time(r.enqueued_at, tz),
                format_time(r.answered_at, tz), format_time(r.abandoned_at, tz),
                format_time(r.ended_at, tz), _seconds(r.hold_us), _seconds(r.wrapup_us),
                r.rna, r.transfers, r.overflows, r.callbacks,
                "" if r.csat is None else r.csat, "" if r.nps is None else r.nps,
            ])


def read_events_jsonl(path: Path) -> list[Event]:
    """Read an ``--events`` file (one ``Event.to_dict()`` JSON object a line)."""
    events: list[Event] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="events") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{path}: line {n}: not JSON: {exc.msg}",
                                  field="events") from None
        if not isinstance(data, dict):
            raise ValidationError(f"{path}: line {n}: not a JSON object", field="events")
        try:
            events.append(Event.from_dict(data))
        except ValidationError as exc:
            raise ValidationError(f"{path}: line {n}: {exc}", field="events") from None
    return events


def read_queue_log(path: Path, tz: tzinfo) -> tuple[list[Event], list[str]]:
    """Import an Asterisk queue_log file: (events, problems with line numbers)."""
    from switchboard.metrics.queue_log import parse_queue_log

    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return parse_queue_log(fh, tz)
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="queue_log") from None
