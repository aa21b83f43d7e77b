"""The engine's mutable records: agents, interactions, offers and pools.

These are private to the engine (the shell sees events and snapshots), but they
are plain classes so that strategies can read them through the views of
:mod:`.strategies`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.acd.index import FreeAgents, new_index
from switchboard.acd.line import Line
from switchboard.acd.strategies import KEY_FUNCTIONS, KeyFn
from switchboard.domain.enums import (
    AgentState,
    AgentStatus,
    Channel,
    Direction,
    InteractionState,
    Strategy,
)
from switchboard.domain.model import AgentConfig, Customer

CHANNELS = tuple(Channel)
# free_channels() of an agent that can take nothing: one shared dict, never mutated.
NONE_FREE: dict[Channel, bool] = dict.fromkeys(CHANNELS, False)


@dataclass(slots=True, eq=False)  # identity: the same contact, not an equal one
class Reservation:
    """One offer of one contact to one agent."""

    id: str
    interaction_id: str
    agent_id: str
    queue_id: str | None
    offered_at: float
    expires_at: float
    timer: int = 0  # token of its ring timer


@dataclass(slots=True, eq=False)  # identity: the same contact, not an equal one
class Interaction:
    id: str
    channel: Channel
    direction: Direction
    customer: Customer
    priority: int
    attributes: dict[str, Any]
    arrived_at: float
    state: InteractionState = InteractionState.IVR
    queue_id: str | None = None
    skills: Mapping[str, int] = field(default_factory=dict)  # per-contact requirement
    preferred_agent: str | None = None
    affinity_until: float = 0.0
    agent_only: bool = False  # for preferred_agent alone (never back to the queue)
    first_enqueued_at: float | None = None
    leg_enqueued_at: float = 0.0
    sort_key: tuple[float, float, int] = (0.0, 0.0, 0)
    seq: int = 0
    pool: Pool | None = None
    stage: int = 0
    callback: bool = False  # virtual hold or scheduled: the customer is not on the line
    callback_phone: str | None = None
    due_at: float | None = None
    offers: dict[str, Reservation] = field(default_factory=dict)  # agent id -> offer
    agent_id: str | None = None  # the handling agent
    participants: set[str] = field(default_factory=set)  # conference members
    consult_agent: str | None = None  # warm transfer target being consulted
    answered_at: float | None = None
    held_since: float | None = None
    hold_s: float = 0.0
    ended_at: float | None = None
    timers: dict[str, int] = field(default_factory=dict)  # timer kind -> live token
    overdue: set[str] = field(default_factory=set)  # timers that fell due while ringing

    def talk_s(self, now: float) -> float:
        if self.answered_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else now
        held = self.hold_s + (now - self.held_since if self.held_since is not None else 0.0)
        return max(0.0, end - self.answered_at - held)


class Agent:
    """An agent's runtime record; satisfies :class:`.strategies.AgentView`."""

    __slots__ = (
        "_idle_free",
        "_idle_free_of",
        "busy_periods",
        "busy_since",
        "config",
        "contacts",
        "handled",
        "id",
        "idle_since",
        "index_keys",
        "last_state",
        "misses",
        "offers",
        "pools",
        "reason",
        "status",
        "wrapups",
    )

    def __init__(self, config: AgentConfig, now: float) -> None:
        self.id = config.id  # never changes: the engine keys agents by it
        self.config = config
        self._idle_free: dict[Channel, bool] = NONE_FREE
        self._idle_free_of: AgentConfig | None = None  # the config _idle_free is for
        self.status = AgentStatus.OFFLINE
        self.reason: str | None = None
        self.contacts: dict[str, Channel] = {}  # connected, held or consulting
        # interaction id -> (channel, started, until, timer token)
        self.wrapups: dict[str, tuple[Channel, float, float, int]] = {}
        self.offers: dict[str, Channel] = {}  # iid -> channel of outstanding offers
        self.idle_since = now
        self.handled = 0
        self.misses = 0
        self.busy_since: float | None = None
        self.busy_periods: deque[tuple[float, float]] = deque()
        self.pools: list[Pool] = []
        self.index_keys: dict[tuple[int, Channel], tuple[Any, ...]] = {}
        self.last_state: tuple[AgentStatus, str | None, AgentState] = (
            AgentStatus.OFFLINE, None, AgentState.IDLE)

    # --- the AgentView protocol (and ``id``) ------------------------------------
    @property
    def order(self) -> int:
        return self.config.order

    @property
    def weight(self) -> float:
        return self.config.weight

    @property
    def skills(self) -> Mapping[str, int]:
        return self.config.skills

    def busy_seconds(self, now: float, window_s: float) -> float:
        start = now - window_s
        total = 0.0
        for a, b in self.busy_periods:
            if b > start:
                total += b - max(a, start)
        if self.busy_since is not None:
            total += now - max(self.busy_since, start)
        return total

    # --- load and capacity ------------------------------------------------------
    def load(self) -> dict[Channel, int]:
        out: dict[Channel, int] = {}
        for ch in self.contacts.values():
            out[ch] = out.get(ch, 0) + 1
        for ch, *_ in self.wrapups.values():
            out[ch] = out.get(ch, 0) + 1
        for ch in self.offers.values():
            out[ch] = out.get(ch, 0) + 1
        return out

    def can_take(self, channel: Channel, exclusive: frozenset[Channel]) -> bool:
        """Ready, with a free slot on the channel, and nothing exclusive in the way."""
        if self.status is not AgentStatus.READY:
            return False
        cap = self.config.capacity.get(channel, 0)
        if cap <= 0:
            return False
        if not (self.contacts or self.wrapups or self.offers):
            return True
        load = self.load()
        if any(load.get(ch) for ch in exclusive) or channel in exclusive:
            return False
        return load.get(channel, 0) < cap

    def free_channels(self, exclusive: frozenset[Channel]) -> dict[Channel, bool]:
        """:meth:`can_take` for every channel at once, counting the load once.
        :data:`NONE_FREE` (shared: do not mutate) when it can take nothing."""
        if self.status is not AgentStatus.READY:
            return NONE_FREE
        cap = self.config.capacity
        if not (self.contacts or self.wrapups or self.offers):
            if self._idle_free_of is not self.config:
                free = {ch: cap.get(ch, 0) > 0 for ch in CHANNELS}
                self._idle_free = free if any(free.values()) else NONE_FREE
                self._idle_free_of = self.config
            return self._idle_free
        # Something exclusive (a call) in hand, ringing or in wrap-up: nothing else.
        for ch in self.contacts.values():
            if ch in exclusive:
                return NONE_FREE
        for ch in self.offers.values():
            if ch in exclusive:
                return NONE_FREE
        for entry in self.wrapups.values():
            if entry[0] in exclusive:
                return NONE_FREE
        load = self.load()
        free = {ch: ch not in exclusive and load.get(ch, 0) < cap.get(ch, 0) for ch in CHANNELS}
        return free if any(free.values()) else NONE_FREE

    def state(self) -> AgentState:
        """:func:`.machines.derive_agent_state` of its contacts (written out: this
        runs on every change of every agent)."""
        if self.contacts:
            return AgentState.BUSY
        if self.wrapups:
            return AgentState.WRAPUP
        if self.offers:
            return AgentState.RESERVED
        return AgentState.IDLE

    def trim_busy(self, now: float, keep_s: float) -> None:
        while self.busy_periods and self.busy_periods[0][1] < now - keep_s:
            self.busy_periods.popleft()


