"""A contact's life without an agent: arrival, queues, overflow, leaving, wrap-up."""

from __future__ import annotations

from typing import Any

from switchboard.acd.base import AHT_SMOOTHING, S
from switchboard.acd.machines import Act, interaction_step
from switchboard.acd.routing import Routing
from switchboard.acd.runtime import Agent, Interaction
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentStatus, EndReason
from switchboard.domain.errors import Conflict, InvalidTransition
from switchboard.domain.model import JoinRule, QueueConfig


class Contacts(Routing):
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
        self._out.append(t.Arrived(at=now, interaction_id=it.id, channel=it.channel,
                                   direction=it.direction, customer=it.customer,
                                   priority=it.priority, attributes=it.attributes))
        if cmd.queue_id is not None:
            self._enqueue(it, self._queues[cmd.queue_id], now, cmd.priority, cmd.skills,
                          cmd.preferred_agent, cmd.agent_only)

    def _ivr_step(self, cmd: c.IvrStep, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state is not S.IVR:
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not in IVR")
        it.attributes.update(cmd.attributes)
        self._out.append(t.IvrInput(at=now, interaction_id=it.id, digits=cmd.digits, step=cmd.step,
                                    attributes=cmd.attributes))

    def _enqueue_cmd(self, cmd: c.Enqueue, now: float) -> None:
        it = self._get(cmd.interaction_id)
        q = self._queue(cmd.queue_id)
        if cmd.preferred_agent is not None:
            self._agent(cmd.preferred_agent)
        self._enqueue(it, q, now, it.priority if cmd.priority is None else cmd.priority,
                      cmd.skills, cmd.preferred_agent, cmd.agent_only)

    def _refusal(self, q: QueueConfig, rule: JoinRule) -> bool:
        pool = self._main_pool[q.id]
        if rule is JoinRule.LOGGED_IN:
            return pool.logged_in == 0
        if rule is JoinRule.READY:
            return pool.ready == 0
        return False

    def _enqueue(self, it: Interaction, q: QueueConfig, now: float, priority: int,
                 skills: Any, preferred: str | None, agent_only: bool = False) -> None:
        interaction_step(it.state, Act.ENQUEUE, it.id)
        if skills:
            self.config.check_skills(skills, "skills")
        reason: EndReason | None = None
        if q.max_length is not None and len(self._queued[q.id]) >= q.max_length:
            reason = EndReason.QUEUE_FULL
        elif self._refusal(q, q.join_rule):
            reason = EndReason.NO_AGENTS
        if reason is not None:
            self._out.append(t.EnqueueRefused(at=now, interaction_id=it.id, queue_id=q.id,
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
        if agent_only and preferred is not None:
            # An agent's own contact: it waits for that agent alone, however long.
            it.agent_only = True
            it.preferred_agent = preferred
            it.affinity_until = float("inf")
        else:
            it.agent_only = False
            self._set_affinity(it, q, now, preferred)
        self._place(it, now)
        self._arm_queue_timers(it, q, now)
        pos = self._queued[q.id].index(it) + 1  # _place put it in its queue's line
        ewt = self._ewt_at(q.id, pos)
        self._out.append(t.Enqueued(at=now, interaction_id=it.id, queue_id=q.id, priority=priority,
                                    skills=it.skills, position=pos, ewt_s=ewt,
                                    callback_offered=q.callback_ewt_s is not None and (
                                        ewt is None or ewt > q.callback_ewt_s),
                                    callback=it.callback))
        if q.overflow and not it.agent_only and self._overflow_on_ewt(it, q, ewt, now):
            return
        self._try_offer(it, now)

    def _set_affinity(self, it: Interaction, q: QueueConfig, now: float,
                      preferred: str | None) -> None:
        it.preferred_agent = None
        it.affinity_until = 0.0
        if q.affinity_timeout_s <= 0:
            return
        key = it.customer.id or it.customer.phone or it.customer.email
        candidate = preferred or (self._last_agent.get(key) if key else None)
        if candidate is None:
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
        afters = [r.after_s for r in q.overflow if r.after_s is not None] \
            if q.overflow and not it.agent_only else None
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
        self._out.append(t.Overflowed(at=now, interaction_id=it.id, queue_id=it.queue_id,
                                      to_queue=target.id, reason=reason))
        it.queue_id = target.id
        it.leg_enqueued_at = now
        self._sort_key_for(it, target, it.sort_key[1])
        it.preferred_agent = None
        it.affinity_until = 0.0
        it.agent_only = False
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
        build = t.Abandoned if event is e.Abandoned else t.Exited
        self._out.append(build(at=now, interaction_id=it.id, queue_id=it.queue_id, reason=reason,
                               wait_s=now - start, position=pos))
        self._close(it)
        for agent in ringing:
            self._serve(agent, now)

    def _hangup(self, cmd: c.Hangup, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state is S.IVR:
            interaction_step(it.state, Act.SELF_SERVICE, it.id)
            it.state = S.ENDED
            self._out.append(t.Ended(at=now, interaction_id=it.id, by=cmd.by))
            self._close(it)
        elif it.state in (S.QUEUED, S.OFFERED, S.SCHEDULED):
            self._leave_line(it, now, e.Abandoned, EndReason.CUSTOMER_HANGUP)
        else:
            interaction_step(it.state, Act.END, it.id)
            self._end_connected(it, now, cmd.by)

    def _leave_queue(self, cmd: c.LeaveQueue, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state not in (S.QUEUED, S.OFFERED):
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not queued")
        self._leave_line(it, now, e.Abandoned, EndReason.KEY_PRESSED)

    def _withdraw_contact(self, cmd: c.Withdraw, now: float) -> None:
        it = self._get(cmd.interaction_id)
        if it.state not in (S.QUEUED, S.OFFERED):
            raise InvalidTransition(f"interaction {it.id} is {it.state.value}, not queued")
        self._leave_line(it, now, e.Exited, EndReason.WITHDRAWN)

    def _end_connected(self, it: Interaction, now: float, by: str) -> None:
        if it.held_since is not None:
            it.hold_s += now - it.held_since
            it.held_since = None
        it.ended_at = now
        talk = it.talk_s(now)
        if it.consult_agent is not None:
            self._drop_consult(it, now)
        if it.participants:
            for other in sorted(it.participants):
                self._part(it, self._agents[other], now)
        agent = self._agents[it.agent_id] if it.agent_id else None
        until = self._start_wrapup(it, agent, now) if agent else None
        it.state = S.WRAPUP
        self._out.append(t.Ended(at=now, interaction_id=it.id, agent_id=it.agent_id,
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
        self._out.append(t.WrapupEnded(at=now, interaction_id=iid, agent_id=agent.id, queue_id=qid,
                                       wrapup_s=now - start, disposition=disposition, notes=notes,
                                       timed_out=timed_out))
        if it is not None and it.state is S.WRAPUP and it.agent_id == agent.id:
            it.state = interaction_step(it.state, Act.WRAPUP_END, iid)
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
        self._out.append(t.WrapupExtended(at=now, interaction_id=cmd.interaction_id,
                                          agent_id=agent.id, queue_id=it.queue_id if it else None,
                                          wrapup_until=new_until))

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

