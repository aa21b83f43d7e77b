"""Reports over large CDR files (CSV or Parquet) with DuckDB.

The row-by-row reader (:mod:`switchboard.metrics.io_cdr`) builds a Python
object per row; this module never does. It turns the METRICS.md definitions
into one SQL pipeline: parse every column with the grammar of
:mod:`switchboard.metrics.cdr` (same regular expressions, same checks in the
same order), convert wall times to instants with the zone's offset changes
(a balanced ``CASE`` tree over :meth:`TzTable.transitions`, the PEP 495
``fold=0`` rule of :mod:`switchboard.metrics.tz`), then sum the
:class:`~switchboard.metrics.kpi.RowFacts` per group. :func:`finalize` then
divides exactly as the other paths do, so the figures are identical.

A CSV file that fits in memory is read by Arrow first
(:mod:`switchboard.metrics.arrow_csv`): its time stamps and numbers arrive
typed wherever that is exact, and the SQL of a typed column has nothing left
to parse or check; the others stay text and go through the SQL grammar.
Typed time stamps also bound the zone's changes to the data's span (a few
instead of 300 for a DST zone over 1900-2100).

The common case costs one scan for the figures and one for the ids: the
first aggregates without line numbers and counts bad rows (they fall in a
group of their own); the second hashes every id and numpy sorts the hashes
(beside the aggregation, in a thread) to prove all ids present and distinct.
Only when a row is bad or two hashes are equal (a repeat, or very rarely a
collision) does a third pass read the file with DuckDB, number its lines and
name the first bad row (or skip them all): the duplicate check stays exact.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from switchboard.domain.errors import ValidationError
from switchboard.metrics.arrow_csv import read_typed
from switchboard.metrics.batch import Report, report_from_tallies
from switchboard.metrics.cdr import (
    COUNT_COLUMNS,
    COUNT_PATTERN,
    REQUIRED_COLUMNS,
    SCORE_COLUMNS,
    SECONDS_COLUMNS,
    SECONDS_PATTERN,
    TIME_COLUMNS,
    TIME_PATTERN,
)
from switchboard.metrics.io_cdr import BadRow
from switchboard.metrics.kpi import Tally
from switchboard.metrics.params import US, ReportParams
from switchboard.metrics.tz import TzTable, day_key, interval_key

_TALLY_FIELDS: tuple[str, ...] = tuple(
    f for f in Tally.__dataclass_fields__ if f != "max_wait_us"
)
_RANGE = (datetime(1900, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


@dataclass(slots=True)
class ColumnarResult:
    report: Report
    rows: int
    had_offset: bool
    skipped: list[BadRow] = field(default_factory=list)
    skipped_count: int = 0


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case_tree(x: str, thresholds: Sequence[int], values: Sequence[int]) -> str:
    """SQL for: values[i] where thresholds[i-1] <= x < thresholds[i] (binary tree)."""

    def build(lo: int, hi: int) -> str:
        if lo == hi:
            return str(values[lo])
        mid = (lo + hi) // 2
        return (f"CASE WHEN {x} < {thresholds[mid]} THEN {build(lo, mid)} "
                f"ELSE {build(mid + 1, hi)} END")

    return build(0, len(values) - 1)


class _Zone:
    """SQL for the zone's offset at an instant and at a wall time."""

    def __init__(self, tz: TzTable, span: tuple[int, int] | None = None) -> None:
        """``span``: the instants the SQL will meet (None: all of 1900-2100);
        the fewer changes, the smaller the ``CASE`` trees."""
        lo = int(_RANGE[0].timestamp()) * US
        hi = int(_RANGE[1].timestamp()) * US
        if span is not None:  # the same offsets as the whole range gives inside it
            lo, hi = max(lo, min(span[0], hi)), min(hi, max(span[1], lo))
        first, trans = tz.transitions(lo, hi)
        self.values = [first, *(t.after_us for t in trans)]
        self.at_utc = [t.at_us for t in trans]
        self.at_wall = [t.at_us + max(t.before_us, t.after_us) for t in trans]
        #: the offset when the zone never changes in the range (UTC), else None
        self.constant = first if not trans else None

    def at_instant(self, x: str) -> str:
        return _case_tree(x, self.at_utc, self.values)

    def at_wall_time(self, x: str) -> str:
        return _case_tree(x, self.at_wall, self.values)


