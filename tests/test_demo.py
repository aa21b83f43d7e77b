"""`switchboard demo` (what `make run` shows until the server exists)."""

from __future__ import annotations

from typer.testing import CliRunner

from switchboard.cli import app


def test_demo_walks_through_the_engine_and_simulates() -> None:
    result = CliRunner().invoke(app, ["demo", "--seed", "3"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "offered(call-1/ada/billing)" in out  # skills: only Ada qualifies
    assert "offer_timeout(call-2/chloe/billing)" in out  # RNA
    assert "offered(call-3/ada/billing)" in out  # the callback kept its place
    assert "answered(call-1/bruno/french)" in out  # the transferred call
    assert "Erlang A" in out and "abandon_rate" in out
