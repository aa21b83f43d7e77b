"""The discrete-event loop that drives the real routing engine on a virtual clock.

Theory of operation. Each simulated day gets a fresh :class:`Engine` (the day
starts empty) and one heap of the simulator's own future actions: arrivals,
customers' patience running out, agents answering a ringing offer, talk
ending, wrap-up ending, logins, breaks and logouts. The loop always runs
whichever comes first, the heap's head or the engine's ``next_deadline()``
(ring timeouts, wrap-up timers, overflow...), so the engine sees time only
move forward and every timer fires at its own time. The engine's events drive
the simulated people: ``offered`` makes the agent answer after the answer
time, ``answered`` schedules the end of talk after a sampled handle time,
``ended`` the end of a sampled wrap-up, and so on.

A day takes arrivals for ``hours`` hours; then the contacts still in the
system finish (agents whose shift ends with the arrival window stay until the
last one is done) and the day stops when nothing is left to happen.
Randomness comes from generators seeded by (seed, day), so the same seed gives
the same events, and a day's result does not depend on how many days run.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from switchboard.acd.engine import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus
from switchboard.domain.errors import InvalidTransition
from switchboard.domain.model import RoutingConfig
from switchboard.domain.trusted import builder
from switchboard.sim.kpis import Collector, DayTally
from switchboard.sim.model import Scenario

# The commands of every contact, built from the validated scenario (see
# model.Stream) the way the engine builds its events: without checking the
# same values again (switchboard.domain.trusted).
_Arrive = builder(c.Arrive)
_Accept = builder(c.Accept)
_Hangup = builder(c.Hangup)
_EndWrapup = builder(c.EndWrapup)

EventSink = Callable[[list[e.Event]], None]
Progress = Callable[[int], None]

# Heap actions: (time, sequence, action, a, b).
_ARRIVE, _PATIENCE, _ACCEPT, _HANGUP, _WRAP, _LOGIN, _BREAK, _BREAK_END, _SHIFT_END, \
    _CALLBACK, _REFUSED, _WINDOW_END = range(12)
# What a simulated agent is doing with its shift.
_OFF, _WORKING, _ON_BREAK, _LEAVING, _CLOSING = range(5)
_PROGRESS_EVERY = 1000
LOGOUT_REASON = "logging_out"


@dataclass(slots=True)
class RunResult:
    """The tallies of each simulated day (see :mod:`switchboard.sim.kpis`)."""

    days: list[DayTally]

    @property
    def total(self) -> DayTally:
        out = DayTally()
        for d in self.days:
            out.add(d)
        return out


def engine_config(scenario: Scenario) -> RoutingConfig:
    """The routing the engine runs: the scenario's, except that a queue whose
    wrap-up is sampled per contact keeps agents in wrap-up up to its
    ``max_wrapup_s`` (the simulated agent ends it sooner with ``EndWrapup``)."""
    sampled = {s.queue for s in scenario.streams if s.wrapup is not None}
    if not sampled:
        return scenario.routing
    queues = tuple(dataclasses.replace(q, wrapup_s=q.max_wrapup_s) if q.id in sampled else q
                   for q in scenario.routing.queues)
    return dataclasses.replace(scenario.routing, queues=queues)


def simulate(scenario: Scenario, *, sink: EventSink | None = None,
             progress: Progress | None = None) -> RunResult:
    """Run every day of the scenario; ``sink`` receives the event log in
    order, ``progress`` the number of contacts arrived so far (now and then)."""
    config = engine_config(scenario)
    days: list[DayTally] = []
    arrived = 0
    for day in range(scenario.days):
        tally, n = _Day(scenario, config, day, sink, progress, arrived).run()
        days.append(tally)
        arrived += n
    if progress is not None:
        progress(arrived)
    return RunResult(days)


class _Day:
    """One simulated day; see the module docstring."""

    def __init__(self, sc: Scenario, config: RoutingConfig, day: int,
                 sink: EventSink | None, progress: Progress | None, arrived_before: int) -> None:
        self.sc = sc
        self.t0 = sc.start + day * sc.day_span_s
        self.day = day
        self.rng = random.Random(f"switchboard-sim:{sc.seed}:{day}")
        self.engine = Engine(config, now=self.t0,
                             rng=random.Random(f"switchboard-sim:{sc.seed}:{day}:engine"))
        self.sink = sink
        self.progress = progress
        self.arrived_before = arrived_before
        self.collector = Collector(sc.sl_threshold_s, sc.short_abandon_s)
        self.heap: list[tuple[float, int, int, object, object]] = []
        self.seq = 0
        self.arrived = 0
        self.live = 0  # contacts arrived and not yet closed
        self.window_over = False
        self.stream_of: dict[str, int] = {}
        self.waiting: set[str] = set()  # may still abandon
        self.offers: set[tuple[str, str]] = set()  # (interaction, agent) ringing
        self.wrapping: set[tuple[str, str]] = set()  # sampled wrap-ups under way
        self.mode: dict[str, int] = {}
        self.work: dict[str, int] = {}  # answered contacts not yet through wrap-up
        self.sources: list[Iterator[float]] = []
        self.reactions = self._reactions()

    def push(self, at: float, action: int, a: object = None, b: object = None) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, action, a, b))

    def run(self) -> tuple[DayTally, int]:
        sc, t0 = self.sc, self.t0
        window_end = t0 + sc.window_s
        for plan in sc.agents:
            aid = plan.config.id
            self.mode[aid] = _OFF
            self.work[aid] = 0
            for shift in plan.shifts:
                self.push(t0 + shift.start_s, _LOGIN, aid)
                for br in shift.breaks:
                    self.push(t0 + br.start_s, _BREAK, aid, br.reason)
                    self.push(t0 + br.start_s + br.duration_s, _BREAK_END, aid)
                self.push(t0 + shift.end_s, _SHIFT_END, aid, t0 + shift.end_s >= window_end)
        self.push(window_end, _WINDOW_END)
        for i, stream in enumerate(sc.streams):
            src = stream.arrivals.times(self.rng, sc.window_s)
            self.sources.append(src)
            first = next(src, None)
            if first is not None:
                self.push(t0 + first, _ARRIVE, i)
        now = self._loop()
        tally = self.collector.close(now, self.live)
        return tally, self.arrived

    def _loop(self) -> float:
        heap, engine, now = self.heap, self.engine, self.t0
        deadline = engine.next_deadline
        pop = heapq.heappop
        act = self._act
        after = self._after
        while True:
            dl = deadline()
            if heap and (dl is None or heap[0][0] < dl):
                at, _, action, a, b = pop(heap)
                now = at
                events = act(at, action, a, b)
            elif dl is not None:
                now = dl
                events = engine.advance(dl)
            else:
                return now
            if events:
                after(now, events)

    # ------------------------------------------------------------ our actions
    def _act(self, at: float, action: int, a: object, b: object) -> list[e.Event]:
        handle = self.engine.handle
        if action == _ACCEPT:
            key = (a, b)
            if key not in self.offers:
                return []
            return handle(_Accept(interaction_id=a, agent_id=b), at)  # type: ignore[arg-type]
        if action == _HANGUP:
            return handle(_Hangup(interaction_id=a), at)  # type: ignore[arg-type]
        if action == _ARRIVE:
            return self._arrive(at, a)  # type: ignore[arg-type]
        if action == _PATIENCE:
            if a not in self.waiting:
                return []
            return handle(_Hangup(interaction_id=a), at)
        if action == _WRAP:
            if (a, b) not in self.wrapping:
                return []
            return handle(_EndWrapup(interaction_id=a, agent_id=b), at)  # type: ignore[arg-type]
        if action == _CALLBACK:
            if a not in self.waiting:
                return []
            try:
                events = handle(c.RequestCallback(interaction_id=a), at)
            except InvalidTransition:
                return []  # an agent is already ringing: the customer stays on the line
            self.waiting.discard(a)
            return events
        if action == _REFUSED:
            return handle(c.Hangup(interaction_id=a, by="system"), at)  # type: ignore[arg-type]
        if action == _WINDOW_END:
            self.window_over = True
            return self._close_if_done(at)
        return self._agent_action(at, action, a, b)  # type: ignore[arg-type]

    def _arrive(self, at: float, i: int) -> list[e.Event]:
        stream = self.sc.streams[i]
        self.arrived += 1
        self.live += 1
        iid = f"d{self.day}-{self.arrived}"
        self.stream_of[iid] = i
        self.waiting.add(iid)
        nxt = next(self.sources[i], None)
        if nxt is not None:
            self.push(self.t0 + nxt, _ARRIVE, i)
        if stream.patience is not None:
            self.push(at + stream.patience.sample(self.rng), _PATIENCE, iid)
        if self.progress is not None and self.arrived % _PROGRESS_EVERY == 0:
            self.progress(self.arrived_before + self.arrived)
        return self.engine.handle(
            _Arrive(interaction_id=iid, channel=stream.channel, queue_id=stream.queue,
                     priority=stream.priority, skills=stream.skills), at)

    def _agent_action(self, at: float, action: int, aid: str, b: object) -> list[e.Event]:
        mode = self.mode[aid]
        handle = self.engine.handle
        if action == _LOGIN:
            if mode in (_OFF, _LEAVING):
                self.mode[aid] = _WORKING
                return handle(c.SetAgentStatus(agent_id=aid, status=AgentStatus.READY), at)
        elif action == _BREAK:
            if mode == _WORKING:
                self.mode[aid] = _ON_BREAK
                return handle(c.SetAgentStatus(agent_id=aid, status=AgentStatus.NOT_READY,
                                               reason=str(b)), at)
        elif action == _BREAK_END:
            if mode == _ON_BREAK:
                self.mode[aid] = _WORKING
                return handle(c.SetAgentStatus(agent_id=aid, status=AgentStatus.READY), at)
        elif action == _SHIFT_END:
            if mode == _OFF:
                return []
            if b and (not self.window_over or self.live):
                self.mode[aid] = _CLOSING  # stays until the last contact is done
                return []
            return self._leave(at, aid)
        return []

    def _leave(self, at: float, aid: str) -> list[e.Event]:
        handle = self.engine.handle
        if self.work[aid]:
            self.mode[aid] = _LEAVING
            return handle(c.SetAgentStatus(agent_id=aid, status=AgentStatus.NOT_READY,
                                           reason=LOGOUT_REASON), at)
        self.mode[aid] = _OFF
        return handle(c.SetAgentStatus(agent_id=aid, status=AgentStatus.OFFLINE), at)

    def _close_if_done(self, at: float) -> list[e.Event]:
        if not self.window_over or self.live:
            return []
        out: list[e.Event] = []
        for aid, mode in self.mode.items():
            if mode == _CLOSING:
                out.extend(self._leave(at, aid))
        return out

    # ------------------------------------------------------------ engine events
    def _after(self, at: float, events: list[e.Event]) -> None:
        """React to what the engine did; more engine events may follow (logouts).
        One reaction per event type (none for the rest, e.g. agent states)."""
        react = self.reactions.get
        while events:
            if self.sink is not None:
                self.sink(events)
            self.collector.feed(events)
            more: list[e.Event] = []
            for ev in events:
                reaction = react(ev.__class__)
                if reaction is not None:
                    reaction(at, ev, more)
            events = more

    def _reactions(self) -> dict[type[e.Event], Callable[[float, Any, list[e.Event]], None]]:
        return {
            e.Offered: self._on_offered,
            e.Answered: self._on_answered,
            e.Ended: self._on_ended,
            e.WrapupEnded: self._on_wrapup_ended,
            e.Enqueued: self._on_enqueued,
            e.Abandoned: self._on_left,
            e.Exited: self._on_left,
            e.OfferTimedOut: self._on_offer_ended,
            e.OfferWithdrawn: self._on_offer_ended,
            e.OfferRejected: self._on_offer_ended,
            e.EnqueueRefused: self._on_refused,
        }

    def _on_offered(self, at: float, ev: e.Offered, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        aid: str = ev.agent_id  # type: ignore[assignment]
        self.offers.add((iid, aid))
        ans = self.sc.answer_s
        self.push(at if ans is None else at + ans.sample(self.rng), _ACCEPT, iid, aid)

    def _on_answered(self, at: float, ev: e.Answered, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        aid: str = ev.agent_id  # type: ignore[assignment]
        self.offers.discard((iid, aid))
        self.waiting.discard(iid)
        self.work[aid] += 1
        aht = self.sc.streams[self.stream_of[iid]].aht
        self.push(at + aht.sample(self.rng), _HANGUP, iid)

    def _on_ended(self, at: float, ev: e.Ended, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        if ev.agent_id is None:
            more.extend(self._closed(at, iid))
            return
        wrap = self.sc.streams[self.stream_of[iid]].wrapup
        if wrap is not None:
            self.wrapping.add((iid, ev.agent_id))
            self.push(at + wrap.sample(self.rng), _WRAP, iid, ev.agent_id)

    def _on_wrapup_ended(self, at: float, ev: e.WrapupEnded, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        aid: str = ev.agent_id  # type: ignore[assignment]
        self.wrapping.discard((iid, aid))
        self.work[aid] -= 1
        if self.mode[aid] == _LEAVING and not self.work[aid]:
            more.extend(self._leave(at, aid))
        more.extend(self._closed(at, iid))

    def _on_enqueued(self, at: float, ev: e.Enqueued, more: list[e.Event]) -> None:
        if ev.callback_offered:
            iid: str = ev.interaction_id  # type: ignore[assignment]
            p = self.sc.streams[self.stream_of[iid]].callback_accept
            if p > 0 and self.rng.random() < p:
                self.push(at, _CALLBACK, iid)

    def _on_left(self, at: float, ev: e.Abandoned | e.Exited, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        self.waiting.discard(iid)
        more.extend(self._closed(at, iid))

    def _on_offer_ended(self, at: float, ev: e.OfferTimedOut | e.OfferWithdrawn
                        | e.OfferRejected, more: list[e.Event]) -> None:
        self.offers.discard((ev.interaction_id, ev.agent_id))

    def _on_refused(self, at: float, ev: e.EnqueueRefused, more: list[e.Event]) -> None:
        iid: str = ev.interaction_id  # type: ignore[assignment]
        self.waiting.discard(iid)
        self.push(at, _REFUSED, iid)

    def _closed(self, at: float, iid: str) -> list[e.Event]:
        self.stream_of.pop(iid, None)
        self.live -= 1
        return self._close_if_done(at) if self.window_over and not self.live else []
