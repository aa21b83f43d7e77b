"""Simulation: a virtual clock driving the real routing engine (sans-I/O).

:func:`switchboard.sim.runner.simulate` runs a :class:`switchboard.sim.model.Scenario`
(built by :func:`switchboard.sim.model.single_queue` or from a YAML file with
:func:`switchboard.sim.scenario.parse_scenario`) and returns per-day tallies
that :mod:`switchboard.sim.kpis` turns into METRICS.md figures.
"""

from __future__ import annotations
