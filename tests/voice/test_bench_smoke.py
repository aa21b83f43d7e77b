"""Smoke test of bench/voice.py at a tiny size (2 calls/s, 6 calls, 4 s each):
every call goes through and the JSON report has its documented keys. No
timing or CPU figure is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.voice.peers import need_peers

BENCH = Path(__file__).resolve().parents[2] / "bench" / "voice.py"


@pytest.mark.slow
@pytest.mark.voice
def test_voice_bench_runs_small() -> None:
    need_peers()
    out = subprocess.run([sys.executable, str(BENCH), "--rates", "2", "--calls", "6",
                          "--hold-s", "4"], capture_output=True, text=True, timeout=180,
                         check=True)
    report = json.loads(out.stdout)
    (phase,) = report["phases"]
    assert phase["sipp_exit"] == 0, phase["errors_tail"]
    assert (phase["completed"], phase["failed"], phase["bridged_to_agent"]) == (6, 0, 6)
    assert phase["invite_to_200_ms"]["n"] == 6
    assert set(phase["cpu_share"]) == {"switchboard", "rtpengine"}
    assert phase["peak_concurrent_switchboard"] >= 1
