"""`switchboard erlang` through the real Typer app (CliRunner)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from switchboard.cli import app

runner = CliRunner()
KEYS = [
    "model",
    "traffic_erlangs",
    "agents",
    "scheduled_agents",
    "p_wait",
    "service_level",
    "asa_s",
    "occupancy",
    "p_abandon",
]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["erlang", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_for_one_interval_has_the_keys_in_order() -> None:
    code, out, _ = run("--volume", "100", "--period", "1800", "--aht", "180", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert list(data)[: len(KEYS)] == KEYS
    assert data["model"] == "erlang_c" and data["p_abandon"] is None
    assert (data["agents"], data["scheduled_agents"]) == (14, 20)
    assert data["traffic_erlangs"] == 10.0
    assert isinstance(data["service_level"], float) and data["service_level"] >= 0.8
    assert data["overloaded"] is False and data["mode"] == "solve"
    # stable: same run, same bytes
    assert run("--volume", "100", "--period", "1800", "--aht", "180", "--format", "json")[1] == out


def test_patience_switches_to_erlang_a() -> None:
    code, out, _ = run(
        "--volume",
        "100",
        "--period",
        "1800",
        "--aht",
        "180",
        "--patience",
        "120",
        "--abandon-target",
        "0.03",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["model"] == "erlang_a"
    assert 0 <= data["p_abandon"] <= 0.03
    assert data["sl_target"] is None  # an explicit target replaces the default 80%


def test_agents_evaluates_instead_of_solving() -> None:
    code, out, _ = run(
        "--volume", "100", "--period", "1800", "--aht", "180", "--agents", "9", "--format", "json"
    )
    assert code == 0
    data = json.loads(out)
    assert data["mode"] == "evaluate" and data["agents"] == 9
    assert data["overloaded"] is True and data["p_wait"] == 1.0 and data["asa_s"] is None
    assert data["scheduled_agents"] == 13


def test_table_output() -> None:
    code, out, _ = run("--volume", "100", "--period", "1800", "--aht", "180")
    assert code == 0
    assert "erlang_c" in out and "88.84%" in out and "scheduled_agents" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--volume", "-5", "--period", "1800", "--aht", "180"], "--volume: must be a number >= 0"),
        (
            ["--volume", "5", "--period", "1800", "--aht", "180", "--shrinkage", "1"],
            "--shrinkage: must be >= 0 and < 1",
        ),
        (["--volume", "5", "--aht", "180"], "--period: is required"),
        (
            ["--volume", "5", "--period", "1800", "--aht", "180", "--abandon-target", "0.1"],
            "--abandon-target: an abandonment target needs Erlang A",
        ),
        (
            ["--volume", "5", "--period", "1800", "--aht", "180", "--sl-target", "1.2"],
            "--sl-target: must be > 0 and < 1",
        ),
        (["--volume", "5", "--period", "1800", "--aht", "0"], "--aht: must be a number of seconds"),
        (["--volume", "5", "--period", "1800", "--aht", "9", "--patience", "0"], "--patience"),
        (["--volume", "5", "--period", "1800", "--aht", "9", "--agents", "-1"], "--agents"),
    ],
)
def test_bad_options_give_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: " + message)
    assert err.count("\n") == 1 and "Traceback" not in err


PLAN = (
    "interval_start,volume,aht\n"
    "2024-03-04T07:45:00,0,\n"
    "2024-03-04T08:00:00,120,300\n"
    "2024-03-04T08:15:00,250.5,280\n"
)


def test_intervals_csv_to_csv_file(tmp_path: Path) -> None:
    src = tmp_path / "plan.csv"
    src.write_text(PLAN)
    dest = tmp_path / "staff.csv"
    code, out, _ = run("--intervals", str(src), "--out", str(dest), "--format", "csv")
    assert code == 0 and "wrote" in out
    rows = list(csv.DictReader(io.StringIO(dest.read_text())))
    assert [r["interval_start"] for r in rows] == [
        "2024-03-04T07:45:00",
        "2024-03-04T08:00:00",
        "2024-03-04T08:15:00",
    ]
    assert rows[0]["agents"] == "0" and rows[0]["service_level"] == ""
    assert rows[1]["traffic_erlangs"] == "40.0"  # period inferred: 900 s
    assert int(rows[2]["agents"]) > float(rows[2]["traffic_erlangs"])


def test_intervals_json_to_stdout_matches_single_runs(tmp_path: Path) -> None:
    src = tmp_path / "plan.csv"
    src.write_text(PLAN)
    code, out, _ = run("--intervals", str(src), "--format", "json", "--patience", "90")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 3 and rows[0]["agents"] == 0
    code, one, _ = run(
        "--volume", "120", "--period", "900", "--aht", "300", "--patience", "90", "--format", "json"
    )
    single = json.loads(one)
    assert {k: rows[1][k] for k in KEYS} == {k: single[k] for k in KEYS}


def test_intervals_table(tmp_path: Path) -> None:
    src = tmp_path / "plan.csv"
    src.write_text(PLAN)
    code, out, _ = run("--intervals", str(src), "--period", "900")
    assert code == 0 and "3 intervals, peak scheduled agents" in out


def test_bad_intervals_file_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "plan.csv"
    src.write_text(PLAN + "2024-03-04T08:30:00,lots,300\n")
    dest = tmp_path / "out.json"
    code, out, err = run("--intervals", str(src), "--out", str(dest))
    assert code == 2 and out == ""
    assert err == "error: plan.csv line 5: volume: must be a number, got 'lots'\n"
    assert not dest.exists() and list(tmp_path.iterdir()) == [src]


def test_missing_column_and_conflicting_options(tmp_path: Path) -> None:
    src = tmp_path / "plan.csv"
    src.write_text("interval_start,volume\n2024-03-04T08:00:00,3\n")
    code, _, err = run("--intervals", str(src))
    assert code == 2 and "plan.csv line 1: missing column 'aht'" in err
    code, _, err = run("--intervals", str(src), "--volume", "3")
    assert code == 2 and err.startswith("error: --volume: is not allowed with --intervals")
    code, _, err = run("--intervals", str(tmp_path / "none.csv"))
    assert code == 2 and err.startswith("error: --intervals: cannot be read")
