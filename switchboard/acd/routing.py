"""Pools, free-agent indexes, the waiting line and offers."""

from __future__ import annotations

from typing import Any

from switchboard.acd.base import MAX_BUSY_HISTORY_S, EngineBase, S
from switchboard.acd.line import Line
from switchboard.acd.machines import Act, interaction_step
from switchboard.acd.runtime import (
    NONE_FREE,
    Agent,
    Interaction,
    Pool,
    PoolSpec,
    Reservation,
)
from switchboard.domain import events as e
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentState, AgentStatus, Channel, EndReason, OfferEnd, Strategy
from switchboard.domain.errors import Conflict
from switchboard.domain.model import QueueConfig

_BUSY = frozenset({AgentState.BUSY, AgentState.WRAPUP})


class Routing(EngineBase):
    # ------------------------------------------------------------------ pools
    def _add_queue(self, q: QueueConfig) -> None:
        self._queues[q.id] = q
        self._stage_pools.clear()  # specs may name this queue (expansion to its agents)
        self._queued.setdefault(q.id, Line())
        self._main_pool[q.id] = self._pool(q, self._spec(q, 0, {}))

    def _remove_pools(self, queue_id: str) -> None:
        """Forget a removed queue's pools (main, stage and personal ones): their
        agents leave them, so nothing routes through them any more."""
        gone = [p for p in self._pool_list if p.queue_id == queue_id]
        for pool in gone:
            for aid in sorted(pool.members_set):
                self._leave_pool(self._agents[aid], pool)
        ids = {id(p) for p in gone}
        self._pool_list = [p for p in self._pool_list if id(p) not in ids]
        self._pools = {k: p for k, p in self._pools.items() if id(p) not in ids}
        for pool in gone:
            del self._pool_by_id[pool.id]
        self._stage_pools.clear()
        self._main_pool.pop(queue_id, None)

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
        pool = Pool(self._pool_seq, qid, spec, strat, ranks,
                    q.occupancy_window_s if q else 3600.0)
        self._pool_seq += 1
        self._pools[key] = pool
        self._pool_list.append(pool)
        self._pool_by_id[pool.id] = pool
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
        key = pool.key_fn(agent, pool, self.now)
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
        free = agent.free_channels(self.config.exclusive_channels)
        if free is NONE_FREE:
            keys = agent.index_keys
            if keys:  # out of every index it is in (each index is told once)
                pools = self._pool_by_id
                for pid, ch in keys:
                    pools[pid].free[ch].discard(agent.id)
                keys.clear()
            return
        for pool in agent.pools:
            self._refresh_in(agent, pool, free)

    def _sync(self, agent: Agent, now: float, cause: str) -> None:
        """Emit ``agent_state`` if status or derived state changed; keep the busy
        history (LOA) and the idle-since time (MIA) current; re-index the agent."""
        state = agent.state()
        before = agent.last_state
        if state is not before[2] or agent.status is not before[0] or agent.reason != before[1]:
            current = (agent.status, agent.reason, state)
            busy = state in _BUSY
            was_busy = before[2] in _BUSY
            if busy and agent.busy_since is None:
                agent.busy_since = now
            elif not busy and agent.busy_since is not None:
                periods = agent.busy_periods
                periods.append((agent.busy_since, now))
                agent.busy_since = None
                if periods[0][1] < now - MAX_BUSY_HISTORY_S:
                    agent.trim_busy(now, MAX_BUSY_HISTORY_S)
            if was_busy and not busy:
                agent.idle_since = now
            agent.last_state = current
            self._out.append(t.AgentStateChanged(at=now, agent_id=agent.id, status=agent.status,
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
            stage = sum(1 for s in q.steps if s.after_s <= now - it.leg_enqueued_at) \
                if q.steps else 0
            it.stage = stage
            key = (q.id, stage, tuple(sorted(it.skills.items())) if it.skills else ())
            found = self._stage_pools.get(key)
            if found is None:
                found = self._stage_pools[key] = self._pool(q, self._spec(q, stage, it.skills))
            pool = found
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
        if pool.waiting_list(it.channel).first() is not it:
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
                    head = lst.first()
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
            it.state = interaction_step(it.state, Act.OFFER, it.id)
        self._offer_seq += 1
        res = Reservation(id=f"r{self._offer_seq}", interaction_id=it.id, agent_id=agent.id,
                          queue_id=it.queue_id, offered_at=now, expires_at=now + ring)
        res.timer = self._timers.set(res.expires_at, "ring", res.id)
        self._reservations[res.id] = res
        it.offers[agent.id] = res
        agent.offers[it.id] = it.channel
        self._out.append(t.Offered(at=now, interaction_id=it.id, agent_id=agent.id,
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
        self._out.append(t.OfferWithdrawn(at=now, interaction_id=it.id, agent_id=agent.id,
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
            event = t.OfferTimedOut if how is OfferEnd.TIMEOUT else t.OfferRejected
            self._out.append(event(at=now, interaction_id=it.id, agent_id=agent.id,
                                   queue_id=res.queue_id, reservation_id=res.id,
                                   ring_s=now - res.offered_at))
        if it.consult_agent == agent.id:
            it.consult_agent = None
            self._out.append(t.TransferCancelled(at=now, interaction_id=it.id, agent_id=it.agent_id,
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
            it.state = interaction_step(it.state, Act.OFFER_END, it.id)
            overdue, it.overdue = it.overdue, set()
            if "timeout" in overdue:  # its time in queue ran out while it rang
                self._leave_line(it, now, e.Exited, EndReason.TIMEOUT)
                self._serve(agent, now)
                return
            if not it.agent_only and ("affinity" in overdue or (
                    it.preferred_agent == agent.id and how is not OfferEnd.WITHDRAWN
                    and it.queue_id is not None)):
                # The agent it waited for (affinity, transfer) let it go: back to the queue.
                it.preferred_agent = None
                it.affinity_until = 0.0
                self._cancel_timers(it, "affinity")
            self._place(it, now)
            if "overflow" in overdue:
                self._overflow_after(it, now)
            self._try_offer(it, now, skip=agent.id)
        self._serve(agent, now)

