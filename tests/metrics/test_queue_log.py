"""Asterisk queue_log import (fixture written from Asterisk's documented format) and export."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.metrics.batch import compute_report
from switchboard.metrics.params import UTC, ReportParams
from switchboard.metrics.queue_log import parse_queue_log
from switchboard.metrics.queue_log_export import events_to_queue_log
from tests.metrics.conftest import FIXTURES, check_rows
from tests.metrics.test_builder import run

QLOG = FIXTURES / "queue_log.txt"
P = ReportParams(tz=UTC, key_offsets=True)


def test_unknown_verbs_and_bad_lines_are_reported_not_fatal() -> None:
    events, problems = parse_queue_log(QLOG.read_text().splitlines(), UTC)
    assert problems == ["line 22: unknown verb 'FOOBAR' (skipped)",
                        "line 23: expected time|callid|queue|agent|verb"]
    assert events


def test_queue_report_from_queue_log() -> None:
    events, _ = parse_queue_log(QLOG.read_text().splitlines(), UTC)
    check_rows(compute_report(events, "queue", P), {
        # A answered after 12 s (talk 120), B abandoned at 3 s (short), C timed out,
        # D answered after 25 s then blind-transferred at 500 (talk 75), E pressed a key at 10 s
        "sales": dict(contacts=5, offered=5, answered=2, abandoned=2, short_abandoned=1,
                      abandon_rate=0.4, asa_s=18.5, ata_s=6.5, max_wait_s=25,
                      service_level=0.25, att_s=97.5, rna=1, transfers=1),
        # D's leg in support keeps its first enqueue (+400): answered at +530
        "support": dict(contacts=1, offered=1, answered=1, asa_s=130, service_level=0.0,
                        att_s=60),
    })


def test_agent_states_from_queue_log() -> None:
    events, _ = parse_queue_log(QLOG.read_text().splitlines(), UTC)
    rows = {r["key"]: r for r in compute_report(events, "agent", P)}
    a1 = rows["Local/1001@agents"]
    # member from 0 to 1200 s; busy 425..500; paused 600..1200
    assert (a1["logged_in_s"], a1["busy_s"], a1["not_ready_s"], a1["ready_idle_s"]) == (
        1200, 75, 600, 525)
    assert a1["occupancy"] == 0.125 and a1["utilization"] == 0.0625 and a1["shrinkage"] == 0.5


def test_export_then_import_keeps_the_queue_figures() -> None:
    events = run()
    lines = events_to_queue_log(events)
    assert lines[0].split("|")[4] == "AGENTLOGIN"
    verbs = [ln.split("|")[4] for ln in lines]
    assert verbs.count("ENTERQUEUE") == 3 and "BLINDTRANSFER" in verbs and "ABANDON" in verbs
    back, problems = parse_queue_log(lines, UTC)
    assert problems == []
    for by in ("queue", "interval"):
        want = compute_report(events, by, P)
        got = compute_report(back, by, P)
        # (contacts differ: the IVR-only call c3 has no queue_log line)
        for name in ("key", "offered", "answered", "abandoned", "asa_s", "ata_s",
                     "service_level", "transfers"):
            assert [r[name] for r in got if r["offered"]] == \
                [r[name] for r in want if r["offered"]], name


def test_cli_report_from_queue_log() -> None:
    res = CliRunner().invoke(app, ["report", "--queue-log", str(QLOG), "--by", "queue",
                                   "--format", "json", "--tz", "UTC"])
    assert res.exit_code == 0, res.output
    assert "unknown verb 'FOOBAR'" in res.stderr
    assert [r["key"] for r in json.loads(res.stdout)] == ["sales", "support"]
