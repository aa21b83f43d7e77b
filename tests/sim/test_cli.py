"""`switchboard simulate` end to end, through the Typer app."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.commands.simulate import TIMING_KEYS
from switchboard.domain.events import Answered, Event
from switchboard.sim.kpis import EXPORT_KEYS

FLAGS = ["simulate", "--arrivals-per-hour", "120", "--aht", "180", "--agents", "8",
         "--patience", "90", "--hours", "2", "--days", "3", "--seed", "4", "--format", "json"]


def _json(args: list[str]) -> dict[str, object]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def test_json_has_every_export_name_and_the_run_figures() -> None:
    out = _json(FLAGS)
    for key in (*EXPORT_KEYS, "abandoned_per_day", "ci95", "calls", *TIMING_KEYS):
        assert key in out
    assert out["sl_formula"] == "default" and out["sl_threshold_s"] == 20
    per_day = out["abandoned_per_day"]
    assert isinstance(per_day, list) and len(per_day) == 3
    assert sum(per_day) == out["abandoned"]
    assert out["calls"] == out["contacts"] == out["offered"]
    ci = out["ci95"]
    assert isinstance(ci, dict)
    low, high = ci["service_level"]
    assert low <= high and ci["sl_formula"] is None


def test_same_seed_same_output_except_timing() -> None:
    a, b = _json(FLAGS), _json(FLAGS)
    for key in TIMING_KEYS:
        a.pop(key), b.pop(key)
    assert json.dumps(a) == json.dumps(b)
    c = _json([*FLAGS[:-4], "--seed", "5", "--format", "json"])
    assert c["calls"] != a["calls"] or c["asa_s"] != a["asa_s"]


def test_events_out_is_a_replayable_log(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    out = _json([*FLAGS, "--events-out", str(path)])
    events = [Event.from_dict(json.loads(line)) for line in path.read_text().splitlines()]
    assert sum(isinstance(ev, Answered) for ev in events) == out["answered"]


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    bad = tmp_path / "s.yaml"
    bad.write_text("hours: 8\nqueues:\n  - id: q\n    strategy: fastest\n")
    result = CliRunner().invoke(app, ["simulate", str(bad), "--events-out", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: {bad}:4: queues[0].strategy: unknown strategy 'fastest'; use one of "
        "longest_idle, least_occupied, round_robin, fewest_handled, ring_all, linear, "
        "random, weighted_random, best_skill")
    assert not path.exists() and list(tmp_path.iterdir()) == [bad]
    result = CliRunner().invoke(app, ["simulate", "--aht", "100", "--agents", "2"])
    assert result.exit_code == 2
    assert result.stderr.strip() == \
        "error: --arrivals-per-hour: is required without a scenario file"
    result = CliRunner().invoke(app, [*FLAGS, "--days", "0"])
    assert result.exit_code == 2 and "--days" in result.stderr


def test_scenario_file_with_flag_overrides(tmp_path: Path) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text("""
hours: 1
skills: []
queues: [{id: q}]
agents: [{group: a, count: 2}]
demand: [{queue: q, arrivals: {per_hour: 30}, aht: 100}]
""")
    out = _json(["simulate", str(sc), "--days", "2", "--sl-formula", "answered",
                 "--format", "json"])
    assert out["days"] == 2 and out["sl_formula"] == "answered"
    table = CliRunner().invoke(app, ["simulate", str(sc)])
    assert table.exit_code == 0 and "service_level" in table.stdout


def test_the_console_script_loads_only_the_command_it_runs() -> None:
    """`switchboard simulate` pays for its own imports, not the server's or SciPy's
    (whole-process time is what bench/simulate.py compares with SimPy and ciw)."""
    code = ("import sys\nfrom switchboard import cli\n"
            "sys.argv = ['switchboard', 'simulate', '--help']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('switchboard.commands.')\n"
            "             or m in ('fastapi', 'scipy', 'sqlalchemy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert "Simulate contact-center days" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "['switchboard.commands.simulate']"
