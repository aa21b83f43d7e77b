"""Self-contradicting CDR rows, and the `switchboard report` command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.domain.errors import ValidationError
from switchboard.metrics.columnar import columnar_report
from switchboard.metrics.io_cdr import read_cdr_csv
from switchboard.metrics.params import UTC, ReportParams
from switchboard.metrics.tz import TzTable
from tests.metrics.conftest import FIXTURES

BAD = FIXTURES / "bad.csv"
REASONS = [
    (3, "answered and abandoned"),
    (5, "answered before enqueued"),
    (6, "arrived_at: not an ISO 8601 time stamp: '2024-05-01 9:07'"),
    (7, "duplicate id 'b1' (first on line 2)"),
    (8, "hold_s longer than the connection"),
    (9, "hold_s: not a number of seconds >= 0: '-1'"),
]


def test_both_readers_name_the_same_bad_rows() -> None:
    f = read_cdr_csv(BAD, TzTable(UTC), skip_bad_rows=True)
    assert [(b.line, b.reason) for b in f.skipped] == REASONS
    res = columnar_report(BAD, "day", ReportParams(tz=UTC), skip_bad_rows=True)
    assert [(b.line, b.reason) for b in res.skipped] == REASONS
    assert res.skipped_count == 6
    assert res.report[0]["offered"] == 2 and res.report[0]["answered"] == 1


def test_first_bad_row_rejects_the_file() -> None:
    with pytest.raises(ValidationError, match="line 3: answered and abandoned"):
        read_cdr_csv(BAD, TzTable(UTC))
    with pytest.raises(ValidationError, match="line 3: answered and abandoned"):
        columnar_report(BAD, "day", ReportParams(tz=UTC))


runner = CliRunner()


def test_cli_rejects_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    res = runner.invoke(app, ["report", "--cdr", str(BAD), "--by", "day", "--format", "json",
                              "--out", str(out), "--tz", "UTC"])
    assert res.exit_code == 2
    assert "line 3: answered and abandoned" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_cli_skip_bad_rows_counts_them() -> None:
    res = runner.invoke(app, ["report", "--cdr", str(BAD), "--by", "day", "--format", "json",
                              "--tz", "UTC", "--skip-bad-rows"])
    assert res.exit_code == 0
    assert "skipped 6 bad row(s)" in res.stderr
    rows = json.loads(res.stdout)
    assert rows[0]["key"] == "2024-05-01" and rows[0]["contacts"] == 2


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_cli_json_rows(engine: str) -> None:
    res = runner.invoke(app, ["report", "--cdr", str(FIXTURES / "basic.csv"), "--by", "queue",
                              "--format", "json", "--tz", "UTC", "--engine", engine])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["key"] for r in rows] == ["", "sales", "support"]
    assert rows[1]["asa_s"] == pytest.approx(27.5)
    assert rows[0]["asa_s"] is None


def test_cli_csv_parquet_and_table(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    basic = str(FIXTURES / "basic.csv")
    res = runner.invoke(app, ["report", "--cdr", basic, "--by", "day", "--format", "csv",
                              "--tz", "UTC"])
    lines = res.stdout.splitlines()
    assert lines[0].startswith("key,contacts,offered,answered,abandoned,short_abandoned")
    assert lines[1].startswith("2024-05-01,6,5,3,2,1,0.4,")
    out = tmp_path / "r.parquet"
    res = runner.invoke(app, ["report", "--cdr", basic, "--by", "day", "--format", "parquet",
                              "--out", str(out), "--tz", "UTC"])
    assert res.exit_code == 0, res.output
    table = pq.read_table(out)
    assert table.column("offered").to_pylist() == [5, 2]
    meta = json.loads(table.schema.metadata[b"switchboard"])
    assert meta["sl_formula"] == "default" and meta["skipped_rows"] == 0
    res = runner.invoke(app, ["report", "--cdr", basic, "--by", "interval", "--tz", "UTC"])
    assert res.exit_code == 0
    assert all(len(line) <= 80 for line in res.stdout.splitlines())
    assert "2024-05-01T09:30:00" in res.stdout


def test_cli_input_errors() -> None:
    res = runner.invoke(app, ["report", "--by", "day"])
    assert res.exit_code == 2 and "exactly one of" in res.output
    res = runner.invoke(app, ["report", "--cdr", str(FIXTURES / "basic.csv"), "--tz", "Mars/X"])
    assert res.exit_code == 2 and "unknown time zone" in res.output
    res = runner.invoke(app, ["report", "--cdr", str(FIXTURES / "basic.csv"), "--interval",
                              "20"])
    assert res.exit_code == 2 and "interval" in res.output


def test_export_cdr_then_report_equals_report_from_events(tmp_path: Path) -> None:
    from switchboard.domain.events import events_to_jsonl
    from tests.metrics.test_builder import run

    ev = tmp_path / "log.jsonl"
    ev.write_text(events_to_jsonl(run()))
    cdr, qlog = tmp_path / "cdr.csv", tmp_path / "queue_log"
    assert runner.invoke(app, ["export", "cdr", "--events", str(ev), "--out", str(cdr),
                               "--tz", "Europe/Rome"]).exit_code == 0
    assert cdr.read_text().splitlines()[1].startswith("c1,voice,inbound,q1,a,,,")
    for by in ("interval", "queue", "day"):
        a = runner.invoke(app, ["report", "--events", str(ev), "--by", by, "--format", "json",
                                "--tz", "Europe/Rome"])
        b = runner.invoke(app, ["report", "--cdr", str(cdr), "--by", by, "--format", "json",
                                "--tz", "Europe/Rome"])
        assert json.loads(a.stdout) == json.loads(b.stdout)
    assert runner.invoke(app, ["export", "queue-log", "--events", str(ev), "--out",
                               str(qlog)]).exit_code == 0
    assert "|c1|q1|a|CONNECT|1|c1|1" in qlog.read_text()
    res = runner.invoke(app, ["export", "cdr", "--out", str(cdr)])
    assert res.exit_code == 2 and "exactly one of" in res.output