def _source(path: Path) -> str:
    p = _q(str(path))
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({p})"
    return (f"read_csv({p}, header=true, delim=',', quote='\"', escape='\"', "
            f"all_varchar=true)")


def _time_kind(cols: dict[str, str], name: str) -> str:
    """How a time column is held: ``zoned`` (instants), ``naive`` (wall
    times), ``text`` (parsed and checked in SQL) or ``missing``."""
    if name not in cols:
        return "missing"
    kind = cols[name].upper()
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return "zoned"
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return "naive"
    return "text"


class _Sql:
    """Builds the per-row SQL from the file's columns and types."""

    def __init__(self, cols: dict[str, str], raw: dict[str, str], params: ReportParams,
                 zone: _Zone) -> None:
        self.cols, self.raw, self.params, self.zone = cols, raw, params, zone

    def text(self, name: str) -> str:
        """The column as trimmed text, NULL when empty. Only values that start or
        end with a space pay for the trim (most do not)."""
        if name not in self.cols:
            return "NULL::VARCHAR"
        c = f"CAST({self.raw[name]} AS VARCHAR)"
        return (f"CASE WHEN {c} = '' THEN NULL WHEN prefix({c}, ' ') OR suffix({c}, ' ') "
                f"THEN nullif(trim({c}), '') ELSE {c} END")

    def time_kind(self, name: str) -> str:
        return _time_kind(self.cols, name)

    def parse_layer(self) -> list[str]:
        out = [f"{self.text('id')} AS id"]
        for name in ("channel", "direction", "queue", "agent", "customer", "disposition"):
            out.append(f"{self.text(name)} AS {name}")
        for name in TIME_COLUMNS:
            out.extend(self._time(name))
        for name in SECONDS_COLUMNS:
            if self._integer(name):
                c = self.raw[name]
                out += [f"{c} AS {name}_s", f"({c} IS NULL OR ({c} >= 0 AND {c} < 1000000000000)) "
                        f"AS {name}_ok", f"CAST(coalesce({c}, 0) AS BIGINT) * 1000000 AS {name}_us"]
                continue
            if name not in self.cols:
                out += [f"NULL::VARCHAR AS {name}_s", f"true AS {name}_ok", f"0 AS {name}_us"]
                continue
            s = self.text(name)
            out.append(f"{s} AS {name}_s")
            out.append(f"({s} IS NULL OR regexp_full_match({s}, {_q(SECONDS_PATTERN)})) "
                       f"AS {name}_ok")
            out.append(f"CASE WHEN regexp_full_match({s}, {_q(SECONDS_PATTERN)}) THEN "
                       f"CAST(CAST({s} AS DECIMAL(38,6)) * 1000000 AS BIGINT) ELSE 0 END "
                       f"AS {name}_us")
        for name in (*COUNT_COLUMNS, *SCORE_COLUMNS):
            if self._integer(name):
                c = self.raw[name]
                out += [f"{c} AS {name}_s", f"CASE WHEN {c} >= 0 AND {c} < 1000000000 THEN "
                        f"CAST({c} AS BIGINT) END AS {name}_n"]
                continue
            if name not in self.cols:
                out += [f"NULL::VARCHAR AS {name}_s", f"NULL::BIGINT AS {name}_n"]
                continue
            s = self.text(name)
            out.append(f"{s} AS {name}_s")
            out.append(f"CASE WHEN regexp_full_match({s}, {_q(COUNT_PATTERN)}) "
                       f"THEN CAST({s} AS BIGINT) END AS {name}_n")
        return out

    def _integer(self, name: str) -> bool:
        """A typed integer column (Parquet): no text to parse."""
        kind = self.cols.get(name, "VARCHAR").upper()
        return kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                        "UINTEGER", "UBIGINT")

    def _time(self, name: str) -> list[str]:
        """Typed columns need no checks: only their value is projected (the
        simpler the SQL, the less DuckDB evaluates per row)."""
        kind = self.time_kind(name)
        if kind == "missing":
            return []
        if kind == "zoned":
            return [f"epoch_us({self.raw[name]}) AS {name}_tz"]
        if kind == "naive":
            return [f"epoch_us(CAST({self.raw[name]} AS TIMESTAMP)) AS {name}_wall"]
        s = self.text(name)
        ok = (f"({s} IS NULL OR (regexp_full_match({s}, {_q(TIME_PATTERN)}) "
              f"AND substr({s}, 1, 4) <> '0000' AND try_cast({s} AS TIMESTAMP) IS NOT NULL))")
        off = (f"(length({s}) > 10 AND (right({s}, 1) = 'Z' OR substr({s}, -3, 1) IN ('+', '-')"
               f" OR substr({s}, -5, 1) IN ('+', '-') OR substr({s}, -6, 1) IN ('+', '-')))")
        return [f"{s} AS {name}_s", f"{ok} AS {name}_ok", f"coalesce({off}, false) AS {name}_off",
                f"epoch_us(try_cast({s} AS TIMESTAMP)) AS {name}_wall",
                f"epoch_us(try_cast({s} AS TIMESTAMPTZ)) AS {name}_tz"]

    def instant_layer(self) -> list[str]:
        out = ["*"]
        for name in TIME_COLUMNS:
            wall, kind = f"{name}_wall", self.time_kind(name)
            local = wall if self.zone.constant == 0 else \
                f"{wall} - ({self.zone.at_wall_time(wall)})"
            if kind == "missing":
                out.append(f"NULL::BIGINT AS {name[:-3]}")
            elif kind == "zoned":
                out.append(f"{name}_tz AS {name[:-3]}")
            elif kind == "naive":
                out.append(f"{local} AS {name[:-3]}")
            else:
                out.append(f"CASE WHEN NOT {name}_ok THEN NULL WHEN {name}_off THEN {name}_tz "
                           f"ELSE {local} END AS {name[:-3]}")
        return out

    def offset_flag(self) -> str:
        """SQL: the row has a time stamp with an offset."""
        terms = [f"{name}_off" if self.time_kind(name) == "text" else f"{name}_tz IS NOT NULL"
                 for name in TIME_COLUMNS if self.time_kind(name) in ("text", "zoned")]
        return " OR ".join(terms) if terms else "false"

    def checks(self) -> list[tuple[str, str]]:
        """(condition, SQL text of the reason) in :func:`parse_record`'s order;
        columns the file lacks cannot fail and are left out."""
        has = self.cols.__contains__
        out = [("id IS NULL", "'id is required'"),
               ("arrived_at_s IS NULL AND arrived IS NULL AND arrived_at_ok"
                if self.time_kind("arrived_at") == "text" else "arrived IS NULL",
                "'arrived_at is required'")]
        for name in TIME_COLUMNS:
            if self.time_kind(name) == "text":
                out.append((f"NOT {name}_ok", f"'{name}: not an ISO 8601 time stamp: ''' || "
                                              f"CAST({name}_s AS VARCHAR) || ''''"))
        for name in SECONDS_COLUMNS:
            if has(name):
                out.append((f"NOT {name}_ok", f"'{name}: not a number of seconds >= 0: ''' || "
                                              f"CAST({name}_s AS VARCHAR) || ''''"))
        for name in COUNT_COLUMNS:
            if has(name):
                out.append((f"{name}_s IS NOT NULL AND {name}_n IS NULL",
                            f"'{name}: not a whole number >= 0: ''' || "
                            f"CAST({name}_s AS VARCHAR) || ''''"))
        for name, (lo, hi) in SCORE_COLUMNS.items():
            if has(name):
                out.append((f"{name}_s IS NOT NULL AND ({name}_n IS NULL OR {name}_n < {lo} "
                            f"OR {name}_n > {hi})",
                            f"'{name}: not a whole number from {lo} to {hi}: ''' || "
                            f"CAST({name}_s AS VARCHAR) || ''''"))
        out += [
            ("answered IS NOT NULL AND abandoned IS NOT NULL", "'answered and abandoned'"),
            ("enqueued < arrived", "'enqueued before arrived'"),
            ("answered < arrived", "'answered before arrived'"),
            ("abandoned < arrived", "'abandoned before arrived'"),
            ("ended < arrived", "'ended before arrived'"),
            ("answered < enqueued", "'answered before enqueued'"),
            ("abandoned < enqueued", "'abandoned before enqueued'"),
            ("ended < answered", "'ended before answered'"),
            ("ended - answered < hold_s_us", "'hold_s longer than the connection'"),
        ]
        return out

    def reason(self) -> str:
        """The first problem of a row as text (NULL when none)."""
        return "CASE " + " ".join(f"WHEN {c} THEN {r}" for c, r in self.checks()) + " END"

    def bad_flag(self) -> str:
        """Cheaper than :meth:`reason`: 'bad' when the row has any problem but
        a missing id, which the id-hash query finds (:func:`_id_hashes`: the
        id's text is computed there anyway, and carrying it through this
        query costs a fifth of it)."""
        return "CASE WHEN " + " OR ".join(f"({c})" for c, _ in self.checks()[1:]) + \
            " THEN 'bad' END"

    def facts_layer(self) -> list[str]:
        p = self.params
        t, short = p.sl_threshold_us, p.short_abandon_us
        kt = "coalesce(enqueued, arrived)"
        return [
            "*",
            "enqueued IS NOT NULL AS q",
            "enqueued IS NOT NULL AND answered IS NOT NULL AS ans",
            "enqueued IS NOT NULL AND answered IS NULL AND abandoned IS NOT NULL AS abd",
            "CASE WHEN enqueued IS NULL THEN NULL WHEN answered IS NOT NULL "
            "THEN answered - enqueued WHEN abandoned IS NOT NULL THEN abandoned - enqueued "
            "END AS wait",
            f"{kt} AS kt",
            f"{kt} + ({self.zone.at_instant(kt)}) AS klocal",
            f"{self.zone.at_instant(kt)} AS koff",
            f"{t} AS t_us", f"{short} AS short_us",
        ]

    def sums(self) -> list[str]:
        """The Tally fields per group. ``count_if`` and ``sum(CASE ...)``
        rather than ``FILTER`` clauses where the condition is never NULL (a
        ``count_if`` over only NULLs is NULL): the same numbers (every group
        has a row, so no sum is NULL), about a tenth less work for DuckDB."""
        has = self.cols.__contains__
        return [
            "count(*) AS contacts",
            "count_if(NOT q AND answered IS NULL AND abandoned IS NULL) AS self_service",
            "count_if(q) AS offered",
            "count_if(ans) AS answered",
            "count_if(abd) AS abandoned",
            "count_if(abd AND wait < short_us) AS short_abandoned",
            "sum(CASE WHEN ans THEN wait ELSE 0 END) AS wait_answered_us",
            "sum(CASE WHEN abd THEN wait ELSE 0 END) AS wait_abandoned_us",
            "count_if(ans AND wait <= t_us) AS sl_met",
            "count_if(abd AND wait <= t_us) AS abandoned_within_t",
            "sum(CASE WHEN ans AND ended IS NOT NULL THEN ended - answered - hold_s_us "
            "ELSE 0 END) AS talk_us",
            "sum(CASE WHEN ans THEN hold_s_us ELSE 0 END) AS hold_us",
            "count_if(ans AND hold_s_us > 0) AS held",
            "sum(CASE WHEN ans THEN wrapup_s_us ELSE 0 END) AS wrapup_us",
            *(f"sum(CASE WHEN q THEN coalesce({c}_n, 0) ELSE 0 END) AS {c}" if has(c)
              else f"0 AS {c}" for c in COUNT_COLUMNS),
            *(("count_if(ans AND fcr_ok IS NOT NULL) AS fcr_base",
               "count(*) FILTER (ans AND fcr_ok) AS fcr_resolved") if has("customer")
              else ("0 AS fcr_base", "0 AS fcr_resolved")),
            *(("count_if(q AND csat_n IS NOT NULL) AS csat_n",
               "count(*) FILTER (q AND csat_n >= 4) AS csat_good") if has("csat")
              else ("0 AS csat_n", "0 AS csat_good")),
            *(("count_if(q AND nps_n IS NOT NULL) AS nps_n",
               "count(*) FILTER (q AND nps_n >= 9) AS nps_promoters",
               "count(*) FILTER (q AND nps_n <= 6) AS nps_detractors") if has("nps")
              else ("0 AS nps_n", "0 AS nps_promoters", "0 AS nps_detractors")),
            "max(CASE WHEN ans OR abd THEN wait END) AS max_wait_us",
        ]