@dataclass(frozen=True, slots=True)
class PoolSpec:
    """Who is eligible: members (None: anyone) with the skills, plus extra agents
    and the agents eligible by other specs (expansion to other queues)."""

    skills: tuple[tuple[str, int], ...] = ()
    members: frozenset[str] | None = None
    add_agents: frozenset[str] = frozenset()
    add_specs: tuple[PoolSpec, ...] = ()

    def eligible(self, agent: AgentConfig) -> bool:
        if agent.id in self.add_agents:
            return True
        if (self.members is None or agent.id in self.members) and all(
            agent.skills.get(s, 0) >= lvl for s, lvl in self.skills
        ):
            return True
        return any(spec.eligible(agent) for spec in self.add_specs)


class Pool:
    """The agents eligible for one (queue, stage, contact requirement), their
    free ones indexed by the queue's strategy, and the contacts waiting for them."""

    __slots__ = (
        "free",
        "id",
        "key_fn",
        "logged_in",
        "members_set",
        "occupancy_window_s",
        "queue_id",
        "ranks",
        "ready",
        "required",
        "spec",
        "strategy",
        "waiting",
    )

    def __init__(self, pid: int, queue_id: str | None, spec: PoolSpec, strategy: Strategy,
                 ranks: Mapping[str, int], occupancy_window_s: float) -> None:
        self.id = pid
        self.queue_id = queue_id
        self.spec = spec
        self.strategy = strategy
        self.key_fn: KeyFn = KEY_FUNCTIONS[strategy]
        self.required: Mapping[str, int] = dict(spec.skills)
        self.ranks = ranks
        self.occupancy_window_s = occupancy_window_s
        self.members_set: set[str] = set()
        self.logged_in = 0
        self.ready = 0
        self.free: dict[Channel, FreeAgents] = {}
        self.waiting: dict[Channel, Line[Interaction]] = {}

    def rank(self, agent_id: str, default: int) -> int:
        return self.ranks.get(agent_id, default)

    def free_index(self, channel: Channel) -> FreeAgents:
        idx = self.free.get(channel)
        if idx is None:
            idx = self.free[channel] = new_index(self.strategy)
        return idx

    def waiting_list(self, channel: Channel) -> Line[Interaction]:
        lst = self.waiting.get(channel)
        if lst is None:
            lst = self.waiting[channel] = Line()
        return lst

