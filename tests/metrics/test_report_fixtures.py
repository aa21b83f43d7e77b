"""Hand-computed reports over the CDR fixtures, through both CDR engines.

Each expectation below was worked out by hand from the fixture rows (the
comments say how); both the columnar (DuckDB) path and the row-by-row path
must reproduce them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from switchboard.metrics.batch import report_from_cdr_rows
from switchboard.metrics.columnar import columnar_report
from switchboard.metrics.io_cdr import read_cdr_csv
from switchboard.metrics.params import UTC, ReportParams
from switchboard.metrics.tz import TzTable
from tests.metrics.conftest import FIXTURES, check_rows

NULLS = dict(asa_s=None, ata_s=None, max_wait_s=None, service_level=None, att_s=None,
             avg_hold_s=None, hold_rate=None, acw_s=None, aht_s=None, abandon_rate=None,
             fcr_rate=None, occupancy=None, utilization=None, shrinkage=None, adherence=None,
             csat=None, nps=None)


def both(path: Path, by: str, params: ReportParams) -> list[list[dict[str, Any]]]:
    col = columnar_report(path, by, params).report
    f = read_cdr_csv(path, TzTable(params.tz))
    py = report_from_cdr_rows(f.rows, by, replace(params, key_offsets=f.had_offset))
    return [col, py]


BASIC_INTERVAL = {
    # r1 answered (wait 15, talk 300-20, hold 20, acw 30), r2 abandoned after 3 s (short)
    "2024-05-01T09:00:00": dict(contacts=2, offered=2, answered=1, abandoned=1,
                                short_abandoned=1, abandon_rate=0.5, self_service_rate=0.0,
                                asa_s=15, ata_s=3, max_wait_s=15, service_level=0.5,
                                att_s=280, avg_hold_s=20, hold_rate=1.0, acw_s=30, aht_s=330,
                                transfers=0, callbacks=0, fcr_rate=0.0, sl_formula="default",
                                sl_threshold_s=20.0, csat=None, nps=None, occupancy=None),
    # r3 (enqueued 09:30:00 exactly: this interval) and its transfer leg r3#2 (wait
    # from the first enqueued_at: 290 s), plus r4 that never queued (IVR only)
    "2024-05-01T09:30:00": dict(contacts=3, offered=2, answered=2, abandoned=0,
                                short_abandoned=0, abandon_rate=0.0, self_service_rate=1 / 3,
                                asa_s=165, ata_s=None, max_wait_s=290, service_level=0.0,
                                att_s=270, avg_hold_s=30, hold_rate=0.5, acw_s=5, aht_s=305,
                                transfers=1, fcr_rate=1.0),
    # r5 enqueued 23:59:58, abandoned after midnight (32 s): belongs to 23:30
    "2024-05-01T23:30:00": dict(contacts=1, offered=1, answered=0, abandoned=1,
                                short_abandoned=0, abandon_rate=1.0, asa_s=None, ata_s=32,
                                max_wait_s=32, service_level=0.0, att_s=None, aht_s=None,
                                fcr_rate=None),
    # r6 chat answered at once (callback), r7 exited without agent
    "2024-05-02T00:00:00": dict(contacts=2, offered=2, answered=1, abandoned=0,
                                abandon_rate=0.0, asa_s=0, max_wait_s=0, service_level=1.0,
                                att_s=600, avg_hold_s=0, hold_rate=0.0, acw_s=60, aht_s=660,
                                callbacks=1, fcr_rate=1.0),
    # r8: an e-mail that never queued: only contacts and self-service
    "2024-05-02T08:00:00": dict(contacts=1, offered=0, answered=0, abandoned=0,
                                self_service_rate=1.0, rna=0, transfers=0, **NULLS),
}

BASIC_DAY = {
    "2024-05-01": dict(contacts=6, offered=5, answered=3, abandoned=2, short_abandoned=1,
                       abandon_rate=0.4, self_service_rate=1 / 6, asa_s=115, ata_s=17.5,
                       max_wait_s=290, service_level=0.2, att_s=820 / 3, avg_hold_s=80 / 3,
                       hold_rate=2 / 3, acw_s=40 / 3, aht_s=940 / 3, transfers=1,
                       fcr_rate=2 / 3),
    "2024-05-02": dict(contacts=3, offered=2, answered=1, abandoned=0, abandon_rate=0.0,
                       self_service_rate=1 / 3, asa_s=0, service_level=1.0, att_s=600,
                       acw_s=60, aht_s=660, callbacks=1, fcr_rate=1.0),
}

BASIC_QUEUE = {
    "": dict(contacts=2, offered=0, self_service_rate=1.0, **NULLS),
    # the transferred contact counts in sales (r3) and in support (r3#2)
    "sales": dict(contacts=4, offered=4, answered=2, abandoned=2, short_abandoned=1,
                  abandon_rate=0.5, asa_s=27.5, ata_s=17.5, max_wait_s=40,
                  service_level=0.25, att_s=260, avg_hold_s=10, hold_rate=0.5, acw_s=20,
                  aht_s=290, transfers=1, fcr_rate=0.5),
    "support": dict(contacts=3, offered=3, answered=2, abandoned=0, abandon_rate=0.0,
                    asa_s=145, max_wait_s=290, service_level=0.5, att_s=450, avg_hold_s=30,
                    hold_rate=0.5, acw_s=30, aht_s=510, callbacks=1, fcr_rate=1.0),
}


@pytest.mark.parametrize(("by", "expected"), [
    ("interval", BASIC_INTERVAL), ("day", BASIC_DAY), ("queue", BASIC_QUEUE)])
def test_basic_fixture(by: str, expected: dict[str, dict[str, Any]]) -> None:
    for rows in both(FIXTURES / "basic.csv", by, ReportParams(tz=UTC)):
        check_rows(rows, expected)


def test_basic_by_channel_and_agent_keys() -> None:
    for rows in both(FIXTURES / "basic.csv", "channel", ReportParams(tz=UTC)):
        assert [(r["key"], r["contacts"]) for r in rows] == [
            ("chat", 1), ("email", 1), ("voice", 7)]
    for rows in both(FIXTURES / "basic.csv", "agent", ReportParams(tz=UTC)):
        assert [r["key"] for r in rows] == ["", "ann", "bob", "cat", "dan"]
        assert rows[0]["logged_in_s"] is None  # no agent events in a CDR


@pytest.mark.parametrize(("params", "abandon_rate", "sl"), [
    (ReportParams(tz=UTC), 0.4, 0.2),
    (ReportParams(tz=UTC, exclude_short_abandons=True), 0.25, 0.2),  # (2-1)/(5-1)
    (ReportParams(tz=UTC, sl_formula="answered"), 0.4, 1 / 3),
    (ReportParams(tz=UTC, sl_formula="ignore_short"), 0.4, 0.25),  # r2 waited 3 <= 20
    (ReportParams(tz=UTC, sl_formula="abandons_met"), 0.4, 0.4),  # (1 + 1) / 5
    (ReportParams(tz=UTC, sl_threshold_s=40), 0.4, 0.4),  # r3 waited exactly 40
    (ReportParams(tz=UTC, short_abandon_s=3), 0.4, 0.2),  # 3 is not < 3
])
def test_variants(params: ReportParams, abandon_rate: float, sl: float) -> None:
    for rows in both(FIXTURES / "basic.csv", "day", params):
        day = rows[0]
        assert day["abandon_rate"] == pytest.approx(abandon_rate)
        assert day["service_level"] == pytest.approx(sl)
        assert day["sl_formula"] == params.sl_formula
        assert day["sl_threshold_s"] == params.sl_threshold_s
        assert day["short_abandoned"] == (0 if params.short_abandon_s == 3 else 1)


def test_fcr_window() -> None:
    # r6 (c1 again) arrives 14h20m after r1 ended: a 0.5-day window resolves r1
    params = ReportParams(tz=UTC, fcr_window_s=0.5 * 86400)
    for rows in both(FIXTURES / "basic.csv", "day", params):
        assert rows[0]["fcr_rate"] == pytest.approx(1.0)


ROME = ZoneInfo("Europe/Rome")


def test_dst_days_in_the_tenant_zone() -> None:
    expected = {
        # 01:59:50 CET to 03:00:10 CEST is 20 s, not an hour and 20 s
        "2024-03-31T01:30:00": dict(offered=1, answered=1, asa_s=20, service_level=1.0,
                                    att_s=300),
        "2024-03-31T03:00:00": dict(offered=1, abandoned=1, short_abandoned=1, ata_s=4),
        # 01:55 CEST to 03:00 CET is 2 h 5 min
        "2024-10-27T01:30:00": dict(offered=1, answered=1, asa_s=7500, service_level=0.0,
                                    att_s=600),
        # 02:30 is ambiguous: its first occurrence (CEST)
        "2024-10-27T02:30:00": dict(offered=1, answered=1, asa_s=10, att_s=60),
    }
    for rows in both(FIXTURES / "dst_rome.csv", "interval", ReportParams(tz=ROME)):
        check_rows(rows, expected)
    for rows in both(FIXTURES / "dst_rome.csv", "day", ReportParams(tz=ROME)):
        check_rows(rows, {
            "2024-03-31": dict(offered=2, answered=1, abandoned=1, asa_s=20, ata_s=4,
                               service_level=0.5),
            "2024-10-27": dict(offered=2, answered=2, asa_s=3755, max_wait_s=7500,
                               service_level=0.5, att_s=330)})
    for rows in both(FIXTURES / "dst_rome.csv", "day", ReportParams(tz=UTC)):
        assert rows[0]["asa_s"] == pytest.approx(3620)  # the same wall times read as UTC
        assert rows[1]["max_wait_s"] == pytest.approx(3900)


def test_offsets_in_input_give_offsets_in_keys() -> None:
    expected = {
        "2024-10-27T02:00:00+01:00": dict(offered=1, answered=1, asa_s=12,
                                          service_level=1.0),
        "2024-10-27T02:00:00+02:00": dict(offered=2, answered=1, abandoned=1, asa_s=3630,
                                          ata_s=30, max_wait_s=3630, service_level=0.0),
    }
    for rows in both(FIXTURES / "offsets.csv", "interval", ReportParams(tz=ROME)):
        check_rows(rows, expected)
    for rows in both(FIXTURES / "offsets.csv", "day", ReportParams(tz=ROME)):
        check_rows(rows, {"2024-10-27": dict(offered=3, answered=2, abandoned=1)})
    for rows in both(FIXTURES / "offsets.csv", "interval", ReportParams(tz=UTC)):
        assert [r["key"] for r in rows] == ["2024-10-27T00:00:00+00:00",
                                           "2024-10-27T01:00:00+00:00"]


def test_parquet_gives_the_same_report(tmp_path: Path) -> None:
    import duckdb

    pq = tmp_path / "basic.parquet"
    src = str(FIXTURES / "basic.csv")
    duckdb.execute(f"COPY (SELECT * FROM read_csv('{src}', header=true)) TO '{pq}'")
    for by in ("interval", "day", "queue"):
        want = both(FIXTURES / "basic.csv", by, ReportParams(tz=UTC))[1]
        assert columnar_report(pq, by, ReportParams(tz=UTC)).report == want
