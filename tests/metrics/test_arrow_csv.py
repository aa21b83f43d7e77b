"""The Arrow reading of CDR CSV files (the fast columnar path) against the
DuckDB-only reading and the row-by-row reader: the same report, the same bad
rows, on odd values of every kind, quoted line breaks and repeated ids."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.domain.errors import ValidationError
from switchboard.metrics import arrow_csv, columnar
from switchboard.metrics.arrow_csv import read_typed
from switchboard.metrics.batch import report_from_cdr_rows
from switchboard.metrics.columnar import columnar_report
from switchboard.metrics.io_cdr import read_cdr_csv
from switchboard.metrics.params import UTC, ReportParams
from switchboard.metrics.tz import TzTable
from tests.metrics.conftest import FIXTURES

ROME = ZoneInfo("Europe/Rome")
HEADER = ["id", "queue", "customer", "arrived_at", "enqueued_at", "answered_at", "abandoned_at",
          "ended_at", "hold_s", "wrapup_s", "transfers", "csat", "nps"]
GOOD = [
    ["g1", "q1", "c1", "2024-05-01T09:00:00", "2024-05-01T09:00:20", "2024-05-01T09:00:45", "",
     "2024-05-01T09:05:45", "20", "30", "1", "5", "10"],
    ["g2", "q2", "c2", "2024-05-01T09:31:00", "2024-05-01T09:31:05", "", "2024-05-01T09:31:09",
     "", "", "", "", "", ""],
    ["g3", "q1", "c1", "2024-05-01T23:59:00", "", "", "", "2024-05-02T00:01:00", "0", "0", "0",
     "3", "6"],
]


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return path


def outcome(path: Path, by: str, params: ReportParams, **kw: Any) -> Any:
    """The report and skipped rows, or the error, of one reader."""
    try:
        res = columnar_report(path, by, params, skip_bad_rows=True, **kw)
        return res.report, [(b.line, b.reason) for b in res.skipped]
    except ValidationError as exc:
        return str(exc)


def python_outcome(path: Path, by: str, params: ReportParams) -> Any:
    try:
        f = read_cdr_csv(path, TzTable(params.tz), skip_bad_rows=True)
    except ValidationError as exc:
        return str(exc)
    rows = report_from_cdr_rows(f.rows, by, replace(params, key_offsets=f.had_offset))
    return rows, [(b.line, b.reason) for b in f.skipped]


def same_everywhere(path: Path, by: str = "interval", params: ReportParams | None = None
                    ) -> Any:
    params = params or ReportParams(tz=UTC)
    fast = outcome(path, by, params)
    assert fast == outcome(path, by, params, arrow=False)
    assert fast == python_outcome(path, by, params)
    return fast


def kinds(path: Path) -> dict[str, pa.DataType]:
    table = read_typed(path, 1 << 30)
    assert table is not None
    return {f.name: f.type for f in table.schema}


def test_a_clean_file_is_read_typed(tmp_path: Path) -> None:
    path = write(tmp_path / "clean.csv", GOOD)
    types = kinds(path)
    assert types["arrived_at"] == pa.timestamp("us")
    assert types["abandoned_at"] == pa.timestamp("us")
    assert types["hold_s"] == pa.int64() and types["csat"] == pa.int64()
    assert types["queue"] == pa.string()
    rows, skipped = same_everywhere(path)
    assert skipped == [] and [r["key"] for r in rows] == [
        "2024-05-01T09:00:00", "2024-05-01T09:30:00", "2024-05-01T23:30:00"]
    for by in ("day", "queue", "agent", "channel"):
        same_everywhere(path, by)


def test_offsets_are_read_as_instants(tmp_path: Path) -> None:
    types = kinds(FIXTURES / "offsets.csv")
    assert types["arrived_at"] == pa.timestamp("us", "UTC")
    for by in ("interval", "day"):
        same_everywhere(FIXTURES / "offsets.csv", by, ReportParams(tz=ROME))


@pytest.mark.parametrize("name", ["basic.csv", "dst_rome.csv", "offsets.csv", "bad.csv"])
def test_fixtures(name: str) -> None:
    for by in ("interval", "day", "queue"):
        for tz in (UTC, ROME):
            same_everywhere(FIXTURES / name, by, ReportParams(tz=tz))


# (column, value, whether the column may still be typed)
ODD = [
    ("arrived_at", "2024-05-01T09", False),  # Arrow reads an hour alone; the grammar does not
    ("arrived_at", "2024-05-01 09", False),
    ("enqueued_at", "2024-05-01T09Z", False),
    ("enqueued_at", "2024-05-01T09+02:00", False),
    ("arrived_at", "0000-01-01T00:00:00", False),
    ("arrived_at", "0001-01-01T00:30:00+01:00", False),
    ("ended_at", "2024-05-01T09:10:00.1234567", False),  # 7 digits: grammar yes, Arrow no
    ("ended_at", "2024-05-01T09:10:00.123456789", False),
    ("ended_at", " 2024-05-01T09:10:00", False),  # trimmed
    ("ended_at", "2024-05-01T09:10:00+02:00", False),  # an offset among naive stamps
    ("ended_at", "2024-05-01T24:00:00", False),
    ("ended_at", "2024-02-30", False),
    ("ended_at", "2024-05-01T09:10", True),
    ("ended_at", "2024-05-01 09:10:00.5", True),
    ("ended_at", "2024-05-01", True),
    ("ended_at", "2024-05-01T9:10:00", False),
    ("ended_at", "2024-5-01T09:10:00", False),
    ("ended_at", "2024-05-01t09:10:00", False),
    ("hold_s", "-0", False),
    ("hold_s", "+5", False),
    ("hold_s", " 5", False),
    ("hold_s", "0x10", False),
    ("hold_s", "1e3", False),
    ("hold_s", "1.5", False),
    ("hold_s", ".5", False),
    ("hold_s", "05", True),
    ("hold_s", "123456789012", True),
    ("hold_s", "1234567890123", False),
    ("hold_s", "999999999999.9999999", False),  # rounds to 10^12 s
    ("transfers", "1000000000", False),
    ("transfers", "-1", False),
    ("csat", "0", True),
    ("csat", "6", True),
    ("nps", "11", True),
    ("nps", "٣", False),  # a decimal digit, but not ASCII
    ("arrived_at", "٢٠٢٤-05-01T09:00:00", False),
    ("queue", " q1 ", False),
    ("id", "", False),  # one missing id: the id-hash query finds it
    ("id", "   ", False),
]


@pytest.mark.parametrize(("column", "value", "typed"), ODD)
def test_odd_values_agree_with_both_readers(tmp_path: Path, column: str, value: str,
                                            typed: bool) -> None:
    row = ["o1", "q1", "c9", "2024-05-01T09:00:00", "2024-05-01T09:00:10",
           "2024-05-01T09:00:30", "", "2024-05-01T09:09:00", "1", "2", "0", "4", "9"]
    row[HEADER.index(column)] = value
    path = write(tmp_path / "odd.csv", [*GOOD, row])
    kind = kinds(path)[column]
    assert (kind != pa.string()) == typed, kind
    for by, tz in (("interval", ROME), ("day", UTC), ("queue", UTC)):
        same_everywhere(path, by, ReportParams(tz=tz))


def test_only_spaces_are_trimmed(tmp_path: Path) -> None:
    row = ["t1", "q1", "", "2024-05-01T09:00:00", "", "", "", "", "\t5", "", "", "", ""]
    path = write(tmp_path / "tab.csv", [*GOOD, row])
    params = ReportParams(tz=UTC)
    fast, python = outcome(path, "day", params), python_outcome(path, "day", params)
    assert fast == outcome(path, "day", params, arrow=False)
    assert fast[0] == python[0]
    # the same row and reason (Python quotes the value with repr: '\t5')
    assert [line for line, _ in fast[1]] == [line for line, _ in python[1]] == [5]


def test_quoted_line_breaks_across_arrow_blocks(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Blocks of 256 bytes: a quoted value with a line break (one that even
    # looks like a row of its own) straddles blocks.
    monkeypatch.setattr(arrow_csv, "_BLOCK", 256)
    fake = "x\ng9,q9,c9,2024-05-01T10:00:00,,,,,,,,,"
    rows = [[*r[:1], f"queue {i}\n{fake}" if i % 2 else r[1], *r[2:]]
            for i, r in enumerate(GOOD * 6)]
    for i, r in enumerate(rows):
        r[0] = f"r{i}"
    path = write(tmp_path / "quoted.csv", rows)
    assert kinds(path)["arrived_at"] == pa.timestamp("us")
    for by in ("queue", "interval"):
        fast, _ = same_everywhere(path, by)
    assert sum(r["contacts"] for r in fast) == len(rows)


def test_repeated_ids_are_found_through_arrow(tmp_path: Path) -> None:
    rows = [list(r) for r in GOOD]
    rows[2][0] = " g1 "  # the same id once trimmed
    path = write(tmp_path / "dup.csv", rows)
    with pytest.raises(ValidationError, match="line 4: duplicate id 'g1' \\(first on line 2\\)"):
        columnar_report(path, "day", ReportParams(tz=UTC))
    same_everywhere(path, "day")


def test_a_hash_collision_costs_a_pass_not_a_figure(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "clean.csv", GOOD)
    want = columnar_report(path, "interval", ReportParams(tz=UTC)).report
    monkeypatch.setattr(columnar, "_repeats", lambda hashed: 1)
    res = columnar_report(path, "interval", ReportParams(tz=UTC))
    assert res.report == want and res.skipped == []


def test_files_over_the_memory_budget_go_through_duckdb(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "clean.csv", GOOD)
    assert read_typed(path, 10) is None
    want = columnar_report(path, "interval", ReportParams(tz=UTC)).report
    calls: list[int] = []
    real = arrow_csv.read_typed

    def spy(p: Path, max_bytes: int, columns: Any) -> Any:
        calls.append(max_bytes)
        return real(p, max_bytes, columns)

    monkeypatch.setattr(columnar, "read_typed", spy)
    monkeypatch.setattr(columnar, "_memory_budget", lambda: 10)
    assert columnar_report(path, "interval", ReportParams(tz=UTC)).report == want
    assert calls == [10]


def test_files_arrow_cannot_read_get_duckdbs_answer(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("id,arrived_at\na,2024-05-01T09:00:00\nb,2024-05-01T09:00:00,x\n")
    assert read_typed(ragged, 1 << 20) is None
    assert outcome(ragged, "day", ReportParams(tz=UTC)) == \
        outcome(ragged, "day", ReportParams(tz=UTC), arrow=False)
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("id,queue,arrived_at\na,caf\xe9,2024-05-01T09:00:00\n".encode("latin-1"))
    assert read_typed(latin, 1 << 20) is None
    missing = write(tmp_path / "missing.csv", [["x"]], header=["id"])
    with pytest.raises(ValidationError, match="line 1: missing column\\(s\\) arrived_at"):
        columnar_report(missing, "day", ReportParams(tz=UTC))
    header_only = write(tmp_path / "header.csv", [])
    assert columnar_report(header_only, "day", ReportParams(tz=UTC)).report == []


def test_byte_order_mark_and_padded_header(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    text = path.with_suffix(".txt")
    write(text, GOOD, header=[f" {h} " if h == "queue" else h for h in HEADER])
    path.write_bytes(b"\xef\xbb\xbf" + text.read_bytes())
    assert kinds(path)["arrived_at"] == pa.timestamp("us")
    same_everywhere(path, "queue")


# Random files: every time stamp shape of the grammar (and a few that are
# not), naive in a zone with DST changes, so that the three readers must agree.
_DATES = st.sampled_from(["2024-03-31", "2024-10-27", "2024-05-01", "2024-02-29"])
_SHAPES = st.sampled_from(["{d}", "{d}T{h}:{m}", "{d} {h}:{m}:{s}", "{d}T{h}:{m}:{s}.{f}",
                           "{d}T{h}:{m}:{s}.{f}{f}", "{d}T{h}", "{d}T{h}:{m}:{s}.{f}{f}{f}"])


@st.composite
def stamp(draw: st.DrawFn, date: str, hour: int, rare: bool) -> str:
    shape = draw(_SHAPES) if rare else "{d}T{h}:{m}:{s}"
    return shape.format(d=date, h=f"{hour:02d}", m=f"{draw(st.integers(0, 59)):02d}",
                        s=f"{draw(st.integers(0, 59)):02d}", f=draw(st.sampled_from(["5", "123"])))


@st.composite
def cdr_file(draw: st.DrawFn) -> list[list[str]]:
    rare = draw(st.booleans())
    rows = []
    for i in range(draw(st.integers(1, 12))):
        date = draw(_DATES)
        hour = draw(st.integers(0, 22))
        times = [draw(stamp(date, h, rare)) for h in (hour, hour, hour + 1, hour + 1)]
        fate = draw(st.sampled_from(["answered", "abandoned", "ivr"]))
        rows.append([
            f"i{i}", draw(st.sampled_from(["q1", "q2", ""])), draw(st.sampled_from(["c1", ""])),
            times[0], "" if fate == "ivr" else times[1],
            times[2] if fate == "answered" else "", times[2] if fate == "abandoned" else "",
            times[3] if fate != "abandoned" else "",
            draw(st.sampled_from(["", "0", "3", "1.5"] if rare else ["0", "3"])), "2", "", "", "",
        ])
    return rows


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=cdr_file())
def test_random_files_agree(tmp_path: Path, rows: list[list[str]]) -> None:
    path = write(tmp_path / "random.csv", rows)
    same_everywhere(path, "interval", ReportParams(tz=ROME))
    same_everywhere(path, "queue", ReportParams(tz=UTC))


def test_a_zone_over_the_datas_span_gives_the_full_tables_offsets() -> None:
    import duckdb

    from switchboard.metrics.columnar import _Zone
    from switchboard.metrics.params import US

    tz = TzTable(ROME)
    lo, hi = 1_711_843_200 * US, 1_730_000_000 * US  # 2024-03-31 to 2024-10-27 (+)
    full, span = _Zone(tz), _Zone(tz, (lo - 2 * 86400 * US, hi + 2 * 86400 * US))
    assert len(span.values) < 5 < len(full.values)
    xs = [lo + i * (hi - lo) // 997 for i in range(998)] + [lo + 3600 * US * k for k in range(48)]
    con = duckdb.connect()
    for which in ("at_instant", "at_wall_time"):
        query = "SELECT {} FROM unnest(?) t(x) ORDER BY x"
        a = con.execute(query.format(getattr(full, which)("x")), [xs]).fetchall()
        b = con.execute(query.format(getattr(span, which)("x")), [xs]).fetchall()
        assert a == b


def test_parquet_in_a_zone_with_dst(tmp_path: Path) -> None:
    import duckdb

    pq = tmp_path / "dst.parquet"
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{FIXTURES / 'dst_rome.csv'}')) TO '{pq}'")
    for by in ("interval", "day"):
        want = outcome(FIXTURES / "dst_rome.csv", by, ReportParams(tz=ROME), arrow=False)
        assert outcome(pq, by, ReportParams(tz=ROME)) == want


@pytest.mark.parametrize("field", ['"q1"x', ' "q1"', 'q"1', '"q""1"'])
def test_quotes_read_as_pythons_csv_reads_them(tmp_path: Path, field: str) -> None:
    # Text after a closing quote, or a quote after a space: Python's csv (the
    # row reader) and Arrow agree; DuckDB's reader refuses the first and
    # drops the quotes of the second, so only the row reader is compared.
    path = tmp_path / "quotes.csv"
    path.write_text(f"id,queue,arrived_at\na,{field},2024-05-01T09:00:00\n"
                    "b,q2,2024-05-01T09:00:00\n")
    params = ReportParams(tz=UTC)
    assert outcome(path, "queue", params) == python_outcome(path, "queue", params)
