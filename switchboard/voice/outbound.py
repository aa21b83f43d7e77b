"""Calls Switchboard places: callbacks and click-to-dial ring the agent, then the customer.

Both start in routing. A callback (virtual hold, or scheduled) is offered to an
agent with ``callback: true``; a click-to-dial is an outbound, agent-directed
contact (the engine's ``agent_only``: offered to that agent alone, with the
usual ring timeout and miss rules) reported under a queue the caller names or
the agent's first queue. Then:

1. the agent's phone rings; its SDP offer comes from a new rtpengine call
   whose other side (the customer's) is not known yet;
2. the agent answers: ``Accept``; the agent hears a short "connecting" prompt
   while the customer is dialled through the trunk's outbound address with
   rtpengine's customer-side SDP;
3. the customer answers: rtpengine learns the customer's SDP (a re-offer from
   the customer's side), and the two talk;
4. a customer who does not answer (busy, no answer, refused, failure), or an
   agent who hangs up first, is logged as ``dial_failed`` (not connected: not
   answered in the reports), a callback with attempts left is scheduled
   again (``outbound.callback_retries``), and the contact ends (``Hangup``,
   the agent wraps up); once connected, either side hanging up ends the
   other and the contact, like an inbound call. An agent who does not answer
   its own click-to-dial gets it withdrawn (``Withdraw``).

With ``recording.calls`` the call is recorded from the customer's answer.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus, Channel, Direction
from switchboard.domain.errors import AgentUnavailable, ConfigError, NotFound
from switchboard.domain.model import Customer
from switchboard.media.errors import MediaError
from switchboard.store import log, repo
from switchboard.voice.config import Trunk
from switchboard.voice.signalling import LegAnswered, LegEnded, LegFailed

if TYPE_CHECKING:
    from switchboard.media.recording import ActiveRecording
    from switchboard.voice.base import ControllerBase

logger = logging.getLogger("switchboard.voice.outbound")

#: What rtpengine is first offered for the customer's side (replaced by the
#: customer's real SDP when it answers): PCMA, PCMU and RFC 4733 events.
PLACEHOLDER_SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                   "m=audio 9 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
                   "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n")
CONNECTING = {"en": "Connecting you to the customer.", "it": "Ti colleghiamo al cliente.",
              "fr": "Nous vous mettons en relation avec le client.", "zh": "正在为您接通客户。"}


@dataclass(eq=False)
class Outbound:
    """One call Switchboard places for an interaction."""

    id: str
    tenant: str
    number: str
    agent: str
    media_id: str
    customer_tag: str
    agent_tag: str
    phase: str = "agent"  # agent (ringing), dialing, connected, ended
    queue_id: str | None = None
    callback: bool = False  # a callback (retried per outbound.callback_retries)
    attempt: int = 1
    agent_leg: str | None = None
    customer_leg: str | None = None
    agent_sdp: str = ""
    language: str = "en"
    recording: ActiveRecording | None = None
    recording_started: bool = False


def trunk_out(ctl: ControllerBase) -> Trunk | None:
    return next((t for t in ctl.config.trunks if t.outbound is not None), None)


def home_queue(engine: Any, agent: str) -> str | None:
    """The agent's default queue: the first (by id) that routes to the agent."""
    return next((q for q in engine.queue_ids() if agent in engine.queue_agents(q)), None)


