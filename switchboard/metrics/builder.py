"""CDR rows from the event log: one row per interaction and queue leg.

Theory of operation. Each interaction has a list of legs; the last one is
current. The first leg starts at ``arrived``; it enters a queue at the first
``enqueued``. ``overflowed`` and a ``transferred`` to a queue close the current
leg (its ``ended_at`` is the move) and open a new one in the target queue,
whose ``enqueued_at`` is the interaction's *first* ``enqueued`` (METRICS.md:
the customer's wait keeps the first enqueued_at; each queue counts the leg).
A transfer to an agent stays in the leg. ``answered`` sets the leg's agent
(the first that answered it); hold comes from ``held``/``resumed`` pairs;
wrap-up from ``wrapup_ended``, on the leg that agent handled. ``abandoned``
marks the current leg abandoned (not when answered: a customer cannot abandon
a connected call); ``exited`` ends it with the reason as disposition.

:class:`CdrBuilder.apply` is O(1) per event and returns the legs it changed,
which is what the streaming aggregator needs; :func:`cdr_rows_from_events`
runs it over a whole log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from switchboard.domain import events as ev
from switchboard.domain.enums import EndReason
from switchboard.metrics.cdr import CdrRow
from switchboard.metrics.params import seconds_to_us


@dataclass(slots=True, eq=False)
class Leg:
    """A CDR row being built (mutable); :meth:`row` freezes it."""

    id: str
    interaction: Interaction
    queue: str = ""
    agent: str = ""
    disposition: str = ""
    enqueued_at: int | None = None
    answered_at: int | None = None
    abandoned_at: int | None = None
    ended_at: int | None = None
    hold_us: int = 0
    wrapup_us: int = 0
    rna: int = 0
    transfers: int = 0
    overflows: int = 0
    callbacks: int = 0
    csat: int | None = None
    nps: int | None = None
    agents: set[str] = field(default_factory=set)

    def row(self) -> CdrRow:
        it = self.interaction
        return CdrRow(
            id=self.id, arrived_at=it.arrived_at, channel=it.channel, direction=it.direction,
            queue=self.queue, agent=self.agent, customer=it.customer,
            disposition=self.disposition, enqueued_at=self.enqueued_at,
            answered_at=self.answered_at, abandoned_at=self.abandoned_at,
            ended_at=self.ended_at, hold_us=self.hold_us, wrapup_us=self.wrapup_us,
            rna=self.rna, transfers=self.transfers, overflows=self.overflows,
            callbacks=self.callbacks, csat=self.csat, nps=self.nps,
        )


@dataclass(slots=True, eq=False)
class Interaction:
    id: str
    arrived_at: int
    channel: str = "voice"
    direction: str = "inbound"
    customer: str = ""
    first_enqueued_at: int | None = None
    held_since: int | None = None
    legs: list[Leg] = field(default_factory=list)

    @property
    def current(self) -> Leg:
        return self.legs[-1]

    def new_leg(self, queue: str, enqueued_at: int | None) -> Leg:
        n = len(self.legs) + 1
        leg = Leg(id=self.id if n == 1 else f"{self.id}#{n}", interaction=self,
                  queue=queue, enqueued_at=enqueued_at)
        self.legs.append(leg)
        return leg

    def close_hold(self, at: int) -> None:
        if self.held_since is not None:
            self.current.hold_us += max(0, at - self.held_since)
            self.held_since = None


def customer_key(event: ev.Arrived) -> str:
    """Who the customer is for FCR: id, else phone, else e-mail."""
    c = event.customer
    return c.id or c.phone or c.email or ""


class CdrBuilder:
    """Builds CDR legs from events, one event at a time."""

    def __init__(self) -> None:
        self.interactions: dict[str, Interaction] = {}
        self.legs: list[Leg] = []

    def _interaction(self, event: ev.Event, at: int) -> Interaction:
        iid = event.interaction_id or ""
        it = self.interactions.get(iid)
        if it is None:  # a log that starts mid-interaction
            it = Interaction(id=iid, arrived_at=at)
            self.interactions[iid] = it
            self.legs.append(it.new_leg("", None))
        return it

    def _open_leg(self, it: Interaction, queue: str) -> Leg:
        leg = it.new_leg(queue, it.first_enqueued_at)
        self.legs.append(leg)
        return leg

    def apply(self, event: ev.Event) -> list[Leg]:
        """Apply one event; return the legs whose row changed (maybe new)."""
        if event.interaction_id is None or isinstance(event, ev.AgentStateChanged):
            return []
        at = seconds_to_us(event.at)
        if isinstance(event, ev.Arrived):
            if event.interaction_id in self.interactions:
                return []
            it = Interaction(id=event.interaction_id, arrived_at=at,
                             channel=str(event.channel), direction=str(event.direction),
                             customer=customer_key(event))
            self.interactions[it.id] = it
            leg = it.new_leg("", None)
            self.legs.append(leg)
            return [leg]
        it = self._interaction(event, at)
        leg = it.current
        changed = [leg]
        if isinstance(event, ev.Enqueued):
            queue = event.queue_id or ""
            if it.first_enqueued_at is None:
                it.first_enqueued_at = at
            if leg.enqueued_at is None:
                leg.enqueued_at, leg.queue = it.first_enqueued_at, queue
            elif leg.queue != queue or leg.ended_at is not None:
                changed = [self._open_leg(it, queue)]
            if event.callback:
                leg = it.current
                leg.callbacks = max(leg.callbacks, 1)
        elif isinstance(event, ev.EnqueueRefused):
            if leg.enqueued_at is None:
                leg.queue = leg.queue or (event.queue_id or "")
                leg.disposition = leg.disposition or str(event.reason)
        elif isinstance(event, ev.OfferTimedOut):
            leg.rna += 1
        elif isinstance(event, ev.Answered):
            if leg.abandoned_at is None:
                if leg.answered_at is None:
                    leg.answered_at, leg.agent = at, event.agent_id or ""
                leg.agents.add(event.agent_id or "")
        elif isinstance(event, ev.Held):
            if it.held_since is None:
                it.held_since = at
        elif isinstance(event, ev.Resumed):
            it.close_hold(at)
        elif isinstance(event, ev.Transferred):
            leg.transfers += 1
            if event.to_queue is not None:
                it.close_hold(at)
                if leg.ended_at is None:
                    leg.ended_at = at
                if it.first_enqueued_at is None:
                    it.first_enqueued_at = at
                changed.append(self._open_leg(it, event.to_queue))
        elif isinstance(event, ev.Overflowed):
            leg.overflows += 1
            if leg.ended_at is None:
                leg.ended_at = at
            if it.first_enqueued_at is None:
                it.first_enqueued_at = at
            changed.append(self._open_leg(it, event.to_queue))
        elif isinstance(event, ev.Abandoned):
            if event.reason is EndReason.CALLBACK:
                leg.callbacks += 1
            elif leg.answered_at is None and leg.abandoned_at is None:
                leg.abandoned_at = at
                if leg.ended_at is None:
                    leg.ended_at = at
        elif isinstance(event, ev.Exited):
            if leg.ended_at is None:
                leg.ended_at = at
            leg.disposition = leg.disposition or str(event.reason)
        elif isinstance(event, ev.Ended):
            it.close_hold(at)
            if leg.ended_at is None:
                leg.ended_at = at
        elif isinstance(event, ev.WrapupEnded):
            agent = event.agent_id or ""
            target = next((g for g in reversed(it.legs) if agent in g.agents), leg)
            target.wrapup_us += seconds_to_us(event.wrapup_s)
            if event.disposition:
                target.disposition = event.disposition
            changed = [target]
        elif isinstance(event, ev.CallbackRequested | ev.CallbackScheduled):
            leg.callbacks += 1
        elif isinstance(event, ev.DialFailed):
            # an outbound call whose customer never connected: not answered
            # (its agent took the call, the customer did not; METRICS.md)
            leg.answered_at = None
            leg.disposition = leg.disposition or f"not_connected_{event.result}"
        elif isinstance(event, ev.SurveyAnswered):
            target = next((g for g in reversed(it.legs) if g.answered_at is not None), leg)
            if event.survey == "csat":
                target.csat = event.score
            else:
                target.nps = event.score
            changed = [target]
        else:
            return []
        return changed


def cdr_rows_from_events(events: Iterable[ev.Event]) -> list[CdrRow]:
    """The CDR of an event log: one row per interaction leg, in order of creation."""
    builder = CdrBuilder()
    for event in events:
        builder.apply(event)
    return [leg.row() for leg in builder.legs]
