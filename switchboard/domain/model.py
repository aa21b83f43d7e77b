"""Configuration of the routing world: customers, skills, agents and queues.

Every object validates itself on construction and raises :class:`ConfigError`
naming the offending field, so that a bad configuration never reaches the
engine. :class:`RoutingConfig` checks what only the whole can tell: unknown
skills, unknown or self-referencing overflow targets, duplicate ids.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from switchboard.domain.enums import Channel, Strategy
from switchboard.domain.errors import ConfigError

MIN_LEVEL = 1
MAX_LEVEL = 10

DEFAULT_CAPACITY: Mapping[Channel, int] = MappingProxyType(
    {Channel.VOICE: 1, Channel.CHAT: 3, Channel.EMAIL: 1, Channel.SMS: 3}
)


def _check_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("must be a non-empty string", field=where)
    return value


def _check_seconds(value: Any, where: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ConfigError(f"must be a number of seconds >= 0, got {value!r}", field=where)


NO_LEVELS: Mapping[str, int] = MappingProxyType({})


def check_levels(skills: Mapping[str, int], where: str) -> Mapping[str, int]:
    """Validate a {skill: proficiency} mapping; return a read-only copy."""
    if not isinstance(skills, Mapping):
        raise ConfigError("must be a mapping of skill name to level 1..10", field=where)
    if not skills:
        return NO_LEVELS
    out: dict[str, int] = {}
    for name, level in skills.items():
        _check_id(name, f"{where}")
        if isinstance(level, bool) or not isinstance(level, int):
            raise ConfigError(f"level must be a whole number, got {level!r}",
                              field=f"{where}.{name}")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise ConfigError(
                f"proficiency must be between {MIN_LEVEL} and {MAX_LEVEL}, got {level}",
                field=f"{where}.{name}",
            )
        out[name] = level
    return MappingProxyType(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """Who the contact is with, as far as routing cares."""

    id: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k in ("id", "name", "phone", "email") if (v := getattr(self, k))}


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """An agent's routing profile: skills with levels, capacity per channel."""

    id: str
    name: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)
    capacity: Mapping[Channel, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    weight: float = 1.0  # weighted random
    order: int = 0  # linear / round robin position (ties by id)

    def __post_init__(self) -> None:
        where = f"agents[{self.id}]"
        _check_id(self.id, "agents[].id")
        object.__setattr__(self, "skills", check_levels(self.skills, f"{where}.skills"))
        cap: dict[Channel, int] = {}
        if not isinstance(self.capacity, Mapping):
            raise ConfigError("must map channel to a count", field=f"{where}.capacity")
        for ch, n in self.capacity.items():
            try:
                channel = Channel(ch)
            except ValueError:
                raise ConfigError(
                    f"unknown channel {ch!r}; use one of {', '.join(Channel)}",
                    field=f"{where}.capacity",
                ) from None
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 100:
                raise ConfigError(
                    f"capacity must be a whole number 0..100, got {n!r}",
                    field=f"{where}.capacity.{channel}",
                )
            cap[channel] = n
        object.__setattr__(self, "capacity", MappingProxyType(cap))
        if (
            isinstance(self.weight, bool)
            or not isinstance(self.weight, int | float)
            or not math.isfinite(self.weight)
            or self.weight <= 0
        ):
            raise ConfigError(f"must be a number > 0, got {self.weight!r}", field=f"{where}.weight")


class JoinRule(StrEnum):
    """When a contact may join a queue, or must leave it, by the agents present.

    ``always``: regardless of agents; ``logged_in``: at least one eligible agent
    is logged in (ready or not ready); ``ready``: at least one eligible agent is
    ready. (Asterisk's joinempty / leavewhenempty, simplified.)
    """

    ALWAYS = "always"
    LOGGED_IN = "logged_in"
    READY = "ready"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpansionStep:
    """After ``after_s`` seconds of waiting, widen who may take the contact.

    ``skills`` replaces the queue's requirement (usually relaxed levels or fewer
    skills); ``add_agents`` and ``add_queues`` make those agents, or the agents
    eligible for those queues, eligible too. Steps accumulate (bullseye).
    """

    after_s: float
    skills: Mapping[str, int] | None = None
    add_agents: tuple[str, ...] = ()
    add_queues: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_seconds(self.after_s, "steps[].after_s")
        if self.skills is not None:
            object.__setattr__(self, "skills", check_levels(self.skills, "steps[].skills"))
        object.__setattr__(self, "add_agents", tuple(self.add_agents))
        object.__setattr__(self, "add_queues", tuple(self.add_queues))


@dataclass(frozen=True, slots=True, kw_only=True)
class OverflowRule:
    """Move a waiting contact to ``to_queue`` after ``after_s`` seconds in this
    queue, or on entry when the estimated wait exceeds ``ewt_above_s``."""

    to_queue: str
    after_s: float | None = None
    ewt_above_s: float | None = None

    def __post_init__(self) -> None:
        _check_id(self.to_queue, "overflow[].to_queue")
        _check_seconds(self.after_s, "overflow[].after_s", allow_none=True)
        _check_seconds(self.ewt_above_s, "overflow[].ewt_above_s", allow_none=True)
        if self.after_s is None and self.ewt_above_s is None:
            raise ConfigError("needs after_s or ewt_above_s", field="overflow[]")


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueConfig:
    """A queue and its routing policy."""

    id: str
    name: str = ""
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    members: tuple[str, ...] | None = None  # None: every agent with the skills
    weight: int = 0  # higher wins when queues compete for one agent
    priority_aging_s: float = 0.0  # +1 priority per this many seconds waited; 0: off
    steps: tuple[ExpansionStep, ...] = ()
    overflow: tuple[OverflowRule, ...] = ()
    max_length: int | None = None
    timeout_s: float | None = None  # leave the queue (EXITWITHTIMEOUT) after this
    join_rule: JoinRule = JoinRule.ALWAYS
    leave_rule: JoinRule = JoinRule.ALWAYS  # ALWAYS: never leave for lack of agents
    ring_timeout_s: float = 20.0
    wrapup_s: float = 0.0
    max_wrapup_s: float = 600.0  # extensions may not pass this
    max_misses: int = 3  # consecutive missed offers before auto not-ready; 0: off
    occupancy_window_s: float = 3600.0  # LOA window
    affinity_timeout_s: float = 0.0  # wait this long for the last agent; 0: off
    callback_ewt_s: float | None = None  # offer a callback when EWT passes this
    sl_threshold_s: float = 20.0

    def __post_init__(self) -> None:
        _check_id(self.id, "queues[].id")
        where = f"queues[{self.id}]"
        try:
            object.__setattr__(self, "strategy", Strategy(self.strategy))
        except ValueError:
            raise ConfigError(
                f"unknown strategy {self.strategy!r}; use one of {', '.join(Strategy)}",
                field=f"{where}.strategy",
            ) from None
        for name in ("join_rule", "leave_rule"):
            try:
                object.__setattr__(self, name, JoinRule(getattr(self, name)))
            except ValueError:
                raise ConfigError(
                    f"unknown rule {getattr(self, name)!r}; use one of {', '.join(JoinRule)}",
                    field=f"{where}.{name}",
                ) from None
        object.__setattr__(self, "skills", check_levels(self.skills, f"{where}.skills"))
        if self.members is not None:
            object.__setattr__(self, "members", tuple(self.members))
        for name in ("priority_aging_s", "ring_timeout_s", "wrapup_s", "max_wrapup_s",
                     "occupancy_window_s", "affinity_timeout_s", "sl_threshold_s"):
            _check_seconds(getattr(self, name), f"{where}.{name}")
        for name in ("timeout_s", "callback_ewt_s"):
            _check_seconds(getattr(self, name), f"{where}.{name}", allow_none=True)
        if self.ring_timeout_s <= 0:
            raise ConfigError("must be > 0", field=f"{where}.ring_timeout_s")
        if self.occupancy_window_s <= 0:
            raise ConfigError("must be > 0", field=f"{where}.occupancy_window_s")
        if self.max_length is not None and (
            isinstance(self.max_length, bool) or not isinstance(self.max_length, int)
            or self.max_length < 0
        ):
            raise ConfigError("must be a whole number >= 0", field=f"{where}.max_length")
        if isinstance(self.max_misses, bool) or not isinstance(self.max_misses, int) \
                or self.max_misses < 0:
            raise ConfigError("must be a whole number >= 0", field=f"{where}.max_misses")
        steps = tuple(sorted(self.steps, key=lambda s: s.after_s))
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "overflow", tuple(self.overflow))
        for i, rule in enumerate(self.overflow):
            if rule.to_queue == self.id:
                raise ConfigError(
                    "a queue cannot overflow to itself", field=f"{where}.overflow[{i}].to_queue"
                )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    """Everything the engine needs to know up front, validated as a whole.

    ``skills`` is the tenant's catalogue; every skill an agent, queue or step
    names must be in it. ``exclusive_channels``: a contact on one of these
    channels (voice by default) blocks new contacts of any channel, and is
    offered only to an agent with no other contact.
    """

    skills: frozenset[str] = frozenset()
    queues: tuple[QueueConfig, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    exclusive_channels: frozenset[Channel] = frozenset({Channel.VOICE})
    miss_reason: str = "missed_offers"  # not-ready reason after max_misses
    seed: int = 0  # random and weighted-random strategies

    def __post_init__(self) -> None:
        object.__setattr__(self, "skills", frozenset(self.skills))
        object.__setattr__(self, "queues", tuple(self.queues))
        object.__setattr__(self, "agents", tuple(self.agents))
        object.__setattr__(self, "exclusive_channels",
                           frozenset(Channel(c) for c in self.exclusive_channels))
        queue_ids = [q.id for q in self.queues]
        agent_ids = [a.id for a in self.agents]
        for kind, ids in (("queues", queue_ids), ("agents", agent_ids)):
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise ConfigError(f"duplicate id {i!r}", field=f"{kind}[{i}].id")
                seen.add(i)
        for a in self.agents:
            self.check_agent(a)
        for q in self.queues:
            self.check_queue(q, set(queue_ids), set(agent_ids))

    def check_agent(self, agent: AgentConfig) -> None:
        for skill in agent.skills:
            if skill not in self.skills:
                raise ConfigError(
                    f"unknown skill {skill!r}; known skills: {', '.join(sorted(self.skills))}",
                    field=f"agents[{agent.id}].skills.{skill}",
                )

    def check_queue(self, q: QueueConfig, queue_ids: set[str], agent_ids: set[str]) -> None:
        where = f"queues[{q.id}]"
        self.check_skills(q.skills, f"{where}.skills")
        for i, step in enumerate(q.steps):
            if step.skills is not None:
                self.check_skills(step.skills, f"{where}.steps[{i}].skills")
            for a in step.add_agents:
                if a not in agent_ids:
                    raise ConfigError(f"unknown agent {a!r}",
                                      field=f"{where}.steps[{i}].add_agents")
            for other in step.add_queues:
                if other not in queue_ids:
                    raise ConfigError(f"unknown queue {other!r}",
                                      field=f"{where}.steps[{i}].add_queues")
        for i, rule in enumerate(q.overflow):
            if rule.to_queue not in queue_ids:
                raise ConfigError(f"unknown queue {rule.to_queue!r}",
                                  field=f"{where}.overflow[{i}].to_queue")
        for m in q.members or ():
            if m not in agent_ids:
                raise ConfigError(f"unknown agent {m!r}", field=f"{where}.members")

    def check_skills(self, skills: Mapping[str, int], where: str) -> None:
        for skill in skills:
            if skill not in self.skills:
                raise ConfigError(
                    f"unknown skill {skill!r}; known skills: {', '.join(sorted(self.skills))}",
                    field=f"{where}.{skill}",
                )

    def queue(self, queue_id: str) -> QueueConfig | None:
        for q in self.queues:
            if q.id == queue_id:
                return q
        return None
