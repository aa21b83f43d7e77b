"""A CDR CSV file as typed Arrow columns, for the columnar report (shell).

DuckDB's CSV reader is fast, but checking each time stamp against the grammar
of :mod:`switchboard.metrics.cdr` in SQL (a regular expression per value)
costs more than everything else together. Arrow's CSV reader (multithreaded)
reads the file as text, and Arrow's ISO 8601 parser (``cast`` to a timestamp)
accepts almost exactly that grammar: ``YYYY-MM-DD``, optionally ``T`` or a
space and ``hh:mm``, ``:ss`` and 1 to 6 fraction digits (at microsecond
unit), then optionally ``Z``, ``+hh``, ``+hhmm`` or ``+hh:mm``, with every
digit a digit, hours < 24, minutes and seconds < 60 and a real calendar date
(Apache Arrow, ``cpp/src/arrow/util/value_parsing.h``,
``ParseTimestampISO8601``). It also accepts two things the grammar does not:
an hour without minutes (``2024-05-01T09``, with or without an offset) and
the year 0000; :func:`_timestamps` rules both out. Grammar-valid values that
Arrow does not take (7 to 9 fraction digits, surrounding spaces, naive and
offset time stamps in one column) leave the whole column as text, which the
SQL checks then parse exactly as before: a column is typed here only when
every one of its values is a grammar-valid time stamp that Arrow read to the
same instant.

Numbers (``hold_s``, ``wrapup_s``, counts, survey answers) become integers
when every value is plain ASCII digits (up to 12 for seconds, 9 for counts);
otherwise (a fraction, a sign, a space) the column stays text.

Anything Arrow cannot read (a ragged row, bad UTF-8, a header it reads
differently from Python's ``csv``) returns ``None``: the caller reads the
file with DuckDB instead, whose errors name the line.
"""

from __future__ import annotations

import csv
import mmap
import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from switchboard.metrics.cdr import (
    COUNT_COLUMNS,
    CSV_COLUMNS,
    SCORE_COLUMNS,
    SECONDS_COLUMNS,
    TIME_COLUMNS,
)

# 0001-01-01T00:00:00 in microseconds since the epoch; a day later for
# instants (an offset moves a year-0001 wall time back by up to 24 h).
_YEAR_1_US = -62135596800 * 1_000_000
_DAY_US = 86400 * 1_000_000
_BLOCK = 1 << 24
_NAIVE = pa.timestamp("us")
_ZONED = pa.timestamp("us", "UTC")


def read_typed(path: Path, max_bytes: int,
               columns: Collection[str] = CSV_COLUMNS) -> pa.Table | None:
    """The file's CDR columns among ``columns`` (named as in METRICS.md,
    unknown ones left out: a report by interval needs no queue names), typed
    where that is exact; ``None`` if Arrow cannot read it or the file is
    larger than ``max_bytes``."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        header = _header(path)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    if header is None:
        return None
    stripped = [h.strip() for h in header]
    wanted = [s for s in stripped if s in CSV_COLUMNS]
    if len(set(wanted)) != len(wanted):
        return None
    raw = {s: h for h, s in zip(header, stripped, strict=True) if s in columns}
    try:
        quoted = _has_quotes(path)
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(block_size=_BLOCK),
            parse_options=pcsv.ParseOptions(newlines_in_values=quoted),
            convert_options=pcsv.ConvertOptions(
                include_columns=list(raw.values()),
                column_types={h: pa.string() for h in raw.values()},
                null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=True))
    except (pa.ArrowException, OSError):
        return None
    if table.column_names != list(raw.values()):
        return None
    table = table.rename_columns(list(raw))
    # One column per thread: Arrow's kernels release the GIL.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        typed = list(pool.map(_typed, table.column_names, table.columns))
    for i, (name, col) in enumerate(zip(table.column_names, typed, strict=True)):
        if col is not None:
            table = table.set_column(i, name, col)
    return table


def _typed(name: str, col: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The column typed, or None to leave it as text."""
    if name in TIME_COLUMNS:
        return _timestamps(col)
    if name in SECONDS_COLUMNS:
        return _digits(col, 12)
    if name in COUNT_COLUMNS or name in SCORE_COLUMNS:
        return _digits(col, 9)
    return None


def _has_quotes(path: Path) -> bool:
    """Whether the file has a ``"`` anywhere. Without one no value can hold a
    line break, and Arrow may split the file at any line break to parse the
    pieces in parallel (much faster than finding quoted ones first)."""
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b'"') != -1


def _header(path: Path) -> list[str] | None:
    """The header record as Python's ``csv`` reads it (BOM removed); None when
    it spans lines (Arrow might split it differently)."""
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or reader.line_num != 1:
            return None
        return header


def _buffers(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(start offsets with one past the end, value bytes) of a string chunk."""
    kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(chunk.buffers()[1], dtype=kind, count=len(chunk) + 1,
                            offset=chunk.offset * np.dtype(kind).itemsize)
    data = chunk.buffers()[2]
    values = np.frombuffer(data, dtype=np.uint8) if data is not None else \
        np.zeros(0, dtype=np.uint8)
    return offsets, values


def _shapes_ok(col: pa.ChunkedArray) -> bool:
    """Every value is a date alone or has ``:`` at index 13 (``hh:mm``):
    rules out Arrow's hour-only forms (``YYYY-MM-DDThh`` with or without an
    offset), the one shape it parses that the grammar rejects. Nulls have
    length 0 and are skipped."""
    for chunk in col.chunks:
        if len(chunk) == 0:
            continue
        offsets, values = _buffers(chunk)
        starts = offsets[:-1]
        lengths = offsets[1:] - starts
        timed = lengths > 10
        if np.any(timed & (lengths < 16)):
            return False
        if np.any(values[starts[timed] + 13] != ord(":")):
            return False
    return True


def _timestamps(col: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """The column as naive timestamps (no value had an offset) or as UTC
    instants (every value had one), or None (stays text)."""
    first = _first_value(col)
    if first is None:
        return None
    zoned = first.endswith("Z") or any(c in first[16:] for c in "+-")
    for kind in ((_ZONED, _NAIVE) if zoned else (_NAIVE, _ZONED)):
        try:
            typed = pc.cast(col, kind)
        except pa.ArrowException:
            continue
        low = pc.min(typed).value
        if low is not None and low < _YEAR_1_US + (_DAY_US if kind.tz else 0):
            return None  # year 0000 (the grammar's years start at 0001)
        return typed if _shapes_ok(col) else None
    return None


def _first_value(col: pa.ChunkedArray) -> str | None:
    for chunk in col.chunks:
        valid = chunk.drop_null()
        if len(valid):
            return str(valid[0].as_py())
    return None


def _digits(col: pa.ChunkedArray, max_len: int) -> pa.ChunkedArray | None:
    """The column as int64 when every value is 1 to ``max_len`` ASCII digits."""
    if col.null_count == len(col):
        return None
    if not pc.all(pc.ascii_is_decimal(col)).as_py():
        return None
    longest = pc.max(pc.binary_length(col)).as_py()
    if longest is None or longest > max_len:
        return None
    try:
        return pc.cast(col, pa.int64())
    except pa.ArrowException:
        return None
