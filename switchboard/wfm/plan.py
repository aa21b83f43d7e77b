"""The intervals CSV of a staffing plan: parsing and validation (pure, text in).

Format (docs/erlang.md): a header row naming at least ``interval_start``,
``volume`` and ``aht`` (any order, other columns ignored), then one row per
interval. ``volume`` is the forecast contacts (>= 0, fractions allowed),
``aht`` the average handle time in seconds (> 0; may be empty or 0 on a
closed interval, volume 0). ``interval_start`` is any non-empty label, unique;
when it is an ISO 8601 time stamp and the spacing is even, the interval length
can be inferred from it. Any bad row rejects the whole file, with its line
number and column in the error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from switchboard.domain.errors import ValidationError
from switchboard.wfm.erlang import FloatArray

REQUIRED = ("interval_start", "volume", "aht")


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    """The parsed rows of an intervals CSV, in file order."""

    starts: tuple[str, ...]
    volume: FloatArray
    aht_s: FloatArray
    lines: tuple[int, ...]


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"must be a number, got {text!r}", field=where) from None
    if not math.isfinite(value):
        raise ValidationError(f"must be a finite number, got {text!r}", field=where)
    return value


def parse_intervals_csv(text: str, source: str = "intervals") -> IntervalPlan:
    """Parse an intervals CSV; raise ValidationError naming the line and column."""
    rows = csv.reader(text.splitlines())
    try:
        header = next(rows, None)
        if header is None:
            raise ValidationError(
                "is empty: expected a header row interval_start,volume,aht", field=source
            )
        names = [h.strip().lower() for h in header]
        for col in REQUIRED:
            if col not in names:
                raise ValidationError(
                    f"missing column {col!r} (the header needs interval_start,volume,aht)",
                    field=f"{source} line 1",
                )
        pos = {col: names.index(col) for col in REQUIRED}
        starts: list[str] = []
        volumes: list[float] = []
        ahts: list[float] = []
        lines: list[int] = []
        seen: dict[str, int] = {}
        for fields in rows:
            line = rows.line_num
            if not fields or all(not f.strip() for f in fields):
                continue
            if len(fields) != len(names):
                raise ValidationError(
                    f"expected {len(names)} fields, got {len(fields)}",
                    field=f"{source} line {line}",
                )
            start = fields[pos["interval_start"]].strip()
            if not start:
                raise ValidationError(
                    "must not be empty", field=f"{source} line {line}: interval_start"
                )
            if start in seen:
                raise ValidationError(
                    f"repeats line {seen[start]} ({start!r})",
                    field=f"{source} line {line}: interval_start",
                )
            seen[start] = line
            volume = _number(fields[pos["volume"]].strip(), f"{source} line {line}: volume")
            if volume < 0:
                raise ValidationError(
                    f"must be >= 0, got {volume!r}", field=f"{source} line {line}: volume"
                )
            aht_text = fields[pos["aht"]].strip()
            aht = (
                0.0
                if volume == 0 and not aht_text
                else _number(aht_text, f"{source} line {line}: aht")
            )
            if aht < 0 or (aht == 0 and volume > 0):
                raise ValidationError(
                    f"must be > 0 seconds when volume > 0, got {aht_text!r}",
                    field=f"{source} line {line}: aht",
                )
            starts.append(start)
            volumes.append(volume)
            ahts.append(aht)
            lines.append(line)
    except csv.Error as exc:
        raise ValidationError(
            f"is not valid CSV: {exc}", field=f"{source} line {rows.line_num}"
        ) from None
    if not starts:
        raise ValidationError("has a header but no interval rows", field=source)
    return IntervalPlan(
        starts=tuple(starts),
        volume=np.array(volumes, dtype=np.float64),
        aht_s=np.array(ahts, dtype=np.float64),
        lines=tuple(lines),
    )


def infer_period_s(plan: IntervalPlan, source: str = "intervals") -> float:
    """The interval length from evenly spaced ISO 8601 ``interval_start`` values.

    Raises ValidationError when there is a single row, a start is not a time
    stamp, or the spacing is uneven (naming the line).
    """
    if len(plan.starts) < 2:
        raise ValidationError(
            "cannot be inferred from a single interval; give it", field="period_s"
        )
    stamps: list[datetime] = []
    for start, line in zip(plan.starts, plan.lines, strict=True):
        try:
            stamps.append(datetime.fromisoformat(start))
        except ValueError:
            raise ValidationError(
                f"is not an ISO 8601 time stamp ({start!r}), so the interval length "
                "cannot be inferred: give the period",
                field=f"{source} line {line}: interval_start",
            ) from None
    try:
        step = (stamps[1] - stamps[0]).total_seconds()
        for i in range(1, len(stamps)):
            gap = (stamps[i] - stamps[i - 1]).total_seconds()
            if gap != step or gap <= 0:
                raise ValidationError(
                    f"is {gap:g} s after the previous interval, expected {step:g} s "
                    "(uneven spacing: give the period)",
                    field=f"{source} line {plan.lines[i]}: interval_start",
                )
    except TypeError:
        raise ValidationError(
            "mixes time stamps with and without a UTC offset",
            field=f"{source} line {plan.lines[0]}: interval_start",
        ) from None
    return step