def _group_cols(by: str, params: ReportParams) -> list[str]:
    if by in ("queue", "agent"):
        return [f"coalesce({by}, '')"]
    if by == "channel":
        return ["coalesce(channel, 'voice')"]
    if by == "day":
        return [f"floor(klocal / {86400 * US})::BIGINT"]
    return [f"(klocal - (klocal % {params.interval_us}))::BIGINT", "koff"]


def _pipeline(src: str, sql: _Sql, with_lines: bool) -> str:
    """The WITH clauses up to ``checked`` (each row with its ``reason``, or NULL).
    With line numbers, a repeated id is a reason too (the later rows)."""
    parse = ", ".join(sql.parse_layer())
    inst = ", ".join(sql.instant_layer())
    if with_lines:
        head = f"WITH src AS (SELECT row_number() OVER () + 1 AS line, * FROM {src}), "
        checked = (
            f"pre AS (SELECT *, {sql.reason()} AS pre_reason FROM inst), "
            "firsts AS (SELECT *, CASE WHEN pre_reason IS NULL THEN min(line) OVER "
            "(PARTITION BY id, pre_reason IS NULL) END AS dup_first FROM pre), "
            "checked AS (SELECT *, CASE WHEN pre_reason IS NOT NULL THEN pre_reason "
            "WHEN dup_first <> line THEN 'duplicate id ''' || id || ''' (first on line ' "
            "|| dup_first || ')' END AS reason FROM firsts)"
        )
        lines = "line, "
    else:
        head = f"WITH src AS (SELECT * FROM {src}), "
        checked = f"checked AS (SELECT *, {sql.bad_flag()} AS reason FROM inst)"
        lines = ""
    return (f"{head}parsed AS (SELECT {lines}{parse} FROM src), "
            f"inst AS (SELECT {inst} FROM parsed), {checked}")


