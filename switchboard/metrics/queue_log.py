"""Asterisk ``queue_log`` to and from Switchboard's event vocabulary (pure).

A queue_log line is ``time|callid|queue|agent|verb|data1|data2|...``: the
time in POSIX seconds, the call's unique id, the queue (``NONE`` when none),
the agent (``NONE``), the verb and its data fields (Asterisk's app_queue
documentation, "Queue Logs"). How each verb maps (data fields in brackets):

======================  =================================================
ENTERQUEUE [url|callerid]          ``arrived`` (first time) + ``enqueued``
DID [did]                          remembered as the arrival time
CONNECT [holdtime|uniqueid|ringtime]  ``answered`` (wait_s, ring_s)
COMPLETECALLER / COMPLETEAGENT [holdtime|calltime|origpos]  ``ended``
ABANDON [position|origpos|waittime]   ``abandoned`` (customer_hangup)
EXITWITHKEY [key|position|origpos|waittime]  ``abandoned`` (key_pressed)
EXITWITHTIMEOUT [position|origpos|waittime]  ``exited`` (timeout)
EXITEMPTY [position|origpos|waittime]   ``exited`` (no_agents)
FULL, JOINEMPTY, JOINUNAVAIL        ``enqueue_refused``
RINGNOANSWER [ringtime ms]          ``offer_timeout``
RINGCANCELED [ringtime ms]          ``offer_withdrawn``
TRANSFER, BLINDTRANSFER [ext|context|holdtime|calltime|origpos]
                                    ``transferred`` (blind, to ext@context) + ``ended``
ATTENDEDTRANSFER [method|target|holdtime|calltime|origpos]
                                    ``transferred`` (warm) + ``ended``
ADDMEMBER, AGENTLOGIN, UNPAUSE, UNPAUSEALL   ``agent_state`` ready
REMOVEMEMBER, AGENTLOGOFF           ``agent_state`` offline (when in no queue)
PAUSE, PAUSEALL [reason]            ``agent_state`` not_ready (reason)
QUEUESTART, CONFIGRELOAD            nothing (known, no call data)
======================  =================================================

Anything else is reported as a problem with its line number and skipped, as
are malformed lines; neither stops the import. CONNECT/COMPLETE also move
the agent's system state (busy, then idle: queue_log has no wrap-up).
The export writes the reverse mapping (see :func:`events_to_queue_log`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo

from switchboard.domain import events as ev
from switchboard.domain.enums import AgentState, AgentStatus, EndReason, OfferEnd
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import Customer
from switchboard.metrics.cdr import parse_time
from switchboard.metrics.params import US
from switchboard.metrics.tz import TzTable

KNOWN_VERBS = frozenset({
    "ENTERQUEUE", "DID", "CONNECT", "COMPLETECALLER", "COMPLETEAGENT", "ABANDON",
    "EXITWITHKEY", "EXITWITHTIMEOUT", "EXITEMPTY", "FULL", "JOINEMPTY", "JOINUNAVAIL",
    "RINGNOANSWER", "RINGCANCELED", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER",
    "ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL",
    "AGENTLOGIN", "AGENTLOGOFF", "QUEUESTART", "CONFIGRELOAD",
})


def _num(fields: list[str], i: int) -> float:
    """Data field i (1-based) as a number, 0 when missing or not a number."""
    try:
        value = float(fields[i - 1]) if len(fields) >= i else 0.0
    except ValueError:
        return 0.0
    return value if math.isfinite(value) else 0.0


def _int(fields: list[str], i: int) -> int:
    return int(_num(fields, i))


@dataclass(slots=True)
class _Agent:
    queues: set[str] = field(default_factory=set)
    logged_in: bool = False
    status: AgentStatus = AgentStatus.OFFLINE
    state: AgentState = AgentState.IDLE
    reason: str | None = None


class QueueLogImporter:
    """Turns queue_log lines into events, one line at a time."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = TzTable(tz)
        self.events: list[ev.Event] = []
        self.problems: list[str] = []
        self._calls: set[str] = set()
        self._did_at: dict[str, float] = {}
        self._agents: dict[str, _Agent] = {}
        self._rings: dict[str, int] = {}

    def _time(self, text: str) -> float:
        try:
            value = float(text)
            if math.isfinite(value):
                return value
        except ValueError:
            pass
        try:
            us, _ = parse_time(text.strip(), self.tz)
        except ValueError:
            raise ValidationError(f"bad time {text!r}") from None
        return us / US

    def feed(self, line_no: int, line: str) -> None:
        text = line.rstrip("\r\n")
        if not text.strip():
            return
        parts = text.split("|")
        if len(parts) < 5:
            self.problems.append(f"line {line_no}: expected time|callid|queue|agent|verb")
            return
        try:
            at = self._time(parts[0])
        except ValidationError as exc:
            self.problems.append(f"line {line_no}: {exc}")
            return
        callid, queue, agent, verb = (p.strip() for p in parts[1:5])
        data = parts[5:]
        queue_id = None if queue in ("", "NONE") else queue
        agent_id = None if agent in ("", "NONE") else agent
        if verb not in KNOWN_VERBS:
            self.problems.append(f"line {line_no}: unknown verb {verb!r} (skipped)")
            return
        try:
            self._verb(verb, at, callid, queue_id, agent_id, data)
        except ValidationError as exc:
            self.problems.append(f"line {line_no}: {verb}: {exc}")

    def _emit(self, event: ev.Event) -> None:
        self.events.append(event)

    def _agent_state(self, at: float, agent_id: str, *, cause: str) -> None:
        a = self._agents[agent_id]
        self._emit(ev.AgentStateChanged(at=at, agent_id=agent_id, status=a.status,
                                        state=a.state, reason=a.reason, cause=cause))

    def _verb(self, verb: str, at: float, callid: str, queue: str | None,
              agent: str | None, data: list[str]) -> None:
        if verb in ("QUEUESTART", "CONFIGRELOAD"):
            return
        if verb in ("ADDMEMBER", "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL",
                    "UNPAUSEALL", "AGENTLOGIN", "AGENTLOGOFF"):
            self._member(verb, at, queue, agent, data)
            return
        if not callid or callid == "NONE":
            raise ValidationError("needs a call id")
        iid = callid
        if verb == "DID":
            self._did_at.setdefault(iid, at)
            return
        if verb in ("ENTERQUEUE", "FULL", "JOINEMPTY", "JOINUNAVAIL"):
            if queue is None:
                raise ValidationError("needs a queue")
            if iid not in self._calls:
                self._calls.add(iid)
                phone = data[1].strip() if len(data) > 1 and data[1].strip() else None
                self._emit(ev.Arrived(at=min(at, self._did_at.get(iid, at)), interaction_id=iid,
                                      customer=Customer(phone=phone)))
            if verb == "ENTERQUEUE":
                self._emit(ev.Enqueued(at=at, interaction_id=iid, queue_id=queue))
            else:
                reason = EndReason.QUEUE_FULL if verb == "FULL" else EndReason.NO_AGENTS
                self._emit(ev.EnqueueRefused(at=at, interaction_id=iid, queue_id=queue,
                                             reason=reason))
            return
        if iid not in self._calls:  # a log cut in the middle of a call
            self._calls.add(iid)
            self._emit(ev.Arrived(at=at, interaction_id=iid))
        if verb == "CONNECT":
            if agent is None:
                raise ValidationError("needs an agent")
            self._emit(ev.Answered(at=at, interaction_id=iid, agent_id=agent, queue_id=queue,
                                   wait_s=_num(data, 1), ring_s=_num(data, 3)))
            self._set_state(at, agent, AgentState.BUSY, "answered")
        elif verb in ("COMPLETECALLER", "COMPLETEAGENT"):
            self._emit(ev.Ended(at=at, interaction_id=iid, agent_id=agent, queue_id=queue,
                                by="customer" if verb == "COMPLETECALLER" else "agent",
                                talk_s=_num(data, 2)))
            if agent is not None:
                self._set_state(at, agent, AgentState.IDLE, "ended")
        elif verb in ("TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"):
            warm = verb == "ATTENDEDTRANSFER"
            target = (data[1] if warm else "@".join(d for d in data[:2] if d)) if data else ""
            self._emit(ev.Transferred(at=at, interaction_id=iid, agent_id=agent,
                                      queue_id=queue, to_agent=target or "unknown",
                                      mode="warm" if warm else "blind"))
            self._emit(ev.Ended(at=at, interaction_id=iid, agent_id=agent, queue_id=queue,
                                by="agent", talk_s=_num(data, 4)))
            if agent is not None:
                self._set_state(at, agent, AgentState.IDLE, "transferred")
        elif verb in ("ABANDON", "EXITWITHKEY"):
            key = verb == "EXITWITHKEY"
            self._emit(ev.Abandoned(
                at=at, interaction_id=iid, queue_id=queue,
                reason=EndReason.KEY_PRESSED if key else EndReason.CUSTOMER_HANGUP,
                position=_int(data, 2 if key else 1), wait_s=_num(data, 4 if key else 3)))
        elif verb in ("EXITWITHTIMEOUT", "EXITEMPTY"):
            self._emit(ev.Exited(
                at=at, interaction_id=iid, queue_id=queue,
                reason=EndReason.TIMEOUT if verb == "EXITWITHTIMEOUT" else EndReason.NO_AGENTS,
                position=_int(data, 1), wait_s=_num(data, 3)))
        elif verb in ("RINGNOANSWER", "RINGCANCELED"):
            if agent is None:
                raise ValidationError("needs an agent")
            n = self._rings[iid] = self._rings.get(iid, 0) + 1
            rid = f"{iid}:{n}"
            ring_s = _num(data, 1) / 1000.0
            if verb == "RINGNOANSWER":
                self._emit(ev.OfferTimedOut(at=at, interaction_id=iid, agent_id=agent,
                                            queue_id=queue, reservation_id=rid, ring_s=ring_s))
            else:
                self._emit(ev.OfferWithdrawn(at=at, interaction_id=iid, agent_id=agent,
                                             queue_id=queue, reservation_id=rid,
                                             ring_s=ring_s, reason=OfferEnd.WITHDRAWN))

    def _set_state(self, at: float, agent: str, state: AgentState, cause: str) -> None:
        a = self._agents.setdefault(agent, _Agent(status=AgentStatus.READY))
        if a.state is not state:
            a.state = state
            self._agent_state(at, agent, cause=cause)

    def _member(self, verb: str, at: float, queue: str | None, agent: str | None,
                data: list[str]) -> None:
        if agent is None:
            raise ValidationError("needs an agent")
        a = self._agents.setdefault(agent, _Agent())
        before = (a.status, a.reason)
        if verb == "ADDMEMBER" and queue is not None:
            a.queues.add(queue)
        elif verb == "REMOVEMEMBER":
            a.queues.discard(queue or "")
        elif verb == "AGENTLOGIN":
            a.logged_in = True
        elif verb == "AGENTLOGOFF":
            a.logged_in, a.queues = False, set()
        if verb in ("PAUSE", "PAUSEALL"):
            a.status = AgentStatus.NOT_READY
            a.reason = data[0].strip() if data and data[0].strip() else None
        elif verb in ("UNPAUSE", "UNPAUSEALL") or (
                verb in ("ADDMEMBER", "AGENTLOGIN") and a.status is AgentStatus.OFFLINE):
            a.status, a.reason = AgentStatus.READY, None
        if not a.queues and not a.logged_in:
            a.status, a.reason = AgentStatus.OFFLINE, None
        if (a.status, a.reason) != before:
            self._agent_state(at, agent, cause="status")


def parse_queue_log(lines: Iterable[str], tz: tzinfo) -> tuple[list[ev.Event], list[str]]:
    """Events from queue_log lines, and the problems found (with line numbers).

    ISO time stamps (queue_log in a database) are accepted as well as POSIX
    seconds; naive ones are in ``tz``."""
    imp = QueueLogImporter(tz)
    for n, line in enumerate(lines, start=1):
        imp.feed(n, line)
    return imp.events, imp.problems
