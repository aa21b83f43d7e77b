"""`switchboard simulate`: run a scenario (or one M/M/n(+M) queue) through the
real routing engine on a virtual clock and report METRICS.md figures.

The shell around :mod:`switchboard.sim`: it reads the scenario file (and the
CDR files it names), runs the pure simulator, shows a progress bar when
stderr is a terminal, and prints or writes the results. Bad input is one line
on stderr naming the file, line and field (or the option), and exit code 2;
nothing is written then.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.domain.events import Event, events_to_jsonl
from switchboard.sim.kpis import ci95, figures
from switchboard.sim.model import PoissonArrivals, Scenario, check_run, single_queue
from switchboard.sim.runner import simulate as run_scenario
from switchboard.sim.scenario import parse_scenario

_OPTION = {
    "arrivals_per_hour": "--arrivals-per-hour", "aht": "--aht", "agents": "--agents",
    "patience": "--patience", "hours": "--hours", "days": "--days",
    "sl_threshold": "--sl-threshold", "sl_formula": "--sl-formula", "seed": "--seed",
}
# Keys that differ between two runs with the same seed (wall-clock measurements).
TIMING_KEYS = ("elapsed_s", "calls_per_s")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


def simulate(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario YAML file (see docs/scenario.md); without it, the flags "
             "describe one queue.")] = None,
    arrivals_per_hour: Annotated[float | None, typer.Option(
        help="Poisson arrival rate (single-queue mode).")] = None,
    aht: Annotated[float | None, typer.Option(
        help="Mean handle time in seconds, exponential (single-queue mode).")] = None,
    agents: Annotated[int | None, typer.Option(help="Agents logged in all day.")] = None,
    patience: Annotated[float | None, typer.Option(
        help="Mean patience in seconds, exponential; none: nobody abandons.")] = None,
    hours: Annotated[float | None, typer.Option(
        help="Hours of arrivals per day (may exceed 24) [default 8].")] = None,
    days: Annotated[int | None, typer.Option(
        help="Independent days (replications) [default 1].")] = None,
    sl_threshold: Annotated[float | None, typer.Option(
        help="Service-level threshold T in seconds [default 20].")] = None,
    sl_formula: Annotated[str | None, typer.Option(
        help="default | answered | ignore_short | abandons_met.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed [default 1].")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.TABLE,
    events_out: Annotated[Path | None, typer.Option(
        help="Write the event log here as JSON lines (for `switchboard report --events`).",
    )] = None,
) -> None:
    """Simulate contact-center days through the real routing engine.

    JSON output: the METRICS.md figures over all days, abandoned_per_day, ci95
    (Student t across days; null with one day), calls, unfinished, and the
    wall-clock elapsed_s and calls_per_s (the only keys that differ between
    runs with the same seed)."""
    try:
        sc = _scenario(scenario, arrivals_per_hour, aht, agents, patience, hours, days,
                       sl_threshold, sl_formula, seed)
        started = time.perf_counter()
        with _event_file(events_out) as sink, _progress(sc) as progress:
            result = run_scenario(sc, sink=sink, progress=progress)
        elapsed = time.perf_counter() - started
    except SwitchboardError as exc:
        field = _OPTION.get(exc.field or "", exc.field)
        message = str(exc) if type(exc).__str__ is not SwitchboardError.__str__ else (
            f"{field}: {exc.message}" if field else exc.message)
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from None
    out = report(sc, result.days, elapsed)
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        _table(out)


def report(sc: Scenario, days: list[Any], elapsed_s: float) -> dict[str, Any]:
    """The JSON document: pooled figures, per-day abandons, CI95, counts, timing."""
    total = days[0].__class__()
    for d in days:
        total.add(d)
    out = figures(total, sc.sl_threshold_s, sc.sl_formula)
    per_day = [figures(d, sc.sl_threshold_s, sc.sl_formula) for d in days]
    out["abandoned_per_day"] = [d.abandoned for d in days]
    out["ci95"] = ci95(per_day)
    out["days"] = len(days)
    out["calls"] = total.contacts
    out["unfinished"] = total.unfinished
    out["seed"] = sc.seed
    out["elapsed_s"] = round(elapsed_s, 6)
    out["calls_per_s"] = round(total.contacts / elapsed_s, 1) if elapsed_s > 0 else None
    return out


def _scenario(path: Path | None, rate: float | None, aht: float | None, agents: int | None,
              patience: float | None, hours: float | None, days: int | None,
              sl_threshold: float | None, sl_formula: str | None, seed: int | None) -> Scenario:
    run: dict[str, Any] = {k: v for k, v in (
        ("hours", hours), ("days", days), ("sl_threshold_s", sl_threshold),
        ("sl_formula", sl_formula), ("seed", seed)) if v is not None}
    if path is None:
        for name, value in (("arrivals_per_hour", rate), ("aht", aht), ("agents", agents)):
            if value is None:
                raise ValidationError("is required without a scenario file", field=name)
        assert rate is not None and aht is not None and agents is not None
        return single_queue(arrivals_per_hour=rate, aht_s=aht, agents=agents,
                            patience_s=patience, hours=8.0 if hours is None else hours,
                            days=1 if days is None else days,
                            seed=1 if seed is None else seed,
                            sl_threshold_s=20.0 if sl_threshold is None else sl_threshold,
                            sl_formula=sl_formula or "default")
    for name, value in (("arrivals_per_hour", rate), ("aht", aht), ("agents", agents),
                        ("patience", patience)):
        if value is not None:
            raise ValidationError("describes the single-queue case: put it in the scenario "
                                  "file instead", field=name)
    base = path.parent

    def read(name: str) -> str:
        return (base / name).read_text(encoding="utf-8")

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", field="scenario") from None
    sc = parse_scenario(text, str(path), read)
    if run:
        check_run(run.get("hours", sc.hours), run.get("days", sc.days),
                  run.get("sl_threshold_s", sc.sl_threshold_s),
                  run.get("sl_formula", sc.sl_formula))
        sc = dataclasses.replace(sc, **run)
    return sc


@contextmanager
def _event_file(path: Path | None) -> Iterator[Callable[[list[Event]], None] | None]:
    """Stream the log to a temporary file beside ``path``; move it into place
    only when the whole run succeeded."""
    if path is None:
        yield None
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise ValidationError(f"cannot be written: {exc.strerror}", field="--events-out") from None
    fh: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")
    ok = False
    try:

        def write(events: list[Event]) -> None:
            fh.write(events_to_jsonl(events))

        yield write
        fh.close()
        os.replace(tmp, path)
        ok = True
    finally:
        if not ok:
            fh.close()
            if os.path.exists(tmp):
                os.unlink(tmp)


def _expected_calls(sc: Scenario) -> int | None:
    total = 0.0
    for s in sc.streams:
        if not isinstance(s.arrivals, PoissonArrivals):
            return None
        for r in s.arrivals.rates:
            span = max(0.0, min(r.end_s, sc.window_s) - r.start_s)
            total += r.per_hour * span / 3600.0
    return math.ceil(total * sc.days)


@contextmanager
def _progress(sc: Scenario) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("simulating", total=_expected_calls(sc))
        yield lambda n: bar.update(task, completed=n)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _table(out: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Simulation: {out['days']} day(s), {out['calls']} contacts "
                        f"({out['calls_per_s']} contacts/s)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("95% CI across days", justify="right")
    ci = out["ci95"]
    for key in ("offered", "answered", "abandoned", "abandon_rate", "service_level", "asa_s",
                "ata_s", "max_wait_s", "aht_s", "acw_s", "occupancy", "utilization",
                "shrinkage", "rna", "overflows", "callbacks"):
        band = ci.get(key)
        table.add_row(key, _fmt(out[key]),
                      "-" if band is None else f"{_fmt(band[0])} .. {_fmt(band[1])}")
    table.caption = (f"service level: {out['sl_formula']} formula, T = "
                     f"{out['sl_threshold_s']:g} s; unfinished contacts: {out['unfinished']}")
    console = Console()
    (console if console.is_terminal else Console(width=200)).print(table)