def click_to_dial(ctl: ControllerBase, tenant: str, agent: str, number: str,
                  queue: str | None = None) -> str:
    """Place a call for ``agent`` to ``number`` (E.164): ring the agent, then
    the customer. Returns the new interaction's id. The call is an
    agent-directed contact (offered to ``agent`` alone) reported under
    ``queue``, by default the first queue the agent works. Raises
    :class:`AgentUnavailable` unless the agent is ready and free,
    :class:`ConfigError` without an outbound trunk, a phone for the agent or
    a queue, :class:`NotFound` for an unknown queue."""
    if trunk_out(ctl) is None:
        raise ConfigError("no trunk has an outbound address: add trunks.NAME.outbound",
                          field="trunks")
    if not ctl.config.phones_of(tenant, agent):
        raise ConfigError(f"agent {agent!r} has no phone in the telephony configuration",
                          field="agent")
    engine = ctl.runtime.engine(tenant)
    view = engine.agent(agent)  # NotFound for an unknown agent
    if queue is not None:
        if not engine.has_queue(queue):
            raise NotFound(f"no queue {queue!r}", field="queue")
        queue_id = queue
    else:
        found = home_queue(engine, agent)
        if found is None:
            raise ConfigError(f"agent {agent!r} works no queue: name the queue the call "
                              "is reported under", field="queue")
        queue_id = found
    if view["status"] != AgentStatus.READY.value or view["state"] != "idle":
        raise AgentUnavailable(f"agent {agent} is {view['status']} and {view['state']}: "
                               "click-to-dial needs a ready, free agent", field="agent")
    iid = repo.new_id()
    now = ctl.clock()
    call = _new(ctl, iid, tenant, number, agent)
    call.queue_id = queue_id

    def write(conn: Connection) -> None:
        contact = repo.find_or_create_contact(conn, tenant, now=now, phone=number)
        log.insert_interaction(conn, tenant, interaction_id=iid, channel=Channel.VOICE.value,
                               contact_id=contact, queue_id=queue_id, priority=0,
                               attributes={"dialed": number, "by_agent": agent}, now=now)

    try:
        ctl.runtime.execute(tenant, c.Arrive(
            interaction_id=iid, channel=Channel.VOICE, direction=Direction.OUTBOUND,
            customer=Customer(phone=number), queue_id=queue_id, preferred_agent=agent,
            agent_only=True, attributes={"dialed": number, "by_agent": agent}), write=write)
    except BaseException:
        ctl.outbound.pop(iid, None)
        raise
    logger.info("click-to-dial %s: agent %s to %s", call.id, agent, number)
    return iid


def _new(ctl: ControllerBase, iid: str, tenant: str, number: str, agent: str) -> Outbound:
    call = Outbound(id=iid, tenant=tenant, number=number, agent=agent,
                    media_id=f"ob-{iid}", customer_tag="cu-" + secrets.token_hex(6),
                    agent_tag="ag-" + secrets.token_hex(6))
    ctl.outbound[iid] = call
    return call


def callback_offered(ctl: ControllerBase, tenant: str, ev: e.Offered) -> None:
    """A callback's turn came: ring its agent (then dial its number)."""
    assert ev.interaction_id is not None and ev.agent_id is not None
    call = ctl.outbound.get(ev.interaction_id)
    if call is None:
        number, attempt = _callback_number(ctl, tenant, ev.interaction_id)
        if number is None or trunk_out(ctl) is None:
            logger.info("callback %s: no number or no outbound trunk; it rings until the "
                        "agent takes it elsewhere", ev.interaction_id)
            return
        call = _new(ctl, ev.interaction_id, tenant, number, ev.agent_id)
        call.callback, call.attempt, call.queue_id = True, attempt, ev.queue_id
    offered(ctl, call, ev.agent_id)


def _callback_number(ctl: ControllerBase, tenant: str, iid: str) -> tuple[str | None, int]:
    """The callback's number and which attempt this is (1: the first)."""
    with ctl.runtime.db.connect() as conn:
        events = log.events(conn, tenant, interaction_id=iid)
        try:
            attrs = log.interaction_row(conn, tenant, iid).attributes or {}
        except NotFound:
            attrs = {}
    phone = None
    for ev in events:
        if ev["kind"] in ("callback_requested", "callback_scheduled") and ev.get("phone"):
            phone = ev["phone"]
        elif ev["kind"] == "arrived" and not phone:
            phone = (ev.get("customer") or {}).get("phone")
    attempt = attrs.get("attempt", 1)
    return (phone if isinstance(phone, str) else None,
            attempt if isinstance(attempt, int) and attempt >= 1 else 1)


def offered(ctl: ControllerBase, call: Outbound, agent: str) -> None:
    if call.phase != "agent" or call.agent_leg is not None:
        return
    call.agent = agent
    phones = ctl.config.phones_of(call.tenant, agent)
    if not phones:
        logger.info("outbound %s: agent %s has no phone", call.id, agent)
        return
    call.agent_leg = "oa-" + secrets.token_hex(8)
    ctl.track_outbound(call.agent_leg, call, "agent")
    ctl.spawn(_ring_agent(ctl, call, call.agent_leg, phones[0]))


async def _ring_agent(ctl: ControllerBase, call: Outbound, leg: str, phone: Any) -> None:
    try:
        sdp = await ctl.media.offer(call.media_id, call.customer_tag, PLACEHOLDER_SDP)
    except MediaError as exc:
        logger.error("outbound %s: rtpengine failed: %s", call.id, exc)
        return
    if call.agent_leg != leg or call.phase != "agent":
        return
    ctl.sip.invite_phone(leg, phone, caller=call.number, caller_name="Outbound", sdp=sdp)


