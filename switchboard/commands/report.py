"""`switchboard report`: contact-center KPIs from a CDR file, a queue_log or an event log.

The shell around :mod:`switchboard.metrics`: CDR files (CSV, or Parquet by
suffix) go through the columnar engine (DuckDB); ``--engine python`` reads
them row by row instead (same figures, slower). Bad input is one line on
stderr (the file's line and reason for a CDR row) and exit code 2; nothing is
written then.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.metrics.params import AGENT_TIME_NAMES, EXPORT_NAMES, ReportParams


class By(StrEnum):
    INTERVAL = "interval"
    DAY = "day"
    QUEUE = "queue"
    AGENT = "agent"
    CHANNEL = "channel"


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    PARQUET = "parquet"


class SlFormula(StrEnum):
    DEFAULT = "default"
    ANSWERED = "answered"
    IGNORE_SHORT = "ignore_short"
    ABANDONS_MET = "abandons_met"


class EngineChoice(StrEnum):
    DUCKDB = "duckdb"
    PYTHON = "python"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def report(
    cdr: Annotated[Path | None, typer.Option(help="CDR file: CSV (METRICS.md format) "
                                             "or .parquet")] = None,
    queue_log: Annotated[Path | None, typer.Option("--queue-log",
                                                   help="Asterisk queue_log file")] = None,
    events: Annotated[Path | None, typer.Option(help="event log (JSON lines)")] = None,
    by: Annotated[By, typer.Option(help="group rows by")] = By.INTERVAL,
    interval: Annotated[int, typer.Option(help="interval minutes: 15, 30 or 60")] = 30,
    sl_threshold: Annotated[float, typer.Option(help="service-level threshold T, s")] = 20.0,
    sl_formula: Annotated[SlFormula, typer.Option(help="service-level formula")] =
        SlFormula.DEFAULT,
    short_abandon: Annotated[float, typer.Option(help="short abandon under this wait, s")] =
        5.0,
    exclude_short_abandons: Annotated[bool, typer.Option(
        help="leave short abandons out of the abandonment rate")] = False,
    fcr_window: Annotated[float, typer.Option(help="FCR window, days")] = 7.0,
    tz: Annotated[str | None, typer.Option(help="tenant zone for naive time stamps and "
                                           "intervals (default: the machine's)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="output format")] = Format.TABLE,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
    skip_bad_rows: Annotated[bool, typer.Option(help="skip self-contradicting CDR rows "
                                                "(counted on stderr)")] = False,
    engine: Annotated[EngineChoice, typer.Option(help="CDR engine: duckdb (columnar) or "
                                                 "python (row by row)")] = EngineChoice.DUCKDB,
) -> None:
    """Report KPIs (METRICS.md) by interval, day, queue, agent or channel."""
    sources = [s for s in (cdr, queue_log, events) if s is not None]
    if len(sources) != 1:
        _fail("give exactly one of --cdr, --queue-log, --events")
    try:
        text = _report(cdr, queue_log, events, by.value, interval, sl_threshold,
                       sl_formula.value, short_abandon, exclude_short_abandons,
                       fcr_window, tz, fmt.value, out, skip_bad_rows, engine.value)
    except SwitchboardError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
        return
    if text is not None:
        sys.stdout.write(text)


def _report(cdr: Path | None, queue_log: Path | None, events: Path | None, by: str,
            interval: int, sl_threshold: float, sl_formula: str, short_abandon: float,
            exclude_short: bool, fcr_days: float, tz_name: str | None, fmt: str,
            out: Path | None, skip: bool, engine: str) -> str | None:
    from switchboard.metrics.batch import compute_report, report_from_cdr_rows
    from switchboard.metrics.output import render
    from switchboard.metrics.tz import TzTable
    from switchboard.metrics.zones import resolve_tz

    if fcr_days < 0:
        raise ValidationError("must be a number of days >= 0", field="fcr_window")
    params = ReportParams(interval_min=interval, sl_threshold_s=sl_threshold,
                          sl_formula=sl_formula, short_abandon_s=short_abandon,
                          exclude_short_abandons=exclude_short,
                          fcr_window_s=fcr_days * 86400.0, tz=resolve_tz(tz_name))
    meta: dict[str, Any] = {"by": by, **params.describe()}
    skipped = 0
    if cdr is not None:
        if engine == "duckdb":
            from switchboard.metrics.columnar import columnar_report

            res = columnar_report(cdr, by, params, skip_bad_rows=skip)
            rows, skipped = res.report, res.skipped_count
            first = res.skipped[:1]
        else:
            from switchboard.metrics.io_cdr import read_cdr_csv

            f = read_cdr_csv(cdr, TzTable(params.tz), skip_bad_rows=skip)
            rows = report_from_cdr_rows(f.rows, by, replace(params, key_offsets=f.had_offset))
            skipped, first = len(f.skipped), f.skipped[:1]
        if skipped:
            typer.echo(f"skipped {skipped} bad row(s); first: line {first[0].line}: "
                       f"{first[0].reason}", err=True)
        meta["skipped_rows"] = skipped
    else:
        if queue_log is not None:
            from switchboard.metrics.io_cdr import read_queue_log

            log, problems = read_queue_log(queue_log, params.tz)
            for p in problems[:20]:
                typer.echo(f"{queue_log}: {p}", err=True)
            if len(problems) > 20:
                typer.echo(f"{queue_log}: ... {len(problems) - 20} more", err=True)
            meta["queue_log_problems"] = len(problems)
        else:
            from switchboard.metrics.io_cdr import read_events_jsonl

            assert events is not None
            log = read_events_jsonl(events)
        rows = compute_report(log, by, replace(params, key_offsets=True))
    names = ["key", *EXPORT_NAMES, *(AGENT_TIME_NAMES if by == "agent" else ())]
    caption = (f"by {by}; SL {params.sl_formula} T={params.sl_threshold_s:g}s; short abandon "
               f"<{params.short_abandon_s:g}s; FCR {fcr_days:g}d; "
               f"interval {params.interval_min} min; tz {meta['tz']}")
    return render(rows, names, fmt, out, meta, caption)
