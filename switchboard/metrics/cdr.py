"""The CDR row (one per interaction and queue leg) and its exchange format.

METRICS.md fixes the CSV columns. This module parses one record (a mapping of
column name to text) into a :class:`CdrRow` and says why a record contradicts
itself; reading files is the shell's job (:mod:`switchboard.metrics.io_cdr`).
The columnar reader (:mod:`switchboard.metrics.columnar`) applies the very same
grammar and checks, in the same order, in SQL.

Time stamps: ``YYYY-MM-DD``, optionally ``T`` or a space and ``HH:MM``,
``:SS`` and a fraction (``.`` then 1 to 9 digits; past 6 they are cut), then
optionally an offset ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM`` (only after a
time). Naive ones are wall times in the tenant's zone (see
:mod:`switchboard.metrics.tz`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from switchboard.metrics.params import US
from switchboard.metrics.tz import TzTable, naive_to_us

REQUIRED_COLUMNS: tuple[str, ...] = ("id", "arrived_at")
TIME_COLUMNS: tuple[str, ...] = (
    "arrived_at", "enqueued_at", "answered_at", "abandoned_at", "ended_at",
)
TEXT_COLUMNS: tuple[str, ...] = (
    "channel", "direction", "queue", "agent", "customer", "disposition",
)
SECONDS_COLUMNS: tuple[str, ...] = ("hold_s", "wrapup_s")
COUNT_COLUMNS: tuple[str, ...] = ("rna", "transfers", "overflows", "callbacks")
SCORE_COLUMNS: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10)}
#: The column order ``export cdr`` writes.
CSV_COLUMNS: tuple[str, ...] = (
    "id", "channel", "direction", "queue", "agent", "customer", "disposition",
    *TIME_COLUMNS, *SECONDS_COLUMNS, *COUNT_COLUMNS, *SCORE_COLUMNS,
)

# Shared with the SQL reader: keep the two in step.
TIME_PATTERN = (
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ]([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.(\d{1,9}))?)?"
    r"(Z|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?"
)
SECONDS_PATTERN = r"\d{1,12}(?:\.\d{0,9})?|\.\d{1,9}"
COUNT_PATTERN = r"\d{1,9}"
# ASCII: \d is 0-9 only, as in the SQL reader (RE2), not any Unicode digit.
_TIME_RE = re.compile(TIME_PATTERN, re.ASCII)
_SECONDS_RE = re.compile(SECONDS_PATTERN, re.ASCII)
_COUNT_RE = re.compile(COUNT_PATTERN, re.ASCII)
_MICRO = Decimal("0.000001")


class RowError(ValueError):
    """A CDR record contradicts itself; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class CdrRow:
    """One interaction leg. Times are microseconds since the epoch (UTC),
    ``None`` when it did not happen; durations are whole microseconds."""

    id: str
    arrived_at: int
    channel: str = "voice"
    direction: str = "inbound"
    queue: str = ""
    agent: str = ""
    customer: str = ""
    disposition: str = ""
    enqueued_at: int | None = None
    answered_at: int | None = None
    abandoned_at: int | None = None
    ended_at: int | None = None
    hold_us: int = 0
    wrapup_us: int = 0
    rna: int = 0
    transfers: int = 0
    overflows: int = 0
    callbacks: int = 0
    csat: int | None = None
    nps: int | None = None

    @property
    def queued(self) -> bool:
        return self.enqueued_at is not None

    @property
    def wait_us(self) -> int | None:
        """METRICS.md: answered (or abandoned) minus enqueued; None otherwise."""
        if self.enqueued_at is None:
            return None
        if self.answered_at is not None:
            return self.answered_at - self.enqueued_at
        if self.abandoned_at is not None:
            return self.abandoned_at - self.enqueued_at
        return None


def parse_time(text: str, tz: TzTable) -> tuple[int, bool]:
    """(instant in microseconds, whether the text had an offset); ValueError if bad."""
    m = _TIME_RE.fullmatch(text)
    if m is None:
        raise ValueError(text)
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    wall = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro)
    wall_us = naive_to_us(wall)
    if off is None:
        return tz.wall_to_utc(wall_us), False
    if off == "Z":
        return wall_us, True
    digits = off[1:].replace(":", "")
    off_us = (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60) * US
    return wall_us - (off_us if off[0] == "+" else -off_us), True