def offer_ended(ctl: ControllerBase, call: Outbound, ev: e.Event) -> None:
    """RNA, withdrawn or declined before the agent answered: stop ringing. A
    click-to-dial its agent did not answer (RNA, declined) leaves routing
    (``Withdraw``: exited, ``withdrawn``) instead of ringing the agent again;
    a callback goes on by the usual rules (back to its queue)."""
    if call.phase == "agent" and call.agent_leg is not None and ev.agent_id == call.agent:
        ctl.untrack(call.agent_leg)
        ctl.sip.hangup(call.agent_leg)
        call.agent_leg = None
    if call.phase == "agent" and not call.callback and ev.agent_id == call.agent \
            and ev.kind in ("offer_timeout", "offer_rejected"):
        logger.info("click-to-dial %s: agent %s did not answer; withdrawn", call.id, call.agent)
        ctl.execute_for(call.tenant, c.Withdraw(interaction_id=call.id))
        if call.phase != "ended":
            _release(ctl, call)


def on_sip(ctl: ControllerBase, call: Outbound, role: str, event: object) -> None:
    if role == "agent":
        if isinstance(event, LegAnswered):
            ctl.spawn(_agent_answered(ctl, call, event))
        elif isinstance(event, LegFailed):
            ctl.untrack(event.leg)
            if call.agent_leg == event.leg:
                call.agent_leg = None
                if event.code in (486, 600, 603):
                    ctl.execute_for(call.tenant, c.Reject(interaction_id=call.id,
                                                          agent_id=call.agent))
        elif isinstance(event, LegEnded) and event.leg == call.agent_leg:
            if call.phase == "dialing":  # the agent gave up before the customer answered
                _not_connected(ctl, call, "cancelled", 0, by="agent")
            else:
                _ended(ctl, call, by="agent")
    elif role == "customer":
        if isinstance(event, LegAnswered):
            ctl.spawn(_customer_answered(ctl, call, event))
        elif isinstance(event, LegFailed):
            logger.info("outbound %s: the customer did not answer (%d %s)", call.id,
                        event.code, event.reason)
            call.customer_leg = None
            _not_connected(ctl, call, dial_result(event.code), event.code)
        elif isinstance(event, LegEnded) and event.leg == call.customer_leg:
            _ended(ctl, call, by="customer")


async def _agent_answered(ctl: ControllerBase, call: Outbound, ev: LegAnswered) -> None:
    if call.agent_leg != ev.leg or call.phase != "agent":
        ctl.untrack(ev.leg)
        ctl.sip.hangup(ev.leg)
        return
    if ctl.execute_for(call.tenant, c.Accept(interaction_id=call.id,
                                             agent_id=call.agent)) is None:
        ctl.untrack(ev.leg)
        ctl.sip.hangup(ev.leg)
        call.agent_leg = None
        return
    call.phase = "dialing"
    call.agent_sdp = ev.sdp or ""
    trunk = trunk_out(ctl)
    try:
        customer_sdp = await ctl.media.answer(call.media_id, call.customer_tag, call.agent_tag,
                                              call.agent_sdp)
        prompt = await ctl.media.speak(CONNECTING.get(call.language, CONNECTING["en"]),
                                       call.language)
        if call.phase == "dialing":
            await ctl.media.play(call.media_id, call.agent_tag, prompt)
    except MediaError as exc:
        logger.error("outbound %s: rtpengine failed: %s", call.id, exc)
        _not_connected(ctl, call, "failed", 0)  # the customer was never dialled
        return
    if call.phase != "dialing" or trunk is None or trunk.outbound is None:
        if trunk is None:
            _not_connected(ctl, call, "failed", 0)
        return
    call.customer_leg = "oc-" + secrets.token_hex(8)
    ctl.track_outbound(call.customer_leg, call, "customer")
    ctl.sip.invite(call.customer_leg, trunk.outbound, call.number,
                   caller=trunk.caller_id or "switchboard", caller_name=None,
                   sdp=customer_sdp, timeout_s=ctl.config.outbound.dial_timeout_s)


