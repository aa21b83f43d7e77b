"""`switchboard ivr-validate`: flows are checked from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from switchboard.cli import app

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "ivr").glob("*.yaml"))


def test_examples_are_valid() -> None:
    assert EXAMPLES
    result = CliRunner().invoke(app, ["ivr-validate", "--json", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["valid"] for r in rows] == [True] * len(EXAMPLES)
    assert all(len(str(r["digest"])) == 64 for r in rows)


def test_a_bad_flow_names_the_file_line_and_step(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nstart: menu\nsteps:\n  menu:\n    type: menu\n"
                   "    prompt: {say: 'Press 1'}\n    options: {'1': nowhere}\n"
                   "    fallback: bye\n  bye:\n    type: hangup\n")
    result = CliRunner().invoke(app, ["ivr-validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:7" in result.stderr and "nowhere" in result.stderr


def test_unreadable_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ivr-validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
