"""Benchmark: `switchboard report --by interval` over 10 million CDR rows.

Generates N CDR rows (default 10,000,000) into a temporary Parquet file with
typed columns (naive TIMESTAMP, as a CDR export to Parquet holds them; the
timings include reading that file, not generating it), then times in the same
run:

* switchboard: :func:`switchboard.metrics.columnar.columnar_report` (DuckDB;
  a CSV file read through Arrow first), by 30-minute interval, all
  METRICS.md figures, with every row checked against the CDR grammar, for
  contradictions and for duplicate ids, as the CLI does;
* baseline: pandas (``read_parquet`` or ``read_csv`` + vectorised columns +
  ``groupby``) computing the same figures with the same contradiction and
  duplicate-id checks (its parsers do not hold time stamps to the CDR
  grammar). ``--pandas-engine pyarrow`` reads the CSV with pandas' Arrow
  engine, which infers the time stamps as it parses (much faster than the
  default C engine and ``to_datetime``).

Both results are compared figure by figure; prints one JSON object.
Usage: ``python bench/report.py [--rows N] [--csv] [--repeat N]
[--pandas-engine c|pyarrow]`` (``--csv``
also times the CSV format of METRICS.md, reading text time stamps, through
Arrow's reader as ``switchboard report --cdr`` does; ``--repeat`` times each
side N times, alternating, and reports the best and the median: 3 by default,
since one run of either side can be slowed by the machine's other work).

The machine may be shared: the JSON carries the load average before and
after each format and the CPU seconds (user + system, all threads) each side
used, which vary less with other processes than wall-clock seconds do.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from switchboard.metrics.columnar import columnar_report
from switchboard.metrics.params import UTC, ReportParams


def generate(path: Path, rows: int, fmt: str) -> None:
    """CDR rows over ~a year: 10% IVR-only, 60% answered, 30% abandoned/exited."""
    ts = "TIMESTAMP '2024-01-01' + to_microseconds(CAST(i * 3000000 + (i % 7) * 100000 AS BIGINT))"
    sql = f"""
    SELECT 'c' || i AS id, 'voice' AS channel, 'q' || (i % 7) AS queue,
      CASE WHEN i % 10 BETWEEN 1 AND 6 THEN 'a' || (i % 300) END AS agent,
      {ts} AS arrived_at,
      CASE WHEN i % 10 <> 0 THEN {ts} + to_seconds(20) END AS enqueued_at,
      CASE WHEN i % 10 BETWEEN 1 AND 6 THEN {ts} + to_seconds(20 + i % 97) END AS answered_at,
      CASE WHEN i % 10 BETWEEN 7 AND 8 THEN {ts} + to_seconds(20 + i % 41) END AS abandoned_at,
      CASE WHEN i % 10 BETWEEN 1 AND 6 THEN {ts} + to_seconds(20 + i % 97 + 60 + i % 300)
           WHEN i % 10 = 9 THEN {ts} + to_seconds(320) END AS ended_at,
      CAST((i % 3) * 5 AS BIGINT) AS hold_s, CAST((i % 4) * 7 AS BIGINT) AS wrapup_s
    FROM range({rows}) t(i)"""
    opts = ("(FORMAT PARQUET)" if fmt == "parquet"
            else "(HEADER, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%f')")
    duckdb.execute(f"COPY ({sql}) TO '{path}' {opts}")


def pandas_report(path: Path, params: ReportParams,
                  engine: str = "c") -> dict[str, dict[str, Any]]:
    """The baseline: the same figures and checks with pandas (``engine``:
    pandas' CSV parser, ``c`` by default; ``pyarrow`` lets Arrow infer the
    time stamps as it parses)."""
    cols = ["id", "arrived_at", "enqueued_at", "answered_at", "abandoned_at", "ended_at",
            "hold_s", "wrapup_s"]
    if path.suffix == ".parquet":
        df = pd.read_parquet(path, columns=cols)
    else:
        df = pd.read_csv(path, usecols=cols, engine=engine)
        for c in cols[1:6]:
            df[c] = pd.to_datetime(df[c], format="ISO8601")
    us = {c: df[c].to_numpy("datetime64[us]").astype(np.int64) for c in cols[1:6]}
    nat = np.iinfo(np.int64).min
    has = {c: us[c] != nat for c in us}
    arr, enq, ans, abd, end = (us[c] for c in cols[1:6])
    hold = df["hold_s"].to_numpy(np.int64) * 1_000_000
    wrap = df["wrapup_s"].to_numpy(np.int64) * 1_000_000
    # the same contradiction checks as the CDR reader
    bad = (has["answered_at"] & has["abandoned_at"])
    for c in ("enqueued_at", "answered_at", "abandoned_at", "ended_at"):
        bad |= has[c] & (us[c] < arr)
    bad |= has["enqueued_at"] & has["answered_at"] & (ans < enq)
    bad |= has["enqueued_at"] & has["abandoned_at"] & (abd < enq)
    bad |= has["answered_at"] & has["ended_at"] & ((end < ans) | (end - ans < hold))
    bad |= (hold < 0) | (wrap < 0) | ~has["arrived_at"]
    if bad.any() or df["id"].duplicated().any():
        raise SystemExit("baseline found bad rows")
    q = has["enqueued_at"]
    answered = q & has["answered_at"]
    abandoned = q & ~has["answered_at"] & has["abandoned_at"]
    wait = np.where(answered, ans - enq, np.where(abandoned, abd - enq, 0))
    kt = np.where(q, enq, arr)
    key = kt - kt % params.interval_us
    t, short = params.sl_threshold_us, params.short_abandon_us
    frame = pd.DataFrame({
        "key": key, "contacts": 1,
        "self_service": ~q & ~has["answered_at"] & ~has["abandoned_at"],
        "offered": q, "answered": answered, "abandoned": abandoned,
        "short_abandoned": abandoned & (wait < short),
        "wait_answered_us": np.where(answered, wait, 0),
        "wait_abandoned_us": np.where(abandoned, wait, 0),
        "sl_met": answered & (wait <= t),
        "talk_us": np.where(answered & has["ended_at"], end - ans - hold, 0),
        "hold_us": np.where(answered, hold, 0), "held": answered & (hold > 0),
        "wrapup_us": np.where(answered, wrap, 0),
        "max_wait": np.where(answered | abandoned, wait, -1),
    })
    g = frame.groupby("key").sum()
    g["max_wait"] = frame.groupby("key")["max_wait"].max()
    out: dict[str, dict[str, Any]] = {}
    for k, r in g.iterrows():
        n_ans, n_ab, off = int(r["answered"]), int(r["abandoned"]), int(r["offered"])

        def div(a: float, b: float) -> float | None:
            return None if b == 0 else a / b

        key_text = pd.Timestamp(int(k), unit="us").isoformat()
        out[key_text] = {
            "contacts": int(r["contacts"]), "offered": off, "answered": n_ans,
            "abandoned": n_ab, "short_abandoned": int(r["short_abandoned"]),
            "abandon_rate": div(n_ab, off),
            "self_service_rate": div(int(r["self_service"]), int(r["contacts"])),
            "asa_s": div(r["wait_answered_us"] / 1e6, n_ans),
            "ata_s": div(r["wait_abandoned_us"] / 1e6, n_ab),
            "max_wait_s": None if r["max_wait"] < 0 else r["max_wait"] / 1e6,
            "service_level": div(int(r["sl_met"]), n_ans + n_ab),
            "att_s": div(r["talk_us"] / 1e6, n_ans), "avg_hold_s": div(r["hold_us"] / 1e6, n_ans),
            "hold_rate": div(int(r["held"]), n_ans), "acw_s": div(r["wrapup_us"] / 1e6, n_ans),
            "aht_s": div((r["talk_us"] + r["hold_us"] + r["wrapup_us"]) / 1e6, n_ans),
        }
    return out


def compare(ours: list[dict[str, Any]], theirs: dict[str, dict[str, Any]]) -> int:
    """Number of figures that differ (counts exactly, the rest within 1e-9 relative)."""
    diffs = 0 if len(ours) == len(theirs) else 1
    for row in ours:
        other = theirs.get(str(row["key"]))
        if other is None:
            diffs += 1
            continue
        for name, want in other.items():
            got = row[name]
            if (got is None) != (want is None) or (
                    got is not None and not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)):
                diffs += 1
    return diffs


def _cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    cpu, t = _cpu_s(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, _cpu_s() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--csv", action="store_true", help="also time the CSV format")
    ap.add_argument("--repeat", type=int, default=3,
                    help="time each side N times (alternating; best and median reported)")
    ap.add_argument("--pandas-engine", choices=["c", "pyarrow"], default="c",
                    help="pandas' CSV parser for the baseline (default: c)")
    args = ap.parse_args()
    params = ReportParams(tz=UTC, interval_min=30)
    result: dict[str, Any] = {"rows": args.rows, "by": "interval", "interval_min": 30,
                              "cpus": os.cpu_count(), "duckdb": duckdb.__version__,
                              "pandas": pd.__version__, "pandas_csv_engine": args.pandas_engine}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("parquet", "csv") if args.csv else ("parquet",):
            path = Path(tmp) / f"cdr.{fmt}"
            t = time.perf_counter()
            generate(path, args.rows, fmt)
            gen_s = time.perf_counter() - t
            load_before = os.getloadavg()
            ours_s, base_s, ours_cpu, base_cpu = [], [], [], []
            diffs = 0
            for _ in range(args.repeat):
                ours, wall, cpu = timed(lambda p=path: columnar_report(p, "interval", params))
                ours_s.append(wall)
                ours_cpu.append(cpu)
                theirs, wall, cpu = timed(
                    lambda p=path: pandas_report(p, params, args.pandas_engine))
                base_s.append(wall)
                base_cpu.append(cpu)
                diffs += compare(ours.report, theirs)
            best, median = min(ours_s), statistics.median(ours_s)
            base_best, base_median = min(base_s), statistics.median(base_s)
            result[fmt] = {
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "generate_s": round(gen_s, 2),
                "runs": args.repeat,
                "switchboard_s": [round(x, 2) for x in ours_s],
                "pandas_baseline_s": [round(x, 2) for x in base_s],
                "switchboard_cpu_s": [round(x, 2) for x in ours_cpu],
                "pandas_baseline_cpu_s": [round(x, 2) for x in base_cpu],
                "switchboard_best_s": round(best, 2),
                "switchboard_median_s": round(median, 2),
                "pandas_best_s": round(base_best, 2),
                "pandas_median_s": round(base_median, 2),
                "speedup_best": round(base_best / best, 2),
                "speedup_median": round(base_median / median, 2),
                "speedup_cpu_median": round(statistics.median(base_cpu)
                                            / statistics.median(ours_cpu), 2),
                "groups": len(ours.report),
                "figures_that_differ": diffs,
                "load_before": [round(x, 2) for x in load_before],
                "load_after": [round(x, 2) for x in os.getloadavg()],
                "target": "switchboard_s < 10 and speedup >= 5",
                "met_best": best < 10 and base_best / best >= 5,
                "met_median": median < 10 and base_median / median >= 5,
            }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
