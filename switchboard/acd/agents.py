"""Agents: status changes, leave rules, routing profiles and queues changed on the fly."""

from __future__ import annotations

from switchboard.acd.calls import Calls
from switchboard.acd.machines import check_status
from switchboard.acd.runtime import Agent
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentStatus, EndReason, OfferEnd
from switchboard.domain.errors import Conflict, InvalidTransition, ValidationError
from switchboard.domain.model import JoinRule


class Agents(Calls):
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
                    if it.agent_only:  # no one else may take it: it leaves
                        self._leave_line(it, now, e.Exited, EndReason.NO_AGENTS)
                        continue
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
        self._out.append(t.AgentUpdated(at=now, agent_id=cfg.id, skills=cfg.skills,
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

    def _remove_queue(self, cmd: c.RemoveQueue, now: float) -> None:
        q = self._queue(cmd.queue_id)
        live = sum(1 for it in self._interactions.values() if it.queue_id == q.id)
        if live:
            raise Conflict(f"{live} contact(s) still belong to queue {q.id} (waiting, "
                           "scheduled, ringing, connected or in wrap-up): move or end "
                           "them first", field="queue_id")
        for other in self._queues.values():
            targets = {r.to_queue for r in other.overflow}
            targets.update(x for step in other.steps for x in step.add_queues)
            if other.id != q.id and q.id in targets:
                raise Conflict(f"queue {other.id} overflows or expands into queue {q.id}: "
                               "change it first", field="queue_id")
        self._remove_pools(q.id)
        del self._queues[q.id]
        del self._queued[q.id]
        self._aht.pop(q.id, None)

    def _remove_agent(self, cmd: c.RemoveAgent, now: float) -> None:
        agent = self._agent(cmd.agent_id)
        if agent.status is not AgentStatus.OFFLINE or agent.contacts or agent.offers \
                or agent.wrapups:
            raise Conflict(f"agent {agent.id} is logged in or has contacts: log it out first",
                           field="agent_id")
        for q in self._queues.values():
            named = set(q.members or ()) | {a for step in q.steps for a in step.add_agents}
            if agent.id in named:
                raise Conflict(f"queue {q.id} names agent {agent.id} (members or expansion "
                               "steps): change it first", field="agent_id")
        waiting = sorted(it.id for it in self._interactions.values()
                         if agent.id in (it.preferred_agent, it.consult_agent)
                         or agent.id in it.participants)
        if waiting:
            raise Conflict(f"contact {waiting[0]} waits for agent {agent.id} in particular: "
                           "move or end it first", field="agent_id")
        for pool in list(agent.pools):
            self._leave_pool(agent, pool)
        del self._agents[agent.id]
        for key in [k for k, a in self._last_agent.items() if a == agent.id]:
            del self._last_agent[key]