@dataclass(slots=True)
class _Scan:
    """A source (a table function or a registered table) and its SQL."""

    src: str
    sql: _Sql
    tables: dict[str, Any] = field(default_factory=dict)  # registered Arrow tables


def _prepare(con: duckdb.DuckDBPyConnection, path: Path, src: str, params: ReportParams,
             tz: TzTable, *, by_line: bool = False) -> _Scan:
    """The source's columns and its SQL. Unless ``by_line``, the zone's
    changes are taken only over the span of the time stamps when every time
    column is typed (its minimum and maximum: Parquet statistics, or one
    cheap scan of an Arrow table); the full 1900-2100 table otherwise."""
    try:
        con.execute(f"DESCRIBE SELECT * FROM {src}")
        described = con.fetchall()
    except duckdb.Error as exc:
        raise ValidationError(f"{path}: cannot read: {_first_line(exc)}", field="cdr") from None
    types = {str(r[0]).strip(): str(r[1]) for r in described}
    raw = {str(r[0]).strip(): '"' + str(r[0]).replace('"', '""') + '"' for r in described}
    missing = [c for c in REQUIRED_COLUMNS if c not in types]
    if missing:
        raise ValidationError(f"{path}: line 1: missing column(s) {', '.join(missing)}",
                              field="cdr")
    span = None if by_line else _span(con, src, types, raw)
    return _Scan(src, _Sql(types, raw, params, _Zone(tz, span)))


