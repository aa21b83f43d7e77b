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

import math
import random
from collections.abc import Callable, Iterable
from typing import Any

from switchboard.acd.agents import Agents
from switchboard.acd.base import DEFAULT_AHT_S, EWT_ESTIMATOR, S
from switchboard.acd.machines import TERMINAL
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import EndReason, OfferEnd, Strategy
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import AgentConfig, RoutingConfig

__all__ = ["DEFAULT_AHT_S", "EWT_ESTIMATOR", "Engine", "replay"]


class Engine(Agents):
    """The automatic call distributor for one tenant. See the module docstring."""

    def __init__(self, config: RoutingConfig, *, now: float = 0.0,
                 rng: random.Random | None = None) -> None:
        super().__init__(config, now=now, rng=rng)
        self._handlers: dict[type[c.Command], Callable[[Any, float], None]] = {
            c.Arrive: self._arrive,
            c.IvrStep: self._ivr_step,
            c.Enqueue: self._enqueue_cmd,
            c.SetAgentStatus: self._set_status,
            c.Accept: self._accept,
            c.Reject: self._reject,
            c.Hangup: self._hangup,
            c.LeaveQueue: self._leave_queue,
            c.Withdraw: self._withdraw_contact,
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
            c.RemoveQueue: self._remove_queue,
            c.RemoveAgent: self._remove_agent,
        }

    # ------------------------------------------------------------------ driving
    def handle(self, command: c.Command, now: float) -> list[e.Event]:
        """Apply one command at time ``now``; return the events it caused (after
        those of any timers due by ``now``). Raises and changes nothing when
        the command is invalid in the current state; the events of the timers
        that fired before it stay for the next call."""
        handler = self._handlers.get(command.__class__)
        if handler is None:
            raise ValidationError(f"unknown command {type(command).__name__}", field="command")
        self._tick(now)
        handler(command, now)
        out = self._out
        self._out = []
        return out

    def advance(self, now: float) -> list[e.Event]:
        """Fire every timer due by ``now``; return what happened, in time order."""
        self._tick(now)
        out = self._out
        self._out = []
        return out

    def _tick(self, now: float) -> None:
        """Move the clock to ``now``, firing due timers (their events go to the
        output in time order)."""
        try:  # also refuses NaN, infinity and what is not a number
            ok = self.now <= now < INF and now.__class__ is not bool
        except TypeError:
            ok = False
        if not ok:
            _check_time(now, self.now)
        self._timers.pop_due(now, self._fire)
        self.now = now

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

    def agent_config(self, agent_id: str) -> AgentConfig:
        """An agent's routing profile (to change it with :class:`~c.UpsertAgent`)."""
        return self._agent(agent_id).config

    def queue_agents(self, queue_id: str) -> list[str]:
        """The ids of the agents a queue routes to first (its members with its
        skills: the queue's main pool, before any expansion step), sorted."""
        self._queue(queue_id)
        return sorted(self._main_pool[queue_id].members_set)

    def queue_ids(self) -> list[str]:
        return sorted(self._queues)

    def has_queue(self, queue_id: str) -> bool:
        return queue_id in self._queues

    def interaction_ids(self) -> list[str]:
        return sorted(self._interactions)

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


INF = float("inf")


def _check_time(now: float, last: float) -> None:
    """The error for a time that is not finite, or earlier than the last one.
    Events are built from these times without further checks."""
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise ValidationError(f"time must be a finite number, got {now!r}", field="now")
    raise ValidationError(f"time went backwards: {now} < {last}", field="now")


def replay(engine: Engine, inputs: Iterable[tuple[float, c.Command | None]]) -> list[e.Event]:
    """Drive an engine through (time, command) pairs; ``None`` only advances time."""
    out: list[e.Event] = []
    for now, cmd in inputs:
        out.extend(engine.advance(now) if cmd is None else engine.handle(cmd, now))
    return out

