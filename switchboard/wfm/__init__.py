"""Workforce management: Erlang B / C / A queue figures and staffing solvers.

Pure functions (no I/O): see :mod:`switchboard.wfm.erlang` for the formulas and
:mod:`switchboard.wfm.staffing` for the solvers.
"""

from __future__ import annotations

from switchboard.wfm.erlang import (
    QueueFigures,
    erlang_a_metrics,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    log_erlang_b,
)
from switchboard.wfm.rounding import scheduled_agents
from switchboard.wfm.staffing import (
    ERLANG_A,
    ERLANG_C,
    PlanResult,
    Staffing,
    Targets,
    evaluate,
    evaluate_plan,
    staff,
    staff_plan,
)

__all__ = [
    "ERLANG_A",
    "ERLANG_C",
    "PlanResult",
    "QueueFigures",
    "Staffing",
    "Targets",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "evaluate",
    "evaluate_plan",
    "log_erlang_b",
    "scheduled_agents",
    "staff",
    "staff_plan",
]
