"""Switchboard's event log written as an Asterisk ``queue_log`` (pure).

The reverse of :mod:`switchboard.metrics.queue_log`, line for line where
Asterisk has a verb: ``enqueued`` -> ENTERQUEUE, ``answered`` -> CONNECT
(holdtime from the first enqueue), ``ended`` of an answered call ->
COMPLETECALLER / COMPLETEAGENT, ``abandoned`` -> ABANDON or EXITWITHKEY,
``exited`` -> EXITWITHTIMEOUT or EXITEMPTY, ``enqueue_refused`` -> FULL or
JOINEMPTY, ``offer_timeout``/``offer_rejected`` -> RINGNOANSWER,
``offer_withdrawn`` -> RINGCANCELED, ``transferred`` -> BLINDTRANSFER or
ATTENDEDTRANSFER (a transfer to a queue also writes the ENTERQUEUE of the
target queue), ``overflowed`` -> EXITWITHTIMEOUT then ENTERQUEUE in the new
queue (what an Asterisk dialplan overflow logs), ``agent_state`` status changes
-> AGENTLOGIN / AGENTLOGOFF / PAUSEALL / UNPAUSEALL. Events with no Asterisk
verb (hold, wrap-up, IVR input, callbacks, surveys) are not written. Times are
whole POSIX seconds, as Asterisk writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchboard.domain import events as ev
from switchboard.domain.enums import AgentStatus, EndReason


@dataclass(slots=True)
class _Call:
    phone: str = ""
    queue: str = "NONE"
    first_enqueued: float | None = None
    answered_at: float | None = None
    agent: str = "NONE"
    position: int = 0


def _fmt(value: float) -> str:
    return str(round(value))


def events_to_queue_log(events: Iterable[ev.Event]) -> list[str]:
    """queue_log lines (without newlines) for an event log."""
    out: list[str] = []
    calls: dict[str, _Call] = {}
    status: dict[str, AgentStatus] = {}
    login_at: dict[str, float] = {}

    def line(at: float, callid: str, queue: str, agent: str, verb: str, *data: object) -> None:
        out.append("|".join([_fmt(at), callid or "NONE", queue or "NONE", agent or "NONE", verb,
                             *(str(d) for d in data)]))

    for e in events:
        iid = e.interaction_id or ""
        c = calls.setdefault(iid, _Call()) if iid else _Call()
        at = e.at
        if isinstance(e, ev.Arrived):
            c.phone = e.customer.phone or ""
        elif isinstance(e, ev.Enqueued):
            c.queue = e.queue_id or "NONE"
            c.position = c.position or e.position
            if c.first_enqueued is None:
                c.first_enqueued = at
            line(at, iid, c.queue, "NONE", "ENTERQUEUE", "", c.phone, e.position or 1)
        elif isinstance(e, ev.EnqueueRefused):
            verb = "FULL" if e.reason is EndReason.QUEUE_FULL else "JOINEMPTY"
            line(at, iid, e.queue_id or c.queue, "NONE", verb)
        elif isinstance(e, ev.Answered):
            c.queue = e.queue_id or c.queue
            c.answered_at, c.agent = at, e.agent_id or "NONE"
            hold = at - (c.first_enqueued if c.first_enqueued is not None else at)
            line(at, iid, c.queue, c.agent, "CONNECT", _fmt(hold), iid, _fmt(e.ring_s))
        elif isinstance(e, ev.OfferTimedOut | ev.OfferRejected | ev.OfferWithdrawn):
            verb = "RINGCANCELED" if isinstance(e, ev.OfferWithdrawn) else "RINGNOANSWER"
            line(at, iid, e.queue_id or c.queue, e.agent_id or "NONE", verb,
                 round(e.ring_s * 1000))
        elif isinstance(e, ev.Ended):
            if c.answered_at is not None:
                verb = "COMPLETEAGENT" if e.by == "agent" else "COMPLETECALLER"
                hold = c.answered_at - (c.first_enqueued or c.answered_at)
                line(at, iid, c.queue, e.agent_id or c.agent, verb, _fmt(hold),
                     _fmt(at - c.answered_at), c.position or 1)
                c.answered_at = None
        elif isinstance(e, ev.Abandoned | ev.Exited):
            wait = at - (c.first_enqueued if c.first_enqueued is not None else at)
            pos, orig = e.position or 1, c.position or 1
            if isinstance(e, ev.Abandoned) and e.reason is EndReason.KEY_PRESSED:
                line(at, iid, c.queue, "NONE", "EXITWITHKEY", "", pos, orig, _fmt(wait))
            elif isinstance(e, ev.Abandoned):
                line(at, iid, c.queue, "NONE", "ABANDON", pos, orig, _fmt(wait))
            else:
                verb = "EXITEMPTY" if e.reason is EndReason.NO_AGENTS else "EXITWITHTIMEOUT"
                line(at, iid, c.queue, "NONE", verb, pos, orig, _fmt(wait))
        elif isinstance(e, ev.Overflowed):
            wait = at - (c.first_enqueued if c.first_enqueued is not None else at)
            line(at, iid, c.queue, "NONE", "EXITWITHTIMEOUT", 1, c.position or 1, _fmt(wait))
            c.queue = e.to_queue
            line(at, iid, c.queue, "NONE", "ENTERQUEUE", "", c.phone, 1)
        elif isinstance(e, ev.Transferred):
            hold = (c.answered_at or at) - (c.first_enqueued or c.answered_at or at)
            talk = at - c.answered_at if c.answered_at is not None else 0
            agent = e.agent_id or c.agent
            if e.mode == "warm":
                line(at, iid, c.queue, agent, "ATTENDEDTRANSFER", "BRIDGE",
                     e.to_agent or e.to_queue or "", _fmt(hold), _fmt(talk), c.position or 1)
            else:
                line(at, iid, c.queue, agent, "BLINDTRANSFER", e.to_agent or e.to_queue or "",
                     "switchboard", _fmt(hold), _fmt(talk), c.position or 1)
            c.answered_at = None
            if e.to_queue is not None:
                c.queue = e.to_queue
                line(at, iid, c.queue, "NONE", "ENTERQUEUE", "", c.phone, 1)
        elif isinstance(e, ev.AgentStateChanged):
            agent = e.agent_id or "NONE"
            before = status.get(agent, AgentStatus.OFFLINE)
            if e.status is before:
                continue
            status[agent] = e.status
            if before is AgentStatus.OFFLINE:
                login_at[agent] = at
                line(at, "NONE", "NONE", agent, "AGENTLOGIN", agent)
            if e.status is AgentStatus.OFFLINE:
                line(at, "NONE", "NONE", agent, "AGENTLOGOFF", agent,
                     _fmt(at - login_at.get(agent, at)))
            elif e.status is AgentStatus.NOT_READY:
                line(at, "NONE", "NONE", agent, "PAUSEALL", e.reason or "")
            elif before is AgentStatus.NOT_READY:
                line(at, "NONE", "NONE", agent, "UNPAUSEALL")
    return out
