"""The routing engine's state and the helpers every part of it uses.

:class:`EngineBase` holds the state; the behaviour lives in four parts, each a
subclass of the one before: :class:`~.routing.Routing`,
:class:`~.contacts.Contacts`, :class:`~.calls.Calls`, :class:`~.agents.Agents`,
and finally :class:`switchboard.acd.engine.Engine`. The methods one part calls
on another are declared here with their real signatures, so each part can be
read (and type-checked) on its own.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from switchboard.acd.line import Line
from switchboard.acd.runtime import Agent, Interaction, Pool, PoolSpec, Reservation
from switchboard.acd.timers import Timers
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus, EndReason, InteractionState, OfferEnd, Strategy
from switchboard.domain.errors import InvalidTransition, NotFound
from switchboard.domain.model import JoinRule, QueueConfig, RoutingConfig

S = InteractionState

# Until a queue has handled a contact, EWT assumes this handle time (seconds).
DEFAULT_AHT_S = 180.0
# Weight of the newest handle time in the queue's moving average.
AHT_SMOOTHING = 0.1
# The LOA strategy's busy history is kept this long at most.
MAX_BUSY_HISTORY_S = 86400.0
EWT_ESTIMATOR = "position_x_aht_over_logged_in_agents"


class EngineBase:
    """The engine's state. See :mod:`switchboard.acd.engine` for how it runs."""

    # Methods defined by the parts (routing, contacts, calls, agents) and called
    # across them, declared here so that each part type-checks on its own.
    if TYPE_CHECKING:  # each is defined in the part named beside it
        def _accepts(self, q: QueueConfig) -> bool:
            ...  # in contacts.py

        def _add_queue(self, q: QueueConfig) -> None:
            ...  # in routing.py

        def _arm_queue_timers(self, it: Interaction, q: QueueConfig, now: float) -> None:
            ...  # in contacts.py

        def _change_status(self, agent: Agent, status: AgentStatus, reason: str | None,
                           now: float, cause: str) -> None:
            ...  # in agents.py

        def _drop_consult(self, it: Interaction, now: float) -> None:
            ...  # in calls.py

        def _drop_offer(self, it: Interaction, res: Reservation) -> Agent:
            ...  # in routing.py

        def _end_offer(self, it: Interaction, res: Reservation, now: float, how: OfferEnd) -> None:
            ...  # in routing.py

        def _enqueue(self, it: Interaction, q: QueueConfig, now: float, priority: int,
                     skills: Any, preferred: str | None) -> None:
            ...  # in contacts.py

        def _join_pool(self, agent: Agent, pool: Pool) -> None:
            ...  # in routing.py

        def _leave_line(self, it: Interaction, now: float,
                        event: type[e.Abandoned] | type[e.Exited], reason: EndReason) -> None:
            ...  # in contacts.py

        def _leave_pool(self, agent: Agent, pool: Pool) -> None:
            ...  # in routing.py

        def _make_offer(self, it: Interaction, agent: Agent, now: float, *, ring_all: bool) -> None:
            ...  # in routing.py

        def _move(self, it: Interaction, target: QueueConfig, now: float, reason: str) -> None:
            ...  # in contacts.py

        def _overflow_after(self, it: Interaction, now: float) -> None:
            ...  # in contacts.py

        def _part(self, it: Interaction, agent: Agent, now: float) -> None:
            ...  # in calls.py

        def _place(self, it: Interaction, now: float) -> None:
            ...  # in routing.py

        def _refresh(self, agent: Agent) -> None:
            ...  # in routing.py

        def _remove_pools(self, queue_id: str) -> None:
            ...  # in routing.py

        def _refusal(self, q: QueueConfig, rule: JoinRule) -> bool:
            ...  # in contacts.py

        def _serve(self, agent: Agent, now: float) -> None:
            ...  # in routing.py

        def _sort_key_for(self, it: Interaction, q: QueueConfig | None, wait_start: float) -> None:
            ...  # in routing.py

        def _start_wrapup(self, it: Interaction, agent: Agent, now: float) -> float:
            ...  # in contacts.py

        def _sync(self, agent: Agent, now: float, cause: str) -> None:
            ...  # in routing.py

        def _try_offer(self, it: Interaction, now: float, skip: str | None = None) -> None:
            ...  # in routing.py

        def _unplace(self, it: Interaction) -> None:
            ...  # in routing.py

        def _withdraw(self, it: Interaction, res: Reservation, now: float) -> Agent:
            ...  # in routing.py

        def _wrapup_if_none(self, agent: Agent, iid: str, now: float) -> None:
            ...  # in contacts.py

    def __init__(self, config: RoutingConfig, *, now: float = 0.0,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.now = now
        self.rng = rng if rng is not None else random.Random(config.seed)
        self._queues: dict[str, QueueConfig] = {q.id: q for q in config.queues}
        self._agents: dict[str, Agent] = {}
        self._interactions: dict[str, Interaction] = {}
        self._closed: set[str] = set()
        self._reservations: dict[str, Reservation] = {}
        self._pools: dict[tuple[str | None, PoolSpec, Strategy], Pool] = {}
        self._pool_list: list[Pool] = []
        self._pool_seq = 0  # pool ids: never reused, even after a queue is removed
        self._pool_by_id: dict[int, Pool] = {}
        self._main_pool: dict[str, Pool] = {}
        self._stage_pools: dict[tuple[str, int, tuple[tuple[str, int], ...]], Pool] = {}
        self._queued: dict[str, Line[Interaction]] = {}
        self._aht: dict[str, float] = {}
        self._last_agent: dict[str, str] = {}
        self._timers = Timers()
        self._out: list[e.Event] = []
        self._seq = 0
        self._offer_seq = 0
        for a in config.agents:
            self._agents[a.id] = Agent(a, now)
        for q in config.queues:
            self._add_queue(q)
    # ------------------------------------------------------------------ helpers
    def position(self, interaction_id: str) -> int | None:
        """1-based place in its queue while waiting; None otherwise. O(log n)."""
        it = self._interactions.get(interaction_id)
        if it is None or it.state is not S.QUEUED or it.queue_id is None:
            return None
        try:
            return self._queued[it.queue_id].index(it) + 1
        except ValueError:
            return None

    def _get(self, interaction_id: str) -> Interaction:
        it = self._interactions.get(interaction_id)
        if it is None:
            if interaction_id in self._closed:
                raise InvalidTransition(f"interaction {interaction_id} has already ended")
            raise NotFound(f"no interaction {interaction_id!r}", field="interaction_id")
        return it

    def _agent(self, agent_id: str) -> Agent:
        a = self._agents.get(agent_id)
        if a is None:
            raise NotFound(f"no agent {agent_id!r}", field="agent_id")
        return a

    def _queue(self, queue_id: str) -> QueueConfig:
        q = self._queues.get(queue_id)
        if q is None:
            raise NotFound(f"no queue {queue_id!r}", field="queue_id")
        return q

    def _queue_of(self, it: Interaction) -> QueueConfig | None:
        return self._queues.get(it.queue_id) if it.queue_id else None

    def _set_timer(self, it: Interaction, kind: str, at: float) -> None:
        self._timers.cancel(it.timers.get(kind))
        it.timers[kind] = self._timers.set(at, kind, it.id)

    def _cancel_timers(self, it: Interaction, *kinds: str) -> None:
        if not it.timers:
            return
        for kind in kinds or tuple(it.timers):
            self._timers.cancel(it.timers.pop(kind, None))

    def _ewt_at(self, queue_id: str, position: int) -> float | None:
        staffed = self._main_pool[queue_id].logged_in
        if staffed <= 0:
            return None
        return position * self._aht.get(queue_id, DEFAULT_AHT_S) / staffed

