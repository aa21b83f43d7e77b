"""KPI definitions over the event log (METRICS.md): batch and streaming, one definition.

Pure modules (no I/O; under the import-linter core contract): ``params``,
``tz``, ``cdr``, ``kpi``, ``builder``, ``agents``, ``batch``, ``streaming``,
``queue_log``, ``queue_log_export``. The shell: ``io_cdr`` (files),
``columnar`` (DuckDB), ``output`` (formats), ``zones`` (the machine's zone).
See docs/metrics.md for the API.
"""

from __future__ import annotations

from switchboard.metrics.batch import compute_report, report_from_cdr_rows
from switchboard.metrics.builder import cdr_rows_from_events
from switchboard.metrics.cdr import CdrRow
from switchboard.metrics.params import EXPORT_NAMES, ReportParams

__all__ = [
    "EXPORT_NAMES",
    "CdrRow",
    "ReportParams",
    "cdr_rows_from_events",
    "compute_report",
    "report_from_cdr_rows",
]
