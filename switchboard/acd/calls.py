"""A contact with an agent: answer, hold, transfers, conference; callbacks."""

from __future__ import annotations

from switchboard.acd.base import S
from switchboard.acd.contacts import Contacts
from switchboard.acd.machines import Act, interaction_step
from switchboard.acd.runtime import Agent, Interaction
from switchboard.domain import commands as c
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentStatus, Direction, OfferEnd
from switchboard.domain.errors import AgentUnavailable, Conflict, InvalidTransition
from switchboard.domain.model import QueueConfig


class Calls(Contacts):
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
            self._out.append(t.ConferenceJoined(at=now, interaction_id=it.id, agent_id=agent.id,
                                                queue_id=it.queue_id))
            self._sync(agent, now, "consult")
            return
        interaction_step(it.state, Act.ANSWER, it.id)
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
        self._out.append(t.Answered(at=now, interaction_id=it.id, agent_id=agent.id,
                                    queue_id=it.queue_id, reservation_id=res.id,
                                    wait_s=now - start, ring_s=now - res.offered_at))
        self._sync(agent, now, "answered")
        if it.offers:  # ring all: the other agents' offers are withdrawn
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
        it.state = interaction_step(it.state, Act.HOLD, it.id)
        it.held_since = now
        self._out.append(t.Held(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                queue_id=it.queue_id))

    def _resume(self, cmd: c.Resume, now: float) -> None:
        it = self._get(cmd.interaction_id)
        it.state = interaction_step(it.state, Act.RESUME, it.id)
        self._do_resume(it, now)

    def _do_resume(self, it: Interaction, now: float) -> None:
        held = now - it.held_since if it.held_since is not None else 0.0
        it.hold_s += held
        it.held_since = None
        it.state = S.CONNECTED
        self._out.append(t.Resumed(at=now, interaction_id=it.id, agent_id=it.agent_id,
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
                self._out.append(t.Held(at=now, interaction_id=it.id, agent_id=it.agent_id,
                                        queue_id=it.queue_id))
            it.consult_agent = target_a.id
            self._out.append(t.TransferStarted(at=now, interaction_id=it.id, agent_id=it.agent_id,
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
        self._out.append(t.Transferred(at=now, interaction_id=it.id, agent_id=agent.id,
                                       queue_id=it.queue_id,
                                       to_agent=target_a.id if target_a else None,
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
        it.agent_only = False  # transferred: the usual fallback to the queue
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
        self._out.append(t.Transferred(at=now, interaction_id=it.id, agent_id=old.id,
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
        self._out.append(t.TransferCancelled(at=now, interaction_id=it.id, agent_id=it.agent_id,
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
        self._out.append(t.ConferenceJoined(at=now, interaction_id=it.id, agent_id=agent.id,
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
        self._out.append(t.ConferenceLeft(at=now, interaction_id=it.id, agent_id=agent.id,
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
        self._out.append(t.CallbackRequested(at=now, interaction_id=it.id, queue_id=it.queue_id,
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
        self._out.append(t.Arrived(at=now, interaction_id=it.id, channel=it.channel,
                                   direction=it.direction, customer=it.customer,
                                   priority=it.priority))
        it.state = S.SCHEDULED
        it.queue_id = q.id
        self._out.append(t.CallbackScheduled(at=now, interaction_id=it.id, queue_id=q.id,
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