def parse_seconds(text: str) -> int:
    """Seconds as text to whole microseconds (half away from zero); ValueError if bad."""
    if _SECONDS_RE.fullmatch(text) is None:
        raise ValueError(text)
    return int(Decimal(text).quantize(_MICRO, rounding=ROUND_HALF_UP) * US)


def parse_record(rec: Mapping[str, str | None], tz: TzTable) -> tuple[CdrRow, bool]:
    """One CSV record to a row, and whether any time stamp had an offset.

    Raises :class:`RowError` with the first problem found, in this order:
    missing id or arrived_at, a bad time stamp, a bad number, then the
    contradictions of :func:`contradiction`.
    """

    def get(name: str) -> str:
        value = rec.get(name)
        # spaces only, as the SQL reader trims (a tab is part of the value)
        return "" if value is None else value.strip(" ")

    if not get("id"):
        raise RowError("id is required")
    if not get("arrived_at"):
        raise RowError("arrived_at is required")
    times: dict[str, int | None] = {}
    had_offset = False
    for name in TIME_COLUMNS:
        text = get(name)
        if not text:
            times[name] = None
            continue
        try:
            times[name], off = parse_time(text, tz)
        except ValueError:
            raise RowError(f"{name}: not an ISO 8601 time stamp: {text!r}") from None
        had_offset = had_offset or off
    numbers: dict[str, int] = {}
    for name in SECONDS_COLUMNS:
        text = get(name)
        try:
            numbers[name] = parse_seconds(text) if text else 0
        except ValueError:
            raise RowError(f"{name}: not a number of seconds >= 0: {text!r}") from None
    for name in COUNT_COLUMNS:
        text = get(name)
        if text and _COUNT_RE.fullmatch(text) is None:
            raise RowError(f"{name}: not a whole number >= 0: {text!r}")
        numbers[name] = int(text) if text else 0
    scores: dict[str, int | None] = {}
    for name, (lo, hi) in SCORE_COLUMNS.items():
        text = get(name)
        if text and (_COUNT_RE.fullmatch(text) is None or not lo <= int(text) <= hi):
            raise RowError(f"{name}: not a whole number from {lo} to {hi}: {text!r}")
        scores[name] = int(text) if text else None
    arrived = times["arrived_at"]
    assert arrived is not None
    row = CdrRow(
        id=get("id"), channel=get("channel") or "voice",
        direction=get("direction") or "inbound", queue=get("queue"), agent=get("agent"),
        customer=get("customer"), disposition=get("disposition"), arrived_at=arrived,
        enqueued_at=times["enqueued_at"], answered_at=times["answered_at"],
        abandoned_at=times["abandoned_at"], ended_at=times["ended_at"],
        hold_us=numbers["hold_s"], wrapup_us=numbers["wrapup_s"], rna=numbers["rna"],
        transfers=numbers["transfers"], overflows=numbers["overflows"],
        callbacks=numbers["callbacks"], csat=scores["csat"], nps=scores["nps"],
    )
    reason = contradiction(row)
    if reason is not None:
        raise RowError(reason)
    return row, had_offset


def contradiction(row: CdrRow) -> str | None:
    """Why the row contradicts itself, or None. The checks, in order:
    answered and abandoned; enqueued, answered, abandoned or ended before
    arrived; answered or abandoned before enqueued; ended before answered;
    hold longer than the connection."""
    arr, enq, ans, abd, end = (row.arrived_at, row.enqueued_at, row.answered_at,
                               row.abandoned_at, row.ended_at)
    if ans is not None and abd is not None:
        return "answered and abandoned"
    for name, t in (("enqueued", enq), ("answered", ans), ("abandoned", abd), ("ended", end)):
        if t is not None and t < arr:
            return f"{name} before arrived"
    if enq is not None:
        if ans is not None and ans < enq:
            return "answered before enqueued"
        if abd is not None and abd < enq:
            return "abandoned before enqueued"
    if ans is not None and end is not None:
        if end < ans:
            return "ended before answered"
        if row.hold_us > end - ans:
            return "hold_s longer than the connection"
    return None
