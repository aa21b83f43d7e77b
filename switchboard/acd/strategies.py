"""Routing strategies as small functions of read-only agent views.

Every key-based strategy is a function ``key(agent, pool, now) -> tuple``: the
free agent with the smallest key gets the contact. The engine keeps the free
agents of each pool in an index ordered by that key (see :mod:`.index`), so a
decision costs O(log n) instead of a scan; the naive router of
``bench/engine.py`` calls the same functions with ``min`` over every agent,
which is also how to read what each strategy does. Random strategies draw from
the engine's seeded generator. Every key ends with the agent id, so ties are
broken the same way on every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from switchboard.domain.enums import Strategy


class AgentView(Protocol):
    """What a strategy may read about an agent."""

    @property
    def id(self) -> str: ...
    @property
    def idle_since(self) -> float: ...
    @property
    def handled(self) -> int: ...
    @property
    def order(self) -> int: ...
    @property
    def weight(self) -> float: ...
    @property
    def skills(self) -> Mapping[str, int]: ...
    def busy_seconds(self, now: float, window_s: float) -> float: ...


class PoolView(Protocol):
    """What a strategy may read about the group of agents it picks from."""

    @property
    def required(self) -> Mapping[str, int]: ...
    @property
    def occupancy_window_s(self) -> float: ...
    def rank(self, agent_id: str, default: int) -> int: ...


Key = tuple[float | int | str, ...]
KeyFn = Callable[[AgentView, PoolView, float], Key]


def longest_idle(a: AgentView, pool: PoolView, now: float) -> Key:
    """MIA: the agent whose last contact ended longest ago."""
    return (a.idle_since, a.order, a.id)


def least_occupied(a: AgentView, pool: PoolView, now: float) -> Key:
    """LOA: the lowest busy time (talk, hold, wrap-up) over the pool's window,
    measured when the agent became free; then longest idle."""
    return (a.busy_seconds(now, pool.occupancy_window_s), a.idle_since, a.id)


def fewest_handled(a: AgentView, pool: PoolView, now: float) -> Key:
    return (a.handled, a.idle_since, a.id)


def linear(a: AgentView, pool: PoolView, now: float) -> Key:
    """Top-down: the first free agent in the queue's member order (or agent order)."""
    return (pool.rank(a.id, a.order), a.id)


def skill_score(a: AgentView, required: Mapping[str, int]) -> int:
    """Sum of the agent's levels in the required skills."""
    return sum(a.skills.get(s, 0) for s in required)


def best_skill(a: AgentView, pool: PoolView, now: float) -> Key:
    """The highest proficiency in the required skills; then longest idle."""
    return (-skill_score(a, pool.required), a.idle_since, a.id)


def ring_order(a: AgentView, pool: PoolView, now: float) -> Key:
    """The ring of round robin, and the order of the random strategies' index."""
    return (pool.rank(a.id, a.order), a.id)


KEY_FUNCTIONS: dict[Strategy, KeyFn] = {
    Strategy.LONGEST_IDLE: longest_idle,
    Strategy.LEAST_OCCUPIED: least_occupied,
    Strategy.FEWEST_HANDLED: fewest_handled,
    Strategy.LINEAR: linear,
    Strategy.BEST_SKILL: best_skill,
    Strategy.RING_ALL: longest_idle,  # order in which ring-all offers are listed
    Strategy.ROUND_ROBIN: ring_order,
    Strategy.RANDOM: ring_order,
    Strategy.WEIGHTED_RANDOM: ring_order,
}
