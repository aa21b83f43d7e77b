"""Writing report rows as a table, JSON, CSV or Parquet (shell)."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from switchboard.domain.errors import ValidationError

FORMATS = ("table", "json", "csv", "parquet")

# The columns a terminal table shows (the other formats carry every figure).
_TABLE = (("key", "key"), ("offered", "offer"), ("answered", "ans"), ("abandoned", "aban"),
          ("abandon_rate", "aban%"), ("asa_s", "ASA s"), ("service_level", "SL%"),
          ("aht_s", "AHT s"))
_PERCENT = {"abandon_rate", "service_level"}


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps([{k: _clean(v) for k, v in r.items()} for r in rows], indent=1) + "\n"


def to_csv(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for r in rows:
        w.writerow(["" if r.get(n) is None else r.get(n) for n in names])
    return buf.getvalue()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if name in _PERCENT:
        return f"{100 * value:.1f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def to_table(rows: Sequence[dict[str, Any]], caption: str) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(caption=caption, box=None, pad_edge=False)
    for name, title in _TABLE:
        table.add_column(title, justify="left" if name == "key" else "right",
                         overflow="fold")
    for r in rows:
        table.add_row(*(_cell(name, r.get(name)) for name, _ in _TABLE))
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(table)
    return buf.getvalue()


def write_parquet(rows: Sequence[dict[str, Any]], names: Sequence[str],
                  path: Path | BinaryIO, meta: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {n: [r.get(n) for r in rows] for n in names}
    arrays = []
    for n in names:
        values = columns[n]
        if n in ("key", "sl_formula"):
            arrays.append(pa.array(values, type=pa.string()))
        elif all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in values) \
                and n in _INT_NAMES:
            arrays.append(pa.array(values, type=pa.int64()))
        else:
            arrays.append(pa.array([None if v is None else float(v) for v in values],
                                   type=pa.float64()))
    table = pa.Table.from_arrays(arrays, names=list(names))
    table = table.replace_schema_metadata({"switchboard": json.dumps(meta)})
    pq.write_table(table, path)


_INT_NAMES = {"contacts", "offered", "answered", "abandoned", "short_abandoned", "rna",
              "transfers", "overflows", "callbacks"}


def render(rows: Sequence[dict[str, Any]], names: Sequence[str], fmt: str, out: Path | None,
           meta: dict[str, Any], caption: str) -> str | None:
    """Write the report; return the text for stdout (None when written to a file)."""
    if fmt not in FORMATS:
        raise ValidationError(f"must be one of {', '.join(FORMATS)}", field="format")
    if fmt == "parquet":
        if out is None:
            raise ValidationError("parquet needs --out FILE", field="out")
        write_parquet(rows, names, out, meta)
        return None
    if fmt == "json":
        text = to_json(rows)
    elif fmt == "csv":
        text = to_csv(rows, names)
    else:
        text = to_table(rows, caption)
    if out is None:
        return text
    out.write_text(text, encoding="utf-8")
    return None
