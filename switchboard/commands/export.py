"""`switchboard export cdr|queue-log`: an event log as a CDR CSV or an Asterisk queue_log.

Reads ``--events`` (JSON lines of ``Event.to_dict()``) or ``--queue-log``,
writes ``--out``. Bad input: one line on stderr, exit code 2, nothing written.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from switchboard.domain.errors import SwitchboardError, ValidationError


class What(StrEnum):
    CDR = "cdr"
    QUEUE_LOG = "queue-log"


def export(
    what: Annotated[What, typer.Argument(help="cdr (METRICS.md CSV) or queue-log")],
    out: Annotated[Path, typer.Option(help="file to write")],
    events: Annotated[Path | None, typer.Option(help="event log (JSON lines)")] = None,
    queue_log: Annotated[Path | None, typer.Option("--queue-log",
                                                   help="Asterisk queue_log to convert")] = None,
    tz: Annotated[str | None, typer.Option(help="zone of the CDR time stamps (written with "
                                           "their offset; default: the machine's)")] = None,
) -> None:
    """Convert an event log (or a queue_log) to the CDR CSV or to a queue_log."""
    from switchboard.metrics.builder import cdr_rows_from_events
    from switchboard.metrics.io_cdr import read_events_jsonl, read_queue_log, write_cdr_csv
    from switchboard.metrics.queue_log_export import events_to_queue_log
    from switchboard.metrics.tz import TzTable
    from switchboard.metrics.zones import resolve_tz

    try:
        if (events is None) == (queue_log is None):
            raise ValidationError("give exactly one of --events, --queue-log", field="events")
        zone = resolve_tz(tz)
        if events is not None:
            log = read_events_jsonl(events)
        else:
            assert queue_log is not None
            log, problems = read_queue_log(queue_log, zone)
            for p in problems:
                typer.echo(f"{queue_log}: {p}", err=True)
        if what is What.CDR:
            write_cdr_csv(cdr_rows_from_events(log), out, TzTable(zone))
        else:
            out.write_text("".join(line + "\n" for line in events_to_queue_log(log)),
                           encoding="utf-8")
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(2) from None
