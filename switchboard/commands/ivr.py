"""``switchboard ivr-validate FLOW...``: check IVR flow files before they are saved.

Prints each flow's name, start step, step count and content digest; for a flow
that is refused, every problem found (file, line, step and what to fix) on
stderr, and the exit status is 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from switchboard.ivr.errors import FlowError
from switchboard.ivr.loader import parse_flow


def ivr_validate(
    files: Annotated[list[Path], typer.Argument(help="Flow files (YAML or JSON).")],
    queues: Annotated[str | None, typer.Option(
        "--queues", help="Comma-separated queue names the flows may enqueue to.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Validate IVR flow files (see docs/ivr.md); exit 2 if any is refused."""
    known = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    results: list[dict[str, object]] = []
    failed = False
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"error: {path}: cannot read: {exc}", err=True)
            failed = True
            continue
        try:
            flow = parse_flow(text, source=str(path), known_queues=known)
        except FlowError as exc:
            failed = True
            for problem in exc.errors:
                typer.echo(f"error: {problem}", err=True)
            results.append({"file": str(path), "valid": False,
                            "errors": [str(p) for p in exc.errors]})
            continue
        results.append({"file": str(path), "valid": True, "name": flow.name,
                        "start": flow.start, "steps": len(flow.steps),
                        "digest": flow.digest})
        if not as_json:
            typer.echo(f"ok: {path}: flow {flow.name!r}, {len(flow.steps)} steps from "
                       f"{flow.start!r}, digest {flow.digest[:12]}")
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    if failed:
        raise typer.Exit(2)
