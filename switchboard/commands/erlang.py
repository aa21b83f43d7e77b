"""`switchboard erlang`: Erlang C / Erlang A staffing for one interval or a plan.

The shell around :mod:`switchboard.wfm`: it reads the options (and the
intervals CSV), calls the pure solvers, and prints or writes the result. Bad
input is one line on stderr naming the option, or the CSV line and column,
and exit code 2; nothing is written then.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.wfm.plan import infer_period_s, parse_intervals_csv
from switchboard.wfm.rounding import check_shrinkage
from switchboard.wfm.staffing import (
    PlanResult,
    Staffing,
    Targets,
    evaluate,
    evaluate_plan,
    staff,
    staff_plan,
)

# Core field names -> the option a user must change.
_OPTION = {
    "volume": "--volume",
    "period_s": "--period",
    "aht_s": "--aht",
    "patience_s": "--patience",
    "agents": "--agents",
    "sl_target": "--sl-target",
    "sl_threshold_s": "--sl-threshold",
    "asa_target_s": "--asa-target",
    "abandon_target": "--abandon-target",
    "max_occupancy": "--max-occupancy",
    "shrinkage": "--shrinkage",
}
_PERCENT = ("p_wait", "service_level", "occupancy", "p_abandon")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def erlang(
    volume: Annotated[
        float | None, typer.Option(help="Forecast contacts in the interval (>= 0).")
    ] = None,
    period: Annotated[
        float | None,
        typer.Option(
            help="Interval length in seconds (inferred from an --intervals file's starts)."
        ),
    ] = None,
    aht: Annotated[float | None, typer.Option(help="Average handle time in seconds.")] = None,
    sl_target: Annotated[
        float | None,
        typer.Option(
            help="Service-level target, 0..1 (default 0.8 when no other target is given)."
        ),
    ] = None,
    sl_threshold: Annotated[
        float, typer.Option(help="Service-level threshold T in seconds.")
    ] = 20.0,
    max_occupancy: Annotated[float, typer.Option(help="Maximum agent occupancy, 0..1.")] = 0.85,
    shrinkage: Annotated[float, typer.Option(help="Shrinkage, 0 <= s < 1.")] = 0.3,
    patience: Annotated[
        float | None, typer.Option(help="Mean patience in seconds: use Erlang A (abandonment).")
    ] = None,
    agents: Annotated[
        int | None, typer.Option(help="Evaluate this many agents instead of solving.")
    ] = None,
    asa_target: Annotated[
        float | None, typer.Option(help="ASA target in seconds (answered contacts).")
    ] = None,
    abandon_target: Annotated[
        float | None, typer.Option(help="Abandonment target, 0..1 (needs --patience).")
    ] = None,
    intervals: Annotated[
        Path | None, typer.Option(help="CSV with columns interval_start,volume,aht: staff a plan.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the result to this file (CSV or JSON by --format).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.TABLE,
) -> None:
    """Erlang C / Erlang A staffing: agents needed for a service level, ASA or abandonment."""
    try:
        fmt = _output_format(fmt, out)
        targets = None
        if agents is None:
            if sl_target is None and asa_target is None and abandon_target is None:
                sl_target = 0.8
            targets = Targets(
                sl_target=sl_target,
                sl_threshold_s=sl_threshold,
                asa_target_s=asa_target,
                abandon_target=abandon_target,
                max_occupancy=max_occupancy,
            )
        check_shrinkage(shrinkage)
        if intervals is not None:
            for name, given in (("--volume", volume), ("--aht", aht)):
                if given is not None:
                    raise ValidationError("is not allowed with --intervals", field=name)
            text = _render_plan(
                intervals, period, targets, agents, sl_threshold, shrinkage, patience, fmt
            )
        else:
            text = _render_one(
                volume, period, aht, targets, agents, sl_threshold, shrinkage, patience, fmt
            )
        if out is not None:
            _write_atomically(out, text)
            typer.echo(f"wrote {out}")
        elif fmt is not Format.TABLE:
            sys.stdout.write(text)
    except SwitchboardError as exc:
        field = _OPTION.get(exc.field or "", exc.field)
        message = f"{field}: {exc.message}" if field else exc.message
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2) from None


def _output_format(fmt: Format, out: Path | None) -> Format:
    if out is None or fmt is not Format.TABLE:
        return fmt
    return Format.JSON if out.suffix.lower() == ".json" else Format.CSV


def _required(value: float | None, option: str) -> float:
    if value is None:
        raise ValidationError("is required (or give --intervals FILE)", field=option)
    return value


def _render_one(
    volume: float | None,
    period: float | None,
    aht: float | None,
    targets: Targets | None,
    agents: int | None,
    sl_threshold: float,
    shrinkage: float,
    patience: float | None,
    fmt: Format,
) -> str:
    vol = _required(volume, "--volume")
    per = _required(period, "--period")
    handle = _required(aht, "--aht")
    if targets is None:
        assert agents is not None
        result = evaluate(
            vol,
            per,
            handle,
            agents,
            sl_threshold_s=sl_threshold,
            shrinkage=shrinkage,
            patience_s=patience,
        )
    else:
        result = staff(vol, per, handle, targets=targets, shrinkage=shrinkage, patience_s=patience)
    row: dict[str, Any] = result.as_dict()
    row.update(
        mode="evaluate" if targets is None else "solve",
        volume=vol,
        period_s=per,
        aht_s=handle,
        patience_s=patience,
        sl_threshold_s=sl_threshold,
        sl_target=None if targets is None else targets.sl_target,
        asa_target_s=None if targets is None else targets.asa_target_s,
        abandon_target=None if targets is None else targets.abandon_target,
        max_occupancy=None if targets is None else targets.max_occupancy,
        shrinkage=shrinkage,
    )
    if fmt is Format.JSON:
        return json.dumps(row, indent=2, allow_nan=False) + "\n"
    if fmt is Format.CSV:
        return _csv([row])
    _print_single(row)
    return ""


def _render_plan(
    path: Path,
    period: float | None,
    targets: Targets | None,
    agents: int | None,
    sl_threshold: float,
    shrinkage: float,
    patience: float | None,
    fmt: Format,
) -> str:
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot be read: {exc}", field="--intervals") from None
    plan = parse_intervals_csv(content, source=path.name)
    period_s = period if period is not None else infer_period_s(plan, source=path.name)
    result: PlanResult
    if targets is None:
        assert agents is not None
        result = evaluate_plan(
            plan.volume,
            plan.aht_s,
            agents,
            period_s=period_s,
            sl_threshold_s=sl_threshold,
            shrinkage=shrinkage,
            patience_s=patience,
        )
    else:
        result = staff_plan(
            plan.volume,
            plan.aht_s,
            period_s=period_s,
            targets=targets,
            shrinkage=shrinkage,
            patience_s=patience,
        )
    rows = [
        _plan_row(s, v, h, r)
        for s, v, h, r in zip(
            plan.starts, plan.volume.tolist(), plan.aht_s.tolist(), result.rows(), strict=True
        )
    ]
    if fmt is Format.JSON:
        return json.dumps(rows, indent=2, allow_nan=False) + "\n"
    if fmt is Format.CSV:
        return _csv(rows)
    _print_plan(rows, period_s)
    return ""


def _plan_row(start: str, volume: float, aht: float, staffing: Staffing) -> dict[str, Any]:
    row: dict[str, Any] = {"interval_start": start, "volume": volume, "aht_s": aht}
    row.update(staffing.as_dict())
    return row


def _csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(rows[0]))
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row.values()])
    return buf.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _show(key: str, value: object, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and key in _PERCENT:
        return f"{value:.{digits}%}"
    if isinstance(value, float) and key.endswith("_s"):
        return f"{value:,.1f} s"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _print_single(row: dict[str, Any]) -> None:
    table = Table(title=f"Erlang staffing ({row['model']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in row.items():
        if key != "model" and not (value is None and key not in ("p_abandon", "asa_s")):
            table.add_row(key, _show(key, value))
    _console().print(table)


def _print_plan(rows: list[dict[str, Any]], period_s: float) -> None:
    columns = [
        ("interval_start", "start"),
        ("volume", "volume"),
        ("traffic_erlangs", "erlangs"),
        ("agents", "agents"),
        ("scheduled_agents", "sched"),
        ("service_level", "SL"),
        ("asa_s", "ASA"),
        ("occupancy", "occ"),
        ("p_abandon", "aband"),
        ("overloaded", "over"),
    ]
    if rows[0]["p_abandon"] is None and all(r["p_abandon"] is None for r in rows):
        columns.remove(("p_abandon", "aband"))
    table = Table(title=f"Erlang staffing ({rows[0]['model']}, {period_s:g} s intervals)")
    for key, label in columns:
        table.add_column(label, justify="left" if key == "interval_start" else "right")
    for row in rows:
        table.add_row(*(_show(key, row[key], digits=1) for key, _ in columns))
    console = _console()
    console.print(table)
    peak = max(r["scheduled_agents"] for r in rows)
    over = sum(1 for r in rows if r["overloaded"])
    console.print(f"{len(rows)} intervals, peak scheduled agents {peak}, overloaded {over}")


def _console() -> Console:
    console = Console()
    # Piped output has no terminal width to fit: do not squeeze the columns.
    return console if console.is_terminal else Console(width=200)


def _write_atomically(path: Path, text: str) -> None:
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ValidationError(f"cannot be written: {exc}", field="--out") from None