def _span(con: duckdb.DuckDBPyConnection, src: str, types: dict[str, str],
          raw: dict[str, str]) -> tuple[int, int] | None:
    """The instants the time stamps can reach (with two days' margin for
    offsets), or None when a time column is text (unknown without parsing)."""
    kinds = {name: _time_kind(types, name) for name in TIME_COLUMNS}
    if "text" in kinds.values():
        return None
    present = [raw[name] for name, kind in kinds.items() if kind != "missing"]
    ends = ", ".join(f"epoch_us({f}({c})::TIMESTAMP)" for c in present for f in ("min", "max"))
    rows = con.execute(f"SELECT {ends} FROM {src}").fetchall()
    values = [int(v) for v in rows[0] if v is not None] if rows else []
    if not values:
        return None
    margin = 2 * 86400 * US
    return min(values) - margin, max(values) + margin


def _needed(by: str) -> tuple[str, ...]:
    """The CDR columns a report by ``by`` reads (the others are free text
    that no check looks at)."""
    group = (by,) if by in ("queue", "agent", "channel") else ()
    return (*REQUIRED_COLUMNS, *TIME_COLUMNS, *SECONDS_COLUMNS, *COUNT_COLUMNS,
            *SCORE_COLUMNS, "customer", *group)


def _memory_budget() -> int:
    """The largest CSV file read into memory through Arrow (about an eighth of
    the machine's memory: the text columns take about the file's size)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 8
    except (ValueError, OSError, AttributeError):
        return 1 << 30


def columnar_report(path: Path, by: str, params: ReportParams, *,
                    skip_bad_rows: bool = False, key_offsets: bool | None = None,
                    arrow: bool = True) -> ColumnarResult:
    """The report of a CDR file (CSV, or Parquet by its ``.parquet`` suffix).

    ``key_offsets``: None to put offsets in interval keys only when the file's
    time stamps had one. Raises :class:`ValidationError` naming the first bad
    row's line, unless ``skip_bad_rows``. ``arrow``: read a CSV file through
    :mod:`switchboard.metrics.arrow_csv` when it fits in memory (False: with
    DuckDB's CSV reader only; the figures are the same).
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    tz = TzTable(params.tz)
    try:
        file_scan: _Scan | None = None
        table = None
        if arrow and path.suffix.lower() not in (".parquet", ".pq"):
            table = read_typed(path, _memory_budget(), _needed(by))
        if table is not None:
            con.register("cdr_arrow", table)
            scan = _prepare(con, path, "cdr_arrow", params, tz)
            scan.tables["cdr_arrow"] = table
        else:
            scan = file_scan = _prepare(con, path, _source(path), params, tz)

        def by_line() -> _Scan:
            return file_scan or _prepare(con, path, _source(path), params, tz, by_line=True)

        return _run(con, path, scan, by_line, by, params, skip_bad_rows, key_offsets)
    except duckdb.Error as exc:
        raise ValidationError(f"{path}: {_first_line(exc)}", field="cdr") from None
    finally:
        con.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _id_hashes(con: duckdb.DuckDBPyConnection, scan: _Scan) -> tuple[np.ndarray, int]:
    """The hash of every row's (trimmed) id, and the hash of a missing id."""
    query = f"SELECT hash({scan.sql.text('id')}) AS h FROM {scan.src}"
    # through Arrow: no row-ordered result to materialise first
    hashes = con.sql(query).to_arrow_table().column(0).to_numpy()
    missing = con.execute("SELECT hash(NULL::VARCHAR)").fetchall()[0][0]
    return hashes, int(missing)


def _repeats(hashed: tuple[np.ndarray, int]) -> int:
    """How many ids may repeat or be missing: 0 proves every id present and
    unique (equal ids hash equal; a missing id hashes to the second value);
    anything else sends the file to the exact checks of the line-numbered
    pass (a hash collision only costs that pass)."""
    hashes, missing = hashed
    suspects = int(np.count_nonzero(hashes == np.uint64(missing)))
    hashes = np.sort(hashes)  # numpy sorts without the GIL: this runs beside DuckDB
    return suspects + int(np.count_nonzero(hashes[1:] == hashes[:-1]))


def _duplicate_suspects(con: duckdb.DuckDBPyConnection, scan: _Scan,
                        pool: ThreadPoolExecutor) -> Future[int]:
    """The id check on a second connection, beside the aggregation: the two
    scans share DuckDB's threads, and numpy's sort takes no GIL."""
    cursor = con.cursor()
    for name, table in scan.tables.items():
        cursor.register(name, table)

    def check() -> int:
        try:
            return _repeats(_id_hashes(cursor, scan))
        finally:
            cursor.close()

    return pool.submit(check)


def _run(con: duckdb.DuckDBPyConnection, path: Path, scan: _Scan, by_line: Callable[[], _Scan],
         by: str, params: ReportParams, skip: bool, key_offsets: bool | None
         ) -> ColumnarResult:
    with ThreadPoolExecutor(max_workers=1) as pool:
        suspects = _duplicate_suspects(con, scan, pool)
        # The report; bad rows fall in a group of their own (key NULL).
        tallies, bad, had_offset = _aggregate(
            con, _pipeline(scan.src, scan.sql, with_lines=False), scan.sql, by, params,
            only_valid=False)
        # Rows built while the id hashes may still be sorting.
        result = None if bad else _result(by, params, tallies, had_offset, key_offsets)
        dups = suspects.result()
    if result is not None and not dups:
        return result
    # Only with bad or repeated rows: read the file with line numbers, name
    # them, and take the figures from that reading.
    lines = by_line()
    pipeline = _pipeline(lines.src, lines.sql, with_lines=True)
    listed = con.execute(f"{pipeline} SELECT line, reason FROM checked "
                         f"WHERE reason IS NOT NULL ORDER BY line LIMIT 1000").fetchall()
    count = con.execute(f"{pipeline} SELECT count(*) FROM checked "
                        f"WHERE reason IS NOT NULL").fetchone()
    skipped = [BadRow(int(n), str(r)) for n, r in listed]
    skipped_count = int(count[0]) if count else 0
    if skipped and not skip:
        b = skipped[0]
        raise ValidationError(f"{path}: line {b.line}: {b.reason}", field="cdr")
    if result is not None and not skipped:
        return result  # a hash collision: nothing was wrong
    tallies, _, had_offset = _aggregate(con, pipeline, lines.sql, by, params, only_valid=True)
    out = _result(by, params, tallies, had_offset, key_offsets)
    out.skipped, out.skipped_count = skipped, skipped_count
    return out


def _result(by: str, params: ReportParams, tallies: list[tuple[list[Any], Tally]],
            had_offset: bool, key_offsets: bool | None) -> ColumnarResult:
    use_offsets = had_offset if key_offsets is None else key_offsets
    merged: dict[str, Tally] = {}
    total = 0
    for parts, tally in tallies:
        key = _format_key(by, parts, use_offsets)
        total += tally.contacts
        if key in merged:
            _merge(merged[key], tally)
        else:
            merged[key] = tally
    out_params = replace(params, key_offsets=use_offsets)
    return ColumnarResult(report=report_from_tallies(merged, by, out_params), rows=total,
                          had_offset=had_offset)


def _aggregate(con: duckdb.DuckDBPyConnection, pipeline: str, sql: _Sql, by: str,
               params: ReportParams, *, only_valid: bool
               ) -> tuple[list[tuple[list[Any], Tally]], int, bool]:
    """(group parts and tally per group, rows with a reason, any offset seen)."""
    customers = "customer" in sql.cols
    fcr = (f", fcr AS (SELECT v.*, CASE WHEN v.fend IS NULL THEN NULL ELSE "
           f"(a.arrived IS NULL OR a.arrived > v.fend + {params.fcr_window_us}) END AS fcr_ok "
           f"FROM valid v ASOF LEFT JOIN arrivals a ON v.customer = a.customer "
           f"AND v.fend < a.arrived)") if customers else \
        ", fcr AS (SELECT *, NULL::BOOLEAN AS fcr_ok FROM valid)"
    valid = ("valid AS (SELECT *, CASE WHEN enqueued IS NOT NULL AND answered IS NOT NULL "
             "AND customer IS NOT NULL THEN coalesce(ended, answered) END AS fend "
             f"FROM checked{' WHERE reason IS NULL' if only_valid else ''})")
    arrivals = (", arrivals AS (SELECT customer, arrived FROM valid WHERE customer IS NOT NULL)"
                if customers else "")
    facts = ", ".join(sql.facts_layer())
    groups = _group_cols(by, params)
    gsel = ", ".join(f"CASE WHEN reason IS NULL THEN {g} END AS g{i}"
                     for i, g in enumerate(groups))
    gby = ", ".join(f"g{i}" for i in range(len(groups)))
    query = (f"{pipeline}, {valid}{arrivals}{fcr}, facts AS (SELECT {facts} FROM fcr) "
             f"SELECT {gsel}, {', '.join(sql.sums())}, "
             f"bool_or({sql.offset_flag()}) AS had_off "
             f"FROM facts GROUP BY {gby}")
    con.execute(query)
    names = [d[0] for d in con.description or []]
    n = len(groups)
    at = [names.index(f) for f in _TALLY_FIELDS]
    contacts, wait, off = names.index("contacts"), names.index("max_wait_us"), \
        names.index("had_off")
    out: list[tuple[list[Any], Tally]] = []
    bad, had_offset = 0, False
    for rec in con.fetchall():
        if rec[0] is None:
            bad += int(rec[contacts])
            continue
        had_offset = had_offset or bool(rec[off])
        tally = Tally(**{f: int(rec[i]) for f, i in zip(_TALLY_FIELDS, at, strict=True)},
                      max_wait_us=None if rec[wait] is None else int(rec[wait]))
        out.append((list(rec[:n]), tally))
    return out, bad, had_offset


def _merge(into: Tally, other: Tally) -> None:
    for f in _TALLY_FIELDS:
        setattr(into, f, getattr(into, f) + getattr(other, f))
    if other.max_wait_us is not None and (into.max_wait_us is None
                                          or other.max_wait_us > into.max_wait_us):
        into.max_wait_us = other.max_wait_us


def _format_key(by: str, parts: list[Any], offsets: bool) -> str:
    if by in ("queue", "agent", "channel"):
        return str(parts[0])
    if by == "day":
        return day_key(int(parts[0]) * 86400 * US)
    start, off = int(parts[0]), int(parts[1])
    return interval_key(start, off if offsets else None)