async def _customer_answered(ctl: ControllerBase, call: Outbound, ev: LegAnswered) -> None:
    if call.customer_leg != ev.leg or call.phase != "dialing":
        ctl.untrack(ev.leg)
        ctl.sip.hangup(ev.leg)
        return
    call.phase = "connected"
    ctl.stats["outbound_connected"] = ctl.stats.get("outbound_connected", 0) + 1
    try:  # the customer's real side: a re-offer from it, and the agent's answer again
        await ctl.media.offer(call.media_id, call.customer_tag, ev.sdp or PLACEHOLDER_SDP)
        await ctl.media.answer(call.media_id, call.customer_tag, call.agent_tag, call.agent_sdp)
    except MediaError as exc:
        logger.error("outbound %s: bridging the customer failed: %s", call.id, exc)
    ctl.media.stop(call.media_id, call.agent_tag)
    _record(ctl, call)


def _record(ctl: ControllerBase, call: Outbound) -> None:
    """With ``recording.calls``, record from the customer's answer to the end,
    like an inbound call from the agent's answer (stereo, customer left)."""
    recordings = ctl.recordings
    if recordings is None or not ctl.config.recording.calls or call.recording_started:
        return
    call.recording_started = True

    async def start() -> None:
        rec = await recordings.start_for(call.tenant, call.id, call.media_id, call.customer_tag,
                                         call.number, "call", call.queue_id)
        if rec is not None and call.phase == "ended":
            await recordings.finish(rec)
        else:
            call.recording = rec

    ctl.spawn(start())


def dial_result(code: int) -> str:
    """The outcome of a customer's final response (RFC 3261 section 21)."""
    if code in (486, 600):
        return "busy"
    if code in (408, 480, 487):  # no response, unavailable, our CANCEL at the timeout
        return "no_answer"
    if code == 603:
        return "rejected"
    return "failed"


def _not_connected(ctl: ControllerBase, call: Outbound, result: str, code: int, *,
                   by: str = "system") -> None:
    """The customer never answered: log ``dial_failed`` (the contact counts as
    not connected, not answered), schedule the next attempt of a callback
    that has one left, and end the contact."""
    if call.phase != "dialing":
        _ended(ctl, call, by=by)
        return
    policy = ctl.config.outbound
    now = ctl.runtime.clock()
    retry_at = None
    if call.callback and call.queue_id and call.attempt <= policy.callback_retries:
        retry_at = now + policy.retry_after_s
    ctl.record_for(call.tenant, e.DialFailed(
        at=now, interaction_id=call.id, agent_id=call.agent, queue_id=call.queue_id,
        result=result, sip_code=code, attempt=call.attempt, retry_at=retry_at))
    _ended(ctl, call, by=by)
    if retry_at is not None and call.queue_id is not None:
        _retry(ctl, call, call.queue_id, retry_at)


def _retry(ctl: ControllerBase, call: Outbound, queue_id: str, due_at: float) -> None:
    iid = repo.new_id()
    attrs = {"retry_of": call.id, "attempt": call.attempt + 1, "dialed": call.number}
    now = ctl.clock()
    tenant = call.tenant

    def write(conn: Connection) -> None:
        contact = repo.find_or_create_contact(conn, tenant, now=now, phone=call.number)
        log.insert_interaction(conn, tenant, interaction_id=iid, channel=Channel.VOICE.value,
                               contact_id=contact, queue_id=queue_id, priority=0,
                               attributes=attrs, now=now)

    done = ctl.execute_for_write(tenant, c.ScheduleCallback(
        interaction_id=iid, queue_id=queue_id, due_at=due_at,
        customer=Customer(phone=call.number), phone=call.number), write)
    if done is not None:
        logger.info("callback %s: attempt %d due at %.0f as %s", call.id, call.attempt + 1,
                    due_at, iid)


def routing_ended(ctl: ControllerBase, call: Outbound, ev: e.Event | None = None) -> None:
    """``ended`` (the desktop, a supervisor) or ``abandoned``: release the legs."""
    if call.phase != "ended":
        _release(ctl, call)


def _ended(ctl: ControllerBase, call: Outbound, *, by: str) -> None:
    if call.phase == "ended":
        return
    if call.phase in ("dialing", "connected"):
        ctl.execute_for(call.tenant, c.Hangup(interaction_id=call.id, by=by))
    _release(ctl, call)


def _release(ctl: ControllerBase, call: Outbound) -> None:
    call.phase = "ended"
    rec, call.recording = call.recording, None
    if rec is not None and ctl.recordings is not None:
        ctl.spawn(ctl.recordings.finish(rec))
    for leg in (call.agent_leg, call.customer_leg):
        if leg is not None:
            ctl.untrack(leg)
            ctl.sip.hangup(leg)
    call.agent_leg = call.customer_leg = None
    ctl.outbound.pop(call.id, None)
    ctl.media.delete(call.media_id)
