"""The routing engine: ``Engine.handle(command, now) -> list[Event]``.

Theory of operation. The engine is a deterministic function of its inputs: the
configuration, a seed, and the sequence of (command, time) pairs and
``advance(time)`` calls. It never reads a clock, a socket or a database; the
live server, the simulator and the tests all drive it the same way:

    events = engine.advance(now)          # timers due by now (ring timeouts, ...)
    events += engine.handle(cmd, now)     # what the command caused
    deadline = engine.next_deadline()     # the shell sets one timer for it

Each handler checks everything first and only then acts, so a refused command
raises a :class:`~switchboard.domain.errors.SwitchboardError` and changes
nothing. ``handle`` fires due timers before the command; if the command is then
refused, those timer events are kept and returned by the next call.

Routing. The agents eligible for a queue (at a given expansion stage, with a
contact's extra skill requirements) form a *pool*. Each pool keeps its free
agents in an index ordered by the queue's strategy and its waiting contacts in
priority-then-arrival order, per channel. The engine keeps one invariant after
every step: no pool has a waiting contact and a free agent for the same
channel. So a new contact needs one look at its pool's index, and an agent who
becomes free one look at the head of each pool it belongs to: O(log n) in
agents and contacts, never a scan.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from sortedcontainers import SortedKeyList

from switchboard.acd.machines import INTERACTION_TABLE, TERMINAL, Act, check_status, step
from switchboard.acd.runtime import Agent, Interaction, Pool, PoolSpec, Reservation, _sort_key
from switchboard.acd.strategies import KEY_FUNCTIONS
from switchboard.acd.timers import Timers
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import (
    AgentState,
    AgentStatus,
    Channel,
    Direction,
    EndReason,
    InteractionState,
    OfferEnd,
    Strategy,
)
from switchboard.domain.errors import (
    AgentUnavailable,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationError,
)
from switchboard.domain.model import JoinRule, QueueConfig, RoutingConfig

S = InteractionState

# Until a queue has handled a contact, EWT assumes this handle time (seconds).
DEFAULT_AHT_S = 180.0
# Weight of the newest handle time in the queue's moving average.
AHT_SMOOTHING = 0.1
# The LOA strategy's busy history is kept this long at most.
MAX_BUSY_HISTORY_S = 86400.0
EWT_ESTIMATOR = "position_x_aht_over_logged_in_agents"


class Engine:
    """The automatic call distributor for one tenant. See the module docstring."""

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
        self._main_pool: dict[str, Pool] = {}
        self._stage_pools: dict[tuple[str, int, tuple[tuple[str, int], ...]], Pool] = {}
        self._queued: dict[str, SortedKeyList[Interaction, Any]] = {}
        self._aht: dict[str, float] = {}
        self._last_agent: dict[str, str] = {}
        self._timers = Timers()
        self._out: list[e.Event] = []
        self._pending: list[e.Event] = []
        self._seq = 0
        self._offer_seq = 0
        for a in config.agents:
            self._agents[a.id] = Agent(a, now)
        for q in config.queues:
            self._add_queue(q)
        self._handlers: dict[type[c.Command], Callable[[Any, float], None]] = {
            c.Arrive: self._arrive,
            c.IvrStep: self._ivr_step,
            c.Enqueue: self._enqueue_cmd,
            c.SetAgentStatus: self._set_status,
            c.Accept: self._accept,
            c.Reject: self._reject,
            c.Hangup: self._hangup,
            c.LeaveQueue: self._leave_queue,
            c.Hold: self._hold,
            c.Resume: self._resume,
            c.Transfer: self._transfer,
            c.CompleteTransfer: self._complete_transfer,
            c.CancelTransfer: self._cancel_transfer,
            c.JoinConference: self._join_conference,
            c.LeaveConference: self._leave_conference,
            c.EndWrapup: self._end_wrapup,
            c.ExtendWrapup: self._extend_wrapup,
            c.RequestCallback: self._request_callback,
            c.ScheduleCallback: self._schedule_callback,
            c.MoveContact: self._move_contact,
            c.UpsertAgent: self._upsert_agent,
            c.UpsertQueue: self._upsert_queue,
        }

    # ------------------------------------------------------------------ driving
    def handle(self, command: c.Command, now: float) -> list[e.Event]:
        """Apply one command at time ``now``; return the events it caused (after
        those of any timers due by ``now``). Raises and changes nothing when
        the command is invalid in the current state."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise ValidationError(f"unknown command {type(command).__name__}", field="command")
        self._pending.extend(self.advance(now))
        handler(command, now)
        out, self._out, self._pending = self._pending + self._out, [], []
        return out

    def advance(self, now: float) -> list[e.Event]:
        """Fire every timer due by ``now``; return what happened, in time order."""
        if now < self.now:
            raise ValidationError(f"time went backwards: {now} < {self.now}", field="now")
        self._timers.pop_due(now, self._fire)
        self.now = now
        out, self._out = self._out, []
        if self._pending:
            out, self._pending = self._pending + out, []
        return out

    def next_deadline(self) -> float | None:
        """The earliest time at which :meth:`advance` has something to do."""
        return self._timers.next_at()

    # ------------------------------------------------------------------ queries
    def interaction(self, interaction_id: str) -> dict[str, Any]:
        """A snapshot of a live contact: state, queue, position, EWT, agent..."""
        it = self._get(interaction_id)
        out: dict[str, Any] = {
            "id": it.id, "state": it.state.value, "channel": it.channel.value,
            "direction": it.direction.value, "priority": it.priority,
            "queue": it.queue_id, "agent": it.agent_id, "arrived_at": it.arrived_at,
            "enqueued_at": it.first_enqueued_at, "callback": it.callback,
            "offered_to": sorted(it.offers), "participants": sorted(it.participants),
            "position": self.position(interaction_id), "ewt_s": self.ewt(interaction_id),
            "attributes": dict(it.attributes), "customer": it.customer.as_dict(),
        }
        return out

    def position(self, interaction_id: str) -> int | None:
        """1-based place in its queue while waiting; None otherwise. O(log n)."""
        it = self._interactions.get(interaction_id)
        if it is None or it.state is not S.QUEUED or it.queue_id is None:
            return None
        try:
            return int(self._queued[it.queue_id].index(it)) + 1
        except ValueError:
            return None

    def ewt(self, interaction_id: str) -> float | None:
        """Expected wait from now, by position x recent handle time / agents."""
        pos = self.position(interaction_id)
        it = self._interactions.get(interaction_id)
        if pos is None or it is None or it.queue_id is None:
            return None
        return self._ewt_at(it.queue_id, pos)

    def waiting(self, queue_id: str) -> list[str]:
        """The ids of the contacts waiting in a queue, first in line first."""
        self._queue(queue_id)
        return [it.id for it in self._queued[queue_id]]

    def queue_stats(self, queue_id: str) -> dict[str, Any]:
        q = self._queue(queue_id)
        lst = self._queued[q.id]
        pool = self._main_pool[q.id]
        oldest = min((it.leg_enqueued_at for it in lst), default=None) if lst else None
        return {
            "id": q.id, "waiting": len(lst),
            "longest_wait_s": (self.now - oldest) if oldest is not None else 0.0,
            "agents_logged_in": pool.logged_in, "agents_ready": pool.ready,
            "aht_estimate_s": self._aht.get(q.id, DEFAULT_AHT_S),
            "ewt_s": self._ewt_at(q.id, len(lst) + 1), "ewt_estimator": EWT_ESTIMATOR,
        }

    def agent(self, agent_id: str) -> dict[str, Any]:
        a = self._agent(agent_id)
        return {
            "id": a.id, "name": a.config.name, "status": a.status.value, "reason": a.reason,
            "state": a.state().value, "contacts": sorted(a.contacts),
            "wrapups": sorted(a.wrapups), "offers": sorted(a.offers),
            "handled": a.handled, "misses": a.misses, "idle_since": a.idle_since,
            "skills": dict(a.config.skills),
        }

    def agent_ids(self) -> list[str]:
        return sorted(self._agents)

    def queue_ids(self) -> list[str]:
        return sorted(self._queues)

    def interaction_ids(self) -> list[str]:
        return sorted(self._interactions)

    # ------------------------------------------------------------------ helpers
    def _emit(self, event: e.Event) -> None:
        self._out.append(event)

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
        for kind in kinds or tuple(it.timers):
            self._timers.cancel(it.timers.pop(kind, None))

    def _ewt_at(self, queue_id: str, position: int) -> float | None:
        staffed = self._main_pool[queue_id].logged_in
        if staffed <= 0:
            return None
        return position * self._aht.get(queue_id, DEFAULT_AHT_S) / staffed

    # ------------------------------------------------------------------ pools
    def _add_queue(self, q: QueueConfig) -> None:
        self._queues[q.id] = q
        self._stage_pools.clear()  # specs may name this queue (expansion to its agents)
        self._queued.setdefault(q.id, SortedKeyList(key=_sort_key))
        self._main_pool[q.id] = self._pool(q, self._spec(q, 0, {}))

    def _spec(self, q: QueueConfig, stage: int, extra: dict[str, int] | Any,
              _seen: frozenset[str] = frozenset()) -> PoolSpec:
        skills = dict(q.skills)
        add_agents: set[str] = set()
        add_queues: list[str] = []
        for s in q.steps[:stage]:
            if s.skills is not None:
                skills = dict(s.skills)
            add_agents.update(s.add_agents)
            add_queues.extend(s.add_queues)
        for name, level in extra.items():
            skills[name] = max(level, skills.get(name, 0))
        seen = _seen | {q.id}
        specs = tuple(self._spec(self._queues[o], 0, {}, seen)
                      for o in dict.fromkeys(add_queues) if o not in seen and o in self._queues)
        return PoolSpec(skills=tuple(sorted(skills.items())),
                        members=frozenset(q.members) if q.members is not None else None,
                        add_agents=frozenset(add_agents), add_specs=specs)

    def _pool(self, q: QueueConfig | None, spec: PoolSpec,
              strategy: Strategy | None = None) -> Pool:
        strat = strategy or (q.strategy if q else Strategy.LONGEST_IDLE)
        qid = q.id if q else None
        key = (qid, spec, strat)
        pool = self._pools.get(key)
        if pool is not None:
            return pool
        ranks: dict[str, int] = {}
        if q is not None and q.members is not None:
            ranks = {m: i for i, m in enumerate(q.members)}
        pool = Pool(len(self._pool_list), qid, spec, strat, ranks,
                    q.occupancy_window_s if q else 3600.0)
        self._pools[key] = pool
        self._pool_list.append(pool)
        for agent in self._agents.values():
            if spec.eligible(agent.config):
                self._join_pool(agent, pool)
        return pool

    def _personal_pool(self, q: QueueConfig | None, agent_id: str) -> Pool:
        return self._pool(q, PoolSpec(members=frozenset({agent_id})), Strategy.LONGEST_IDLE)

    def _join_pool(self, agent: Agent, pool: Pool) -> None:
        pool.members_set.add(agent.id)
        agent.pools.append(pool)
        if agent.status is not AgentStatus.OFFLINE:
            pool.logged_in += 1
        if agent.status is AgentStatus.READY:
            pool.ready += 1
        self._refresh_in(agent, pool, self._free_channels(agent))

    def _leave_pool(self, agent: Agent, pool: Pool) -> None:
        pool.members_set.discard(agent.id)
        agent.pools.remove(pool)
        if agent.status is not AgentStatus.OFFLINE:
            pool.logged_in -= 1
        if agent.status is AgentStatus.READY:
            pool.ready -= 1
        for ch, idx in pool.free.items():
            if agent.index_keys.pop((pool.id, ch), None) is not None:
                idx.discard(agent.id)

    def _free_index(self, pool: Pool, channel: Channel) -> Any:
        idx = pool.free.get(channel)
        if idx is None:
            idx = pool.free_index(channel)
            for aid in sorted(pool.members_set):  # sorted: the same order in every process
                agent = self._agents[aid]
                if agent.can_take(channel, self.config.exclusive_channels):
                    self._index(agent, pool, channel)
        return idx

    def _free_channels(self, agent: Agent) -> dict[Channel, bool]:
        return agent.free_channels(self.config.exclusive_channels)

    def _index(self, agent: Agent, pool: Pool, ch: Channel) -> None:
        key = KEY_FUNCTIONS[pool.strategy](agent, pool, self.now)
        slot = (pool.id, ch)
        if agent.index_keys.get(slot) != key:
            pool.free[ch].add(agent.id, key, agent.config.weight)
            agent.index_keys[slot] = key

    def _refresh_in(self, agent: Agent, pool: Pool, free: dict[Channel, bool]) -> None:
        for ch, idx in pool.free.items():
            if free[ch]:
                self._index(agent, pool, ch)
            elif agent.index_keys.pop((pool.id, ch), None) is not None:
                idx.discard(agent.id)

    def _refresh(self, agent: Agent) -> None:
        """Put the agent in, or take it out of, the free index of each of its pools."""
        free = self._free_channels(agent)
        if not agent.index_keys and not any(free.values()):
            return  # not free anywhere, before or after: nothing to re-index
        for pool in agent.pools:
            self._refresh_in(agent, pool, free)

    def _sync(self, agent: Agent, now: float, cause: str) -> None:
        """Emit ``agent_state`` if status or derived state changed; keep the busy
        history (LOA) and the idle-since time (MIA) current; re-index the agent."""
        state = agent.state()
        current = (agent.status, agent.reason, state)
        before = agent.last_state
        if current != before:
            busy = state in (AgentState.BUSY, AgentState.WRAPUP)
            was_busy = before[2] in (AgentState.BUSY, AgentState.WRAPUP)
            if busy and agent.busy_since is None:
                agent.busy_since = now
            elif not busy and agent.busy_since is not None:
                agent.busy_periods.append((agent.busy_since, now))
                agent.busy_since = None
                agent.trim_busy(now, MAX_BUSY_HISTORY_S)
            if was_busy and not busy:
                agent.idle_since = now
            agent.last_state = current
            self._emit(e.AgentStateChanged(at=now, agent_id=agent.id, status=agent.status,
                                           reason=agent.reason, state=state, cause=cause))
        self._refresh(agent)

    # ------------------------------------------------------------------ waiting
    def _place(self, it: Interaction, now: float) -> None:
        """Put a queued contact in the pool it belongs to now, and in its queue's line."""
        q = self._queue_of(it)
        if it.preferred_agent is not None and (it.affinity_until > now or q is None):
            pool = self._personal_pool(q, it.preferred_agent)
        elif q is None:
            raise Conflict(f"interaction {it.id} has no queue")
        else:
            stage = sum(1 for s in q.steps if s.after_s <= now - it.leg_enqueued_at)
            it.stage = stage
            key = (q.id, stage, tuple(sorted(it.skills.items())) if it.skills else ())
            pool = self._stage_pools.get(key)  # type: ignore[assignment]
            if pool is None:
                pool = self._stage_pools[key] = self._pool(q, self._spec(q, stage, it.skills))
            if stage < len(q.steps):
                self._set_timer(it, "stage", it.leg_enqueued_at + q.steps[stage].after_s)
        it.pool = pool
        pool.waiting_list(it.channel).add(it)
        if it.queue_id is not None:
            self._queued[it.queue_id].add(it)

    def _unplace(self, it: Interaction) -> None:
        if it.pool is not None:
            lst = it.pool.waiting.get(it.channel)
            if lst is not None:
                lst.discard(it)
        if it.queue_id is not None:
            self._queued[it.queue_id].discard(it)

    def _sort_key_for(self, it: Interaction, q: QueueConfig | None, wait_start: float) -> None:
        self._seq += 1
        it.seq = self._seq
        aging = q.priority_aging_s if q else 0.0
        # Priority with aging: effective = priority + waited / aging_s. Within one
        # queue that order never changes with time, so the key is static:
        # sorting by (wait_start / aging_s - priority) ascending is the same order.
        first = wait_start / aging - it.priority if aging > 0 else -float(it.priority)
        it.sort_key = (first, wait_start, it.seq)

    def _effective_rank(self, it: Interaction, pool: Pool, now: float) -> tuple[float, ...]:
        """Order between heads of different pools: personal pools first, then the
        queue's weight, then effective priority, then the longest wait."""
        q = self._queue_of(it)
        personal = 0 if pool.spec.members is not None and len(pool.spec.members) == 1 \
            and pool.strategy is Strategy.LONGEST_IDLE and it.preferred_agent else 1
        weight = q.weight if q else 0
        aging = q.priority_aging_s if q else 0.0
        eff = it.priority + ((now - it.sort_key[1]) / aging if aging > 0 else 0.0)
        return (personal, -weight, -eff, it.sort_key[1], it.seq)

    def _try_offer(self, it: Interaction, now: float, skip: str | None = None) -> None:
        """Offer a waiting contact to the free agent its pool's strategy picks,
        other than ``skip`` (the agent who just missed or declined it: that agent
        is served next, through :meth:`_serve`, and may get it back if it is still
        the best contact it can take)."""
        if it.state is not S.QUEUED or it.pool is None or it.due_at is not None:
            return
        pool = it.pool
        if pool.waiting_list(it.channel)[0] is not it:
            return  # a higher-ranked contact waits: free agents go to it first
        idx = self._free_index(pool, it.channel)
        if pool.strategy is Strategy.RING_ALL:
            targets = [a for a in idx.members() if a != skip]
            for aid in targets:
                self._make_offer(it, self._agents[aid], now, ring_all=True)
            return
        aid = idx.pick(self.rng)
        if aid is not None and aid == skip:
            agent = self._agents[aid]
            key = agent.index_keys.get((pool.id, it.channel))
            idx.discard(aid)
            other = idx.pick(self.rng)
            if key is not None:
                idx.add(aid, key, agent.config.weight)
            aid = other
        if aid is not None:
            idx.chosen(aid)
            self._make_offer(it, self._agents[aid], now, ring_all=False)

    def _serve(self, agent: Agent, now: float) -> None:
        """A newly free agent takes the best contact waiting in any of its pools."""
        excl = self.config.exclusive_channels
        while True:
            best: tuple[tuple[float, ...], Interaction, Pool] | None = None
            for pool in agent.pools:
                for ch, lst in pool.waiting.items():
                    if not lst or not agent.can_take(ch, excl):
                        continue
                    head: Interaction = lst[0]
                    rank = self._effective_rank(head, pool, now)
                    if best is None or rank < best[0]:
                        best = (rank, head, pool)
            if best is None:
                return
            _, it, pool = best
            self._free_index(pool, it.channel).chosen(agent.id)
            self._make_offer(it, agent, now, ring_all=pool.strategy is Strategy.RING_ALL)

    def _make_offer(self, it: Interaction, agent: Agent, now: float, *, ring_all: bool) -> None:
        q = self._queue_of(it)
        ring = q.ring_timeout_s if q else 20.0
        if it.state is S.QUEUED:
            self._unplace(it)
            it.state = step(INTERACTION_TABLE, it.state, Act.OFFER, f"interaction {it.id}")
        self._offer_seq += 1
        res = Reservation(id=f"r{self._offer_seq}", interaction_id=it.id, agent_id=agent.id,
                          queue_id=it.queue_id, offered_at=now, expires_at=now + ring)
        res.timer = self._timers.set(res.expires_at, "ring", res.id)
        self._reservations[res.id] = res
        it.offers[agent.id] = res
        agent.offers[it.id] = it.channel
        self._emit(e.Offered(at=now, interaction_id=it.id, agent_id=agent.id,
                             queue_id=it.queue_id, reservation_id=res.id,
                             expires_at=res.expires_at, ring_all=ring_all,
                             callback=it.callback))
        self._sync(agent, now, "offered")

    def _drop_offer(self, it: Interaction, res: Reservation) -> Agent:
        self._timers.cancel(res.timer)
        self._reservations.pop(res.id, None)
        it.offers.pop(res.agent_id, None)
        agent = self._agents[res.agent_id]
        agent.offers.pop(it.id, None)
        return agent

    def _withdraw(self, it: Interaction, res: Reservation, now: float) -> Agent:
        """Cancel an offer (another agent answered, the customer left); the caller
        serves the freed agent once the contact's own change is complete."""
        agent = self._drop_offer(it, res)
        self._emit(e.OfferWithdrawn(at=now, interaction_id=it.id, agent_id=agent.id,
                                    queue_id=res.queue_id, reservation_id=res.id,
                                    ring_s=now - res.offered_at))
        self._sync(agent, now, "withdrawn")
        return agent

    def _end_offer(self, it: Interaction, res: Reservation, now: float, how: OfferEnd) -> None:
        """An offer ended unanswered: RNA, rejected, or withdrawn from an agent who
        stopped being ready. The contact goes back to its place in line (its sort
        key never changed) and is offered to the next agent."""
        if how is OfferEnd.WITHDRAWN:
            agent = self._withdraw(it, res, now)
        else:
            agent = self._drop_offer(it, res)
            event = e.OfferTimedOut if how is OfferEnd.TIMEOUT else e.OfferRejected
            self._emit(event(at=now, interaction_id=it.id, agent_id=agent.id,
                             queue_id=res.queue_id, reservation_id=res.id,
                             ring_s=now - res.offered_at))
        if it.consult_agent == agent.id:
            it.consult_agent = None
            self._emit(e.TransferCancelled(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                           queue_id=it.queue_id, to_agent=agent.id))
        if how is OfferEnd.TIMEOUT:
            agent.misses += 1
            q = self._queues.get(res.queue_id) if res.queue_id else None
            limit = q.max_misses if q else 0
            if limit and agent.misses >= limit and agent.status is AgentStatus.READY:
                self._change_status(agent, AgentStatus.NOT_READY, self.config.miss_reason,
                                    now, "auto_not_ready")
        if how is not OfferEnd.WITHDRAWN:
            self._sync(agent, now, how.value)
        if it.state is S.OFFERED and not it.offers:
            it.state = step(INTERACTION_TABLE, it.state, Act.OFFER_END, f"interaction {it.id}")
            overdue, it.overdue = it.overdue, set()
            if "timeout" in overdue:  # its time in queue ran out while it rang
                self._leave_line(it, now, e.Exited, EndReason.TIMEOUT)
                self._serve(agent, now)
                return
            if "affinity" in overdue or (it.preferred_agent == agent.id and how is not
                                         OfferEnd.WITHDRAWN and it.queue_id is not None):
                # The agent it waited for (affinity, transfer) let it go: back to the queue.
                it.preferred_agent = None
                it.affinity_until = 0.0
                self._cancel_timers(it, "affinity")
            self._place(it, now)
            if "overflow" in overdue:
                self._overflow_after(it, now)
            self._try_offer(it, now, skip=agent.id)
        self._serve(agent, now)

    # ------------------------------------------------------------------ contacts
    def _arrive(self, cmd: c.Arrive, now: float) -> None:
        if cmd.interaction_id in self._interactions or cmd.interaction_id in self._closed:
            raise Conflict(f"interaction {cmd.interaction_id} already exists",
                           field="interaction_id")
        if cmd.queue_id is not None:
            self._queue(cmd.queue_id)
        if cmd.preferred_agent is not None:
            self._agent(cmd.preferred_agent)
        it = Interaction(id=cmd.interaction_id, channel=cmd.channel, direction=cmd.direction,
                         customer=cmd.customer, priority=cmd.priority,
                         attributes=dict(cmd.attributes), arrived_at=now)
        self._interactions[it.id] = it
        self._emit(e.Arrived(at=now, interaction_id=it.id, channel=it.channel,
                             direction=it.direction, customer=it.customer,
                             priority=it.priority, attributes=it.attributes))
        if cmd.queue_id is not None:
            self._enqueue(it, self._queues[cmd.queue_id], now, cmd.priority, cmd.skills,
                          cmd.preferred_agent)

    def _ivr_step(self, cmd: c.IvrStep, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state is not S.IVR:
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not in IVR")
        it.attributes.update(cmd.attributes)
        self._emit(e.IvrInput(at=now, interaction_id=it.id, digits=cmd.digits, step=cmd.step,
                              attributes=cmd.attributes))

    def _enqueue_cmd(self, cmd: c.Enqueue, now: float) -> None:
        it = self._get(cmd.interaction_id)
        q = self._queue(cmd.queue_id)
        if cmd.preferred_agent is not None:
            self._agent(cmd.preferred_agent)
        self._enqueue(it, q, now, it.priority if cmd.priority is None else cmd.priority,
                      cmd.skills, cmd.preferred_agent)

    def _refusal(self, q: QueueConfig, rule: JoinRule) -> bool:
        pool = self._main_pool[q.id]
        if rule is JoinRule.LOGGED_IN:
            return pool.logged_in == 0
        if rule is JoinRule.READY:
            return pool.ready == 0
        return False

    def _enqueue(self, it: Interaction, q: QueueConfig, now: float, priority: int,
                 skills: Any, preferred: str | None) -> None:
        step(INTERACTION_TABLE, it.state, Act.ENQUEUE, f"interaction {it.id}")
        self.config.check_skills(skills, "skills")
        reason: EndReason | None = None
        if q.max_length is not None and len(self._queued[q.id]) >= q.max_length:
            reason = EndReason.QUEUE_FULL
        elif self._refusal(q, q.join_rule):
            reason = EndReason.NO_AGENTS
        if reason is not None:
            self._emit(e.EnqueueRefused(at=now, interaction_id=it.id, queue_id=q.id,
                                        reason=reason))
            return
        it.state = S.QUEUED
        it.priority = priority
        it.skills = dict(skills)
        it.queue_id = q.id
        if it.first_enqueued_at is None:
            it.first_enqueued_at = now
        it.leg_enqueued_at = now
        self._sort_key_for(it, q, now)
        self._set_affinity(it, q, now, preferred)
        self._place(it, now)
        self._arm_queue_timers(it, q, now)
        pos = self.position(it.id) or 0
        ewt = self._ewt_at(q.id, pos)
        self._emit(e.Enqueued(at=now, interaction_id=it.id, queue_id=q.id, priority=priority,
                              skills=it.skills, position=pos, ewt_s=ewt,
                              callback_offered=q.callback_ewt_s is not None and (
                                  ewt is None or ewt > q.callback_ewt_s),
                              callback=it.callback))
        if self._overflow_on_ewt(it, q, ewt, now):
            return
        self._try_offer(it, now)

    def _set_affinity(self, it: Interaction, q: QueueConfig, now: float,
                      preferred: str | None) -> None:
        it.preferred_agent = None
        it.affinity_until = 0.0
        key = it.customer.id or it.customer.phone or it.customer.email
        candidate = preferred or (self._last_agent.get(key) if key else None)
        if candidate is None or q.affinity_timeout_s <= 0:
            return
        agent = self._agents.get(candidate)
        if agent is None or agent.status is AgentStatus.OFFLINE \
                or candidate not in self._main_pool[q.id].members_set:
            return
        it.preferred_agent = candidate
        it.affinity_until = now + q.affinity_timeout_s
        self._set_timer(it, "affinity", it.affinity_until)

    def _arm_queue_timers(self, it: Interaction, q: QueueConfig, now: float) -> None:
        self._cancel_timers(it, "overflow", "timeout")
        afters = [r.after_s for r in q.overflow if r.after_s is not None]
        if afters:
            self._set_timer(it, "overflow", now + min(afters))
        if q.timeout_s is not None and not it.callback:
            self._set_timer(it, "timeout", now + q.timeout_s)

    def _overflow_on_ewt(self, it: Interaction, q: QueueConfig, ewt: float | None,
                         now: float) -> bool:
        for rule in q.overflow:
            if rule.ewt_above_s is not None and (ewt is None or ewt > rule.ewt_above_s):
                target = self._queues[rule.to_queue]
                if self._accepts(target):
                    self._move(it, target, now, "ewt")
                    return True
        return False

    def _accepts(self, q: QueueConfig) -> bool:
        return not (q.max_length is not None and len(self._queued[q.id]) >= q.max_length)

    def _move(self, it: Interaction, target: QueueConfig, now: float, reason: str) -> None:
        """Overflow or supervisor move: a new queue leg; the customer's wait goes on."""
        self._unplace(it)
        self._cancel_timers(it)
        self._emit(e.Overflowed(at=now, interaction_id=it.id, queue_id=it.queue_id,
                                to_queue=target.id, reason=reason))
        it.queue_id = target.id
        it.leg_enqueued_at = now
        self._sort_key_for(it, target, it.sort_key[1])
        it.preferred_agent = None
        it.affinity_until = 0.0
        self._place(it, now)
        self._arm_queue_timers(it, target, now)
        self._try_offer(it, now)

    def _close(self, it: Interaction) -> None:
        self._cancel_timers(it)
        self._interactions.pop(it.id, None)
        self._closed.add(it.id)

    def _leave_line(self, it: Interaction, now: float, event: type[e.Abandoned] | type[e.Exited],
                    reason: EndReason) -> None:
        """The contact leaves the queue without an agent (abandon or exit)."""
        pos = self.position(it.id) or 0
        ringing: list[Agent] = []
        for res in list(it.offers.values()):
            ringing.append(self._withdraw(it, res, now))
        self._unplace(it)
        start = it.sort_key[1] if it.first_enqueued_at is not None else now
        it.state = S.ABANDONED
        self._emit(event(at=now, interaction_id=it.id, queue_id=it.queue_id, reason=reason,
                         wait_s=now - start, position=pos))
        self._close(it)
        for agent in ringing:
            self._serve(agent, now)

    def _hangup(self, cmd: c.Hangup, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state is S.IVR:
            step(INTERACTION_TABLE, it.state, Act.SELF_SERVICE, f"interaction {it.id}")
            it.state = S.ENDED
            self._emit(e.Ended(at=now, interaction_id=it.id, by=cmd.by))
            self._close(it)
        elif it.state in (S.QUEUED, S.OFFERED, S.SCHEDULED):
            self._leave_line(it, now, e.Abandoned, EndReason.CUSTOMER_HANGUP)
        else:
            step(INTERACTION_TABLE, it.state, Act.END, f"interaction {it.id}")
            self._end_connected(it, now, cmd.by)

    def _leave_queue(self, cmd: c.LeaveQueue, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state not in (S.QUEUED, S.OFFERED):
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not queued")
        self._leave_line(it, now, e.Abandoned, EndReason.KEY_PRESSED)

    def _end_connected(self, it: Interaction, now: float, by: str) -> None:
        if it.held_since is not None:
            it.hold_s += now - it.held_since
            it.held_since = None
        it.ended_at = now
        talk = it.talk_s(now)
        if it.consult_agent is not None:
            self._drop_consult(it, now)
        for other in sorted(it.participants):
            self._part(it, self._agents[other], now)
        agent = self._agents[it.agent_id] if it.agent_id else None
        until = self._start_wrapup(it, agent, now) if agent else None
        it.state = S.WRAPUP
        self._emit(e.Ended(at=now, interaction_id=it.id, agent_id=it.agent_id,
                           queue_id=it.queue_id, by=by, talk_s=talk, hold_s=it.hold_s,
                           wrapup_until=until))
        q = self._queue_of(it)
        if q is not None:
            prev = self._aht.get(q.id)
            sample = talk + it.hold_s + q.wrapup_s
            self._aht[q.id] = sample if prev is None else prev + AHT_SMOOTHING * (sample - prev)
        if agent is None:
            it.state = S.ENDED
            self._close(it)
            return
        self._sync(agent, now, "ended")
        self._wrapup_if_none(agent, it.id, now)

    def _wrapup_if_none(self, agent: Agent, iid: str, now: float) -> None:
        """A queue with no wrap-up time: the wrap-up ends as it starts."""
        entry = agent.wrapups.get(iid)
        if entry is not None and entry[2] <= now:
            self._finish_wrapup(agent, iid, now, None, None, timed_out=False)

    def _start_wrapup(self, it: Interaction, agent: Agent, now: float) -> float:
        q = self._queue_of(it)
        until = now + (q.wrapup_s if q else 0.0)
        agent.contacts.pop(it.id, None)
        token = self._timers.set(until, "wrapup", f"{agent.id}\x00{it.id}") if until > now else 0
        agent.wrapups[it.id] = (it.channel, now, until, token)
        return until

    def _finish_wrapup(self, agent: Agent, iid: str, now: float, disposition: str | None,
                       notes: str | None, *, timed_out: bool) -> None:
        _, start, _, token = agent.wrapups.pop(iid)
        self._timers.cancel(token)
        it = self._interactions.get(iid)
        qid = it.queue_id if it else None
        self._emit(e.WrapupEnded(at=now, interaction_id=iid, agent_id=agent.id, queue_id=qid,
                                 wrapup_s=now - start, disposition=disposition, notes=notes,
                                 timed_out=timed_out))
        if it is not None and it.state is S.WRAPUP and it.agent_id == agent.id:
            it.state = step(INTERACTION_TABLE, it.state, Act.WRAPUP_END, f"interaction {iid}")
            self._close(it)
        self._sync(agent, now, "wrapup_ended")
        self._serve(agent, now)

    def _end_wrapup(self, cmd: c.EndWrapup, now: float) -> None:
        agent = self._agent(cmd.agent_id)
        if cmd.interaction_id not in agent.wrapups:
            raise InvalidTransition(
                f"agent {agent.id} is not in wrap-up for interaction {cmd.interaction_id}")
        self._finish_wrapup(agent, cmd.interaction_id, now, cmd.disposition, cmd.notes,
                            timed_out=False)

    def _extend_wrapup(self, cmd: c.ExtendWrapup, now: float) -> None:
        agent = self._agent(cmd.agent_id)
        entry = agent.wrapups.get(cmd.interaction_id)
        if entry is None:
            raise InvalidTransition(
                f"agent {agent.id} is not in wrap-up for interaction {cmd.interaction_id}")
        ch, start, until, token = entry
        it = self._interactions.get(cmd.interaction_id)
        q = self._queue_of(it) if it else None
        limit = start + (q.max_wrapup_s if q else 600.0)
        new_until = min(max(until, now) + cmd.seconds, limit)
        if new_until <= until:
            raise Conflict(f"wrap-up is already at its maximum of {limit - start:g} s",
                           field="seconds")
        self._timers.cancel(token)
        token = self._timers.set(new_until, "wrapup", f"{agent.id}\x00{cmd.interaction_id}")
        agent.wrapups[cmd.interaction_id] = (ch, start, new_until, token)
        self._emit(e.WrapupExtended(at=now, interaction_id=cmd.interaction_id,
                                    agent_id=agent.id, queue_id=it.queue_id if it else None,
                                    wrapup_until=new_until))

    # ------------------------------------------------------------------ offers
    def _accept(self, cmd: c.Accept, now: float) -> None:
        it = self._get(cmd.interaction_id)
        agent = self._agent(cmd.agent_id)
        res = it.offers.get(agent.id)
        if res is None:
            raise InvalidTransition(f"interaction {it.id} is not offered to agent {agent.id}")
        if it.consult_agent == agent.id:
            self._drop_offer(it, res)
            agent.contacts[it.id] = it.channel
            it.participants.add(agent.id)
            self._emit(e.ConferenceJoined(at=now, interaction_id=it.id, agent_id=agent.id,
                                          queue_id=it.queue_id))
            self._sync(agent, now, "consult")
            return
        step(INTERACTION_TABLE, it.state, Act.ANSWER, f"interaction {it.id}")
        self._drop_offer(it, res)
        it.state = S.CONNECTED
        it.overdue.clear()
        it.agent_id = agent.id
        it.answered_at = now
        it.ended_at = None
        it.hold_s = 0.0
        self._cancel_timers(it)
        agent.contacts[it.id] = it.channel
        agent.misses = 0
        agent.handled += 1
        key = it.customer.id or it.customer.phone or it.customer.email
        if key:
            self._last_agent[key] = agent.id
        start = it.sort_key[1]
        self._emit(e.Answered(at=now, interaction_id=it.id, agent_id=agent.id,
                              queue_id=it.queue_id, reservation_id=res.id,
                              wait_s=now - start, ring_s=now - res.offered_at))
        self._sync(agent, now, "answered")
        others = [self._withdraw(it, o, now) for o in list(it.offers.values())]
        for other in others:
            self._serve(other, now)

    def _reject(self, cmd: c.Reject, now: float) -> None:
        it = self._get(cmd.interaction_id)
        agent = self._agent(cmd.agent_id)
        res = it.offers.get(agent.id)
        if res is None:
            raise InvalidTransition(f"interaction {it.id} is not offered to agent {agent.id}")
        self._end_offer(it, res, now, OfferEnd.REJECTED)

    # ------------------------------------------------------------------ in a call
    def _hold(self, cmd: c.Hold, now: float) -> None:
        it = self._get(cmd.interaction_id)
        it.state = step(INTERACTION_TABLE, it.state, Act.HOLD, f"interaction {it.id}")
        it.held_since = now
        self._emit(e.Held(at=now, interaction_id=it.id, agent_id=it.agent_id,
                          queue_id=it.queue_id))

    def _resume(self, cmd: c.Resume, now: float) -> None:
        it = self._get(cmd.interaction_id)
        it.state = step(INTERACTION_TABLE, it.state, Act.RESUME, f"interaction {it.id}")
        self._do_resume(it, now)

    def _do_resume(self, it: Interaction, now: float) -> None:
        held = now - it.held_since if it.held_since is not None else 0.0
        it.hold_s += held
        it.held_since = None
        it.state = S.CONNECTED
        self._emit(e.Resumed(at=now, interaction_id=it.id, agent_id=it.agent_id,
                             queue_id=it.queue_id, hold_s=held))

    def _transfer(self, cmd: c.Transfer, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state not in (S.CONNECTED, S.HELD) or it.agent_id is None:
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}: cannot transfer")
        if it.consult_agent is not None:
            raise Conflict(f"interaction {it.id} already has a transfer in progress")
        target_q = self._queue(cmd.to_queue) if cmd.to_queue else None
        target_a = self._agent(cmd.to_agent) if cmd.to_agent else None
        if target_a is not None:
            if target_a.id == it.agent_id or target_a.id in it.participants:
                raise Conflict("cannot transfer to an agent already on the contact",
                               field="to_agent")
            if target_a.status is AgentStatus.OFFLINE:
                raise AgentUnavailable(f"agent {target_a.id} is logged out", field="to_agent")
            if cmd.mode == "warm" and not target_a.can_take(it.channel,
                                                            self.config.exclusive_channels):
                raise AgentUnavailable(f"agent {target_a.id} cannot take a {it.channel.value} "
                                       "contact now", field="to_agent")
        if target_q is not None and not self._accepts(target_q):
            raise Conflict(f"queue {target_q.id} is full", field="to_queue")
        if cmd.mode == "warm" and target_a is not None:
            if it.state is S.CONNECTED:
                it.state = S.HELD
                it.held_since = now
                self._emit(e.Held(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                  queue_id=it.queue_id))
            it.consult_agent = target_a.id
            self._emit(e.TransferStarted(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                         queue_id=it.queue_id, to_agent=target_a.id))
            self._make_offer(it, target_a, now, ring_all=False)
            return
        self._hand_off(it, now, "blind", target_a, target_q)

    def _hand_off(self, it: Interaction, now: float, mode: str, target_a: Agent | None,
                  target_q: QueueConfig | None) -> None:
        """The transferring agent leaves (and wraps up); the contact waits for its target."""
        assert it.agent_id is not None
        agent = self._agents[it.agent_id]
        if it.held_since is not None:
            it.hold_s += now - it.held_since
            it.held_since = None
        for other in sorted(it.participants):
            self._part(it, self._agents[other], now)
        self._emit(e.Transferred(at=now, interaction_id=it.id, agent_id=agent.id,
                                 queue_id=it.queue_id, to_agent=target_a.id if target_a else None,
                                 to_queue=target_q.id if target_q else None, mode=mode))
        self._start_wrapup(it, agent, now)
        it.agent_id = None
        it.state = S.QUEUED
        if target_q is not None:
            it.queue_id = target_q.id
        q = self._queue_of(it)
        it.leg_enqueued_at = now
        self._sort_key_for(it, q, now)
        it.preferred_agent = target_a.id if target_a else None
        it.affinity_until = float("inf") if target_a else 0.0
        self._place(it, now)
        if target_q is not None:
            self._arm_queue_timers(it, target_q, now)
        self._sync(agent, now, "transferred")
        self._try_offer(it, now)
        self._wrapup_if_none(agent, it.id, now)
        self._serve(agent, now)

    def _complete_transfer(self, cmd: c.CompleteTransfer, now: float) -> None:
        it = self._get(cmd.interaction_id)
        target = it.consult_agent
        if target is None or target not in it.participants or it.agent_id is None:
            raise InvalidTransition(f"interaction {it.id} has no connected consultation")
        old = self._agents[it.agent_id]
        it.consult_agent = None
        it.participants.discard(target)
        if it.held_since is not None:
            self._do_resume(it, now)
        self._emit(e.Transferred(at=now, interaction_id=it.id, agent_id=old.id,
                                 queue_id=it.queue_id, to_agent=target, mode="warm"))
        self._start_wrapup(it, old, now)
        it.agent_id = target
        self._sync(old, now, "transferred")
        self._wrapup_if_none(old, it.id, now)

    def _cancel_transfer(self, cmd: c.CancelTransfer, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.consult_agent is None:
            raise InvalidTransition(f"interaction {it.id} has no transfer in progress")
        self._drop_consult(it, now)

    def _drop_consult(self, it: Interaction, now: float) -> None:
        target = self._agents[it.consult_agent] if it.consult_agent else None
        if target is None:
            return
        res = it.offers.get(target.id)
        if res is not None:
            self._end_offer(it, res, now, OfferEnd.WITHDRAWN)  # also emits the cancel
            return
        it.consult_agent = None
        self._emit(e.TransferCancelled(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                       queue_id=it.queue_id, to_agent=target.id))
        self._part(it, target, now)

    def _join_conference(self, cmd: c.JoinConference, now: float) -> None:
        it = self._get(cmd.interaction_id)
        agent = self._agent(cmd.agent_id)
        if it.state not in (S.CONNECTED, S.HELD):
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}: no conference")
        if agent.id == it.agent_id or agent.id in it.participants:
            raise Conflict(f"agent {agent.id} is already on interaction {it.id}")
        if not agent.can_take(it.channel, self.config.exclusive_channels):
            raise AgentUnavailable(f"agent {agent.id} cannot join now", field="agent_id")
        agent.contacts[it.id] = it.channel
        it.participants.add(agent.id)
        self._emit(e.ConferenceJoined(at=now, interaction_id=it.id, agent_id=agent.id,
                                      queue_id=it.queue_id))
        self._sync(agent, now, "conference")

    def _leave_conference(self, cmd: c.LeaveConference, now: float) -> None:
        it = self._get(cmd.interaction_id)
        agent = self._agent(cmd.agent_id)
        if agent.id not in it.participants:
            raise InvalidTransition(f"agent {agent.id} is not a participant of {it.id}")
        if it.consult_agent == agent.id:
            self._drop_consult(it, now)
            return
        self._part(it, agent, now)

    def _part(self, it: Interaction, agent: Agent, now: float) -> None:
        it.participants.discard(agent.id)
        agent.contacts.pop(it.id, None)
        self._emit(e.ConferenceLeft(at=now, interaction_id=it.id, agent_id=agent.id,
                                    queue_id=it.queue_id))
        self._sync(agent, now, "conference")
        self._serve(agent, now)

    # ------------------------------------------------------------------ callbacks
    def _request_callback(self, cmd: c.RequestCallback, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state is not S.QUEUED or it.queue_id is None:
            raise InvalidTransition(
                f"interaction {it.id} is {it.state.value}: a callback keeps a place in a queue")
        if it.callback:
            raise Conflict(f"interaction {it.id} is already a callback")
        it.callback = True
        it.callback_phone = cmd.phone or it.customer.phone
        self._cancel_timers(it, "timeout")
        self._emit(e.CallbackRequested(at=now, interaction_id=it.id, queue_id=it.queue_id,
                                       phone=it.callback_phone))

    def _schedule_callback(self, cmd: c.ScheduleCallback, now: float) -> None:
        if cmd.interaction_id in self._interactions or cmd.interaction_id in self._closed:
            raise Conflict(f"interaction {cmd.interaction_id} already exists",
                           field="interaction_id")
        q = self._queue(cmd.queue_id)
        it = Interaction(id=cmd.interaction_id, channel=cmd.channel,
                         direction=Direction.OUTBOUND, customer=cmd.customer,
                         priority=cmd.priority, attributes={}, arrived_at=now,
                         callback=True, callback_phone=cmd.phone or cmd.customer.phone)
        self._interactions[it.id] = it
        self._emit(e.Arrived(at=now, interaction_id=it.id, channel=it.channel,
                             direction=it.direction, customer=it.customer,
                             priority=it.priority))
        it.state = S.SCHEDULED
        it.queue_id = q.id
        self._emit(e.CallbackScheduled(at=now, interaction_id=it.id, queue_id=q.id,
                                       due_at=cmd.due_at, phone=it.callback_phone,
                                       priority=cmd.priority))
        if cmd.due_at <= now:
            self._callback_due(it, now)
        else:
            it.due_at = cmd.due_at
            self._set_timer(it, "due", cmd.due_at)

    def _callback_due(self, it: Interaction, now: float) -> None:
        q = self._queues[it.queue_id] if it.queue_id else None
        it.due_at = None
        it.state = S.IVR
        if q is None:
            return
        self._enqueue(it, q, now, it.priority, {}, None)

    def _move_contact(self, cmd: c.MoveContact, now: float) -> None:
        it = self._get(cmd.interaction_id)
        q = self._queue(cmd.queue_id)
        if it.state is not S.QUEUED:
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not waiting")
        if it.queue_id == q.id:
            raise Conflict(f"interaction {it.id} is already in queue {q.id}", field="queue_id")
        if not self._accepts(q):
            raise Conflict(f"queue {q.id} is full", field="queue_id")
        self._move(it, q, now, "moved")

    # ------------------------------------------------------------------ agents
    def _set_status(self, cmd: c.SetAgentStatus, now: float) -> None:
        agent = self._agent(cmd.agent_id)
        if cmd.status is agent.status and cmd.status is not AgentStatus.NOT_READY:
            return
        check_status(agent.status, cmd.status, agent.id)
        if cmd.status is AgentStatus.OFFLINE and (agent.contacts or agent.wrapups):
            raise InvalidTransition(
                f"agent {agent.id} has {len(agent.contacts) + len(agent.wrapups)} open "
                "contact(s): finish them (and their wrap-up) before logging out")
        if cmd.status is AgentStatus.NOT_READY and not cmd.reason:
            raise ValidationError("not_ready needs a reason code", field="reason")
        self._change_status(agent, cmd.status, cmd.reason, now, "status")

    def _change_status(self, agent: Agent, status: AgentStatus, reason: str | None,
                       now: float, cause: str) -> None:
        before = agent.status
        for pool in agent.pools:
            online = status is not AgentStatus.OFFLINE
            pool.logged_in += online - (before is not AgentStatus.OFFLINE)
            pool.ready += (status is AgentStatus.READY) - (before is AgentStatus.READY)
        agent.status = status
        agent.reason = reason
        if status is AgentStatus.READY:
            agent.misses = 0
        if before is AgentStatus.OFFLINE:
            agent.idle_since = now
        self._sync(agent, now, cause)
        if status is not AgentStatus.READY:
            for iid in list(agent.offers):
                it = self._interactions[iid]
                self._end_offer(it, it.offers[agent.id], now, OfferEnd.WITHDRAWN)
        if status is AgentStatus.OFFLINE:
            self._release_personal(agent, now)
        if before is AgentStatus.READY or status is AgentStatus.OFFLINE:
            self._apply_leave_rules(agent, now)
        if status is AgentStatus.READY:
            self._serve(agent, now)

    def _release_personal(self, agent: Agent, now: float) -> None:
        """Contacts waiting for this agent (affinity, transfer) go back to their queue."""
        for pool in list(agent.pools):
            if pool.spec.members != frozenset({agent.id}):
                continue
            for lst in pool.waiting.values():
                for it in list(lst):
                    self._unplace(it)
                    it.preferred_agent = None
                    it.affinity_until = 0.0
                    self._cancel_timers(it, "affinity")
                    if it.queue_id is None:
                        continue
                    self._place(it, now)
                    self._try_offer(it, now)

    def _apply_leave_rules(self, agent: Agent, now: float) -> None:
        for qid, q in self._queues.items():
            if q.leave_rule is JoinRule.ALWAYS or agent.id not in self._main_pool[qid].members_set:
                continue
            if self._refusal(q, q.leave_rule):
                for it in list(self._queued[qid]):
                    if not it.callback:
                        self._leave_line(it, now, e.Exited, EndReason.NO_AGENTS)

    def _upsert_agent(self, cmd: c.UpsertAgent, now: float) -> None:
        cfg = cmd.agent
        self.config.check_agent(cfg)
        agent = self._agents.get(cfg.id)
        if agent is None:
            agent = self._agents[cfg.id] = Agent(cfg, now)
        else:
            agent.config = cfg
        self._emit(e.AgentUpdated(at=now, agent_id=cfg.id, skills=cfg.skills,
                                  capacity={k.value: v for k, v in cfg.capacity.items()}))
        for pool in self._pool_list:
            eligible = pool.spec.eligible(cfg)
            member = cfg.id in pool.members_set
            if eligible and not member:
                self._join_pool(agent, pool)
            elif member and not eligible:
                self._leave_pool(agent, pool)
        self._refresh(agent)
        if agent.status is AgentStatus.READY:
            self._serve(agent, now)

    def _upsert_queue(self, cmd: c.UpsertQueue, now: float) -> None:
        q = cmd.queue
        ids = set(self._queues) | {q.id}
        self.config.check_queue(q, ids, set(self._agents))
        waiting = list(self._queued.get(q.id, ()))
        for it in waiting:
            self._unplace(it)
        self._add_queue(q)
        for it in waiting:
            self._place(it, now)
            self._arm_queue_timers(it, q, now)
        for it in waiting:
            self._try_offer(it, now)

    # ------------------------------------------------------------------ timers
    def _fire(self, at: float, token: int, kind: str, ref: str) -> None:
        self.now = max(self.now, at)
        if kind == "ring":
            res = self._reservations.get(ref)
            if res is not None and res.timer == token:
                it = self._interactions[res.interaction_id]
                self._end_offer(it, res, at, OfferEnd.TIMEOUT)
            return
        if kind == "wrapup":
            agent_id, iid = ref.split("\x00", 1)
            agent = self._agents.get(agent_id)
            if agent is not None and iid in agent.wrapups and agent.wrapups[iid][3] == token:
                self._finish_wrapup(agent, iid, at, None, None, timed_out=True)
            return
        found = self._interactions.get(ref)
        if found is None or found.timers.get(kind) != token:
            return
        it = found
        del it.timers[kind]
        if kind == "due":
            self._callback_due(it, at)
        elif it.state is S.OFFERED:
            it.overdue.add(kind)  # ringing: applies if the ring ends unanswered
        elif it.state is not S.QUEUED:
            return
        elif kind in ("stage", "affinity"):
            if kind == "affinity":
                it.affinity_until = 0.0
                it.preferred_agent = None
            self._unplace(it)
            self._place(it, at)
            self._try_offer(it, at)
        elif kind == "timeout":
            self._leave_line(it, at, e.Exited, EndReason.TIMEOUT)
        elif kind == "overflow":
            self._overflow_after(it, at)

    def _overflow_after(self, it: Interaction, now: float) -> None:
        q = self._queue_of(it)
        if q is None:
            return
        waited = now - it.leg_enqueued_at
        for rule in q.overflow:
            if rule.after_s is not None and rule.after_s <= waited:
                target = self._queues[rule.to_queue]
                if self._accepts(target):
                    self._move(it, target, now, "after_s")
                    return
        later = [r.after_s for r in q.overflow if r.after_s is not None and r.after_s > waited]
        if later:
            self._set_timer(it, "overflow", it.leg_enqueued_at + min(later))

    # ------------------------------------------------------------------ audit
    def audit(self) -> list[str]:
        """Check the engine's invariants; return the problems found (none: [])."""
        problems: list[str] = []
        excl = self.config.exclusive_channels
        for a in self._agents.values():
            load = a.load()
            for ch, n in load.items():
                if n > a.config.capacity.get(ch, 0):
                    problems.append(f"agent {a.id} over capacity on {ch}: {n}")
            if (len(load) > 1 and any(load.get(ch) for ch in excl)) or \
                    sum(load.get(ch, 0) for ch in excl) > 1:
                problems.append(f"agent {a.id} has an exclusive contact beside others")
        seen: dict[str, str] = {}
        for pool in self._pool_list:
            for ch, lst in pool.waiting.items():
                for it in lst:
                    if it.id in seen:
                        problems.append(f"interaction {it.id} waits in two pools")
                    seen[it.id] = "pool"
                    if it.state is not S.QUEUED:
                        problems.append(f"interaction {it.id} waits but is {it.state.value}")
                if lst and len(self._free_index(pool, ch)):
                    problems.append(f"pool {pool.id} has a waiting contact and a free agent")
        for it in self._interactions.values():
            if it.state is S.QUEUED and it.due_at is None and it.id not in seen:
                problems.append(f"interaction {it.id} is queued but waits nowhere")
            if it.state is S.OFFERED and not it.offers:
                problems.append(f"interaction {it.id} is offered to no one")
            if len(it.offers) > 1 and (it.pool is None or it.pool.strategy is not
                                       Strategy.RING_ALL):
                problems.append(f"interaction {it.id} is offered to several agents")
            if it.state in TERMINAL:
                problems.append(f"interaction {it.id} is closed but still live")
        return problems


def replay(engine: Engine, inputs: Iterable[tuple[float, c.Command | None]]) -> list[e.Event]:
    """Drive an engine through (time, command) pairs; ``None`` only advances time."""
    out: list[e.Event] = []
    for now, cmd in inputs:
        out.extend(engine.advance(now) if cmd is None else engine.handle(cmd, now))
    return out
