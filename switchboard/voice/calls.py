"""The call controller: SIP legs, rtpengine media, the IVR and routing, on asyncio.

Theory of operation. Every customer call is one :class:`Call`, keyed by its
interaction id. Three kinds of input reach the controller, all on the event
loop's thread:

- SIP events from :class:`~switchboard.voice.signalling.Signalling` (an
  admitted INVITE, a phone that rings, answers, fails or hangs up);
- DTMF digits from rtpengine's DTMF log (only the caller's count);
- the routing engine's committed events, from the runtime's listener
  (offered, offer ended, answered, held, transferred, ended...).

The controller turns them into commands for the runtime (``Arrive``,
``IvrStep``, ``Enqueue``, ``Accept``, ``Reject``, ``Hangup``, ...), so every call
step is in the event log; into IVR inputs (digits, prompt ends, timers); and
into SIP and media actions. The routing engine decides who gets the call:
an ``offered`` event rings that agent's phone (a B-leg INVITE offering the
call's agent-side SDP), the phone's answer becomes ``Accept`` and bridges the
legs in rtpengine, and ``offer_timeout`` (ring no answer), ``offer_withdrawn``
or ``offer_rejected`` cancel the ringing leg. The caller hears music and a
position/wait announcement while queued (with the callback offer when the wait
estimate passes the threshold), music on ``held``, and goes back to music on a
blind ``transferred`` until the next agent answers. A hang-up on either side
ends the other and the contact (``Hangup`` by customer or agent: wrap-up), or
runs the flow's post-call step (a survey) when the agent hung up first.

Reactions to runtime events are scheduled with ``call_soon`` (never run inside
the runtime's commit), and every asynchronous step re-checks that its call is
still in the phase it started in, so a hang-up in the middle of a prompt or
of media setup cleans up instead of acting on a dead call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Channel
from switchboard.domain.errors import SwitchboardError
from switchboard.domain.model import Customer
from switchboard.ivr import CallInfo, IvrSession
from switchboard.media.dtmf import DtmfEvent
from switchboard.media.errors import MediaError
from switchboard.store import log, repo
from switchboard.voice import consult, outbound, voicemail
from switchboard.voice.base import (
    AFTER,
    CONNECTED,
    DECLINED,
    ENDED,
    HELD,
    IVR,
    QUEUED,
    VOICEMAIL,
    Call,
    e164,
    logger,
)
from switchboard.voice.ivrdriver import IvrMixin
from switchboard.voice.signalling import (
    IncomingCall,
    LegAnswered,
    LegEnded,
    LegFailed,
    LegRinging,
)
from switchboard.voice.waiting import QueueMixin


class CallController(IvrMixin, QueueMixin):
    """See the module docstring. ``clock`` gives POSIX seconds (the runtime's)."""

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.runtime.listeners.append(self.on_events)

    async def stop(self) -> None:
        if self.on_events in self.runtime.listeners:
            self.runtime.listeners.remove(self.on_events)
        for call in list(self.calls.values()):
            self._hangup_caller(call)
            self._finish(call)
        for placed in list(self.outbound.values()):
            outbound.routing_ended(self, placed)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def click_to_dial(self, tenant: str, agent: str, number: str,
                      queue: str | None = None) -> str:
        """Ring ``agent``'s phone, then ``number``; the new interaction's id
        (see :func:`switchboard.voice.outbound.click_to_dial`)."""
        return outbound.click_to_dial(self, tenant, agent, number, queue)

    # ------------------------------------------------------------------ SIP input
    def on_sip(self, event: object) -> None:
        """A SIP event (on the loop thread; the service posts it here)."""
        if isinstance(event, IncomingCall):
            self._spawn(self._incoming(event))
            return
        leg = getattr(event, "leg", None)
        placed = self._out_legs.get(leg) if isinstance(leg, str) else None
        if placed is not None:
            outbound.on_sip(self, placed[0], placed[1], event)
            return
        found = self._by_leg.get(leg) if isinstance(leg, str) else None
        if found is None:
            if isinstance(event, LegAnswered) and isinstance(leg, str):
                self.sip.hangup(leg)  # a phone answered a call that is gone
            return
        call, role = found
        waiting = call.reinvites.get(leg) if isinstance(leg, str) else None
        if waiting is not None and isinstance(event, LegAnswered | LegFailed):
            if not waiting.done():
                waiting.set_result(event.sdp if isinstance(event, LegAnswered) else None)
            return
        if role == "caller":
            if isinstance(event, LegEnded):
                self._caller_left(call, event.reason)
            return
        if role == "consult":
            if isinstance(event, LegAnswered):
                self._spawn(consult.answered(self, call, event))
            elif isinstance(event, LegFailed):
                consult.failed(self, call, event)
            elif isinstance(event, LegEnded):
                consult.ended(self, call, event)
            return
        if isinstance(event, LegAnswered):
            self._spawn(self._agent_answered(call, role, event))
        elif isinstance(event, LegFailed):
            self._agent_failed(call, role, event)
        elif isinstance(event, LegEnded):
            self._agent_left(call, role, event)
        elif isinstance(event, LegRinging):
            logger.debug("call %s: agent %s's phone rings", call.id, role)

    async def _incoming(self, ev: IncomingCall) -> None:
        number = self.config.numbers[ev.number]
        tenant = number.tenant
        try:
            self.runtime.ensure_tenant(tenant)
        except SwitchboardError:
            logger.error("number %s names tenant %s, which does not exist", ev.number, tenant)
            self.sip.reject(ev.leg, 503, "Service Unavailable")
            self.stats["failed"] += 1
            return
        if ev.sdp is None:
            self.sip.reject(ev.leg, 488, "Not Acceptable Here")  # no offer: we need one
            self.stats["failed"] += 1
            return
        phone = e164(ev.caller)
        contact = self._contact(tenant, phone) if phone else None
        customer = Customer(id=contact["id"] if contact else None,
                            name=(contact or {}).get("name") or ev.caller_name,
                            phone=phone, email=(contact or {}).get("email"))
        call = Call(id=repo.new_id(), tenant=tenant, number=number, leg=ev.leg,
                    media_id=ev.call_id, caller_tag=ev.from_tag, caller=ev.caller,
                    customer=customer, contact_id=contact["id"] if contact else None)
        self.calls[call.id] = call
        self._by_leg[ev.leg] = (call, "caller")
        self._by_media[call.media_id] = call
        try:
            anchored = await self.media.anchor(call.media_id, call.caller_tag, ev.sdp)
        except MediaError as exc:
            logger.error("call %s: rtpengine could not anchor the media: %s", call.id, exc)
            self.sip.reject(ev.leg, 503, "Service Unavailable")
            self.stats["failed"] += 1
            self._finish(call)
            return
        call.inner_tag, call.agent_sdp = anchored.inner_tag, anchored.agent_sdp
        if call.phase == ENDED:  # the caller gave up (CANCEL) during setup
            self.media.delete(call.media_id)
            return
        self.sip.answer(ev.leg, anchored.caller_sdp)
        now = self._now(call)
        attrs: dict[str, Any] = {"caller": ev.caller, "called": ev.number}
        if ev.trunk:
            attrs["trunk"] = ev.trunk
        info = CallInfo(interaction_id=call.id, caller=phone or ev.caller, called=ev.number,
                        attributes=attrs)
        arrive = c.Arrive(interaction_id=call.id, channel=Channel.VOICE, customer=customer,
                          attributes={**attrs, "called": ev.number})

        def write(conn: Connection) -> None:
            contact_id = call.contact_id
            if contact_id is None and phone:
                contact_id = repo.find_or_create_contact(conn, tenant, now=now, phone=phone,
                                                         name=ev.caller_name)
            log.insert_interaction(conn, tenant, interaction_id=call.id,
                                   channel=Channel.VOICE.value, contact_id=contact_id,
                                   queue_id=None, priority=0, attributes=dict(arrive.attributes),
                                   now=now)

        if self._execute(call, arrive, write=write) is None:
            self._hangup_caller(call)
            self.stats["failed"] += 1
            self._finish(call)
            return
        self.stats["arrived"] += 1
        call.phase = IVR
        call.session = IvrSession(number.flow, info, now,
                                  calendars=self._calendars(tenant, number))
        self._perform(call, call.session.start(now))

    # ------------------------------------------------------------------ DTMF
    def on_dtmf(self, event: DtmfEvent) -> None:
        """A digit from rtpengine's DTMF log (on the loop thread)."""
        call = self._by_media.get(event.call_id)
        if call is None or event.source_tag != call.caller_tag:
            return
        if call.phase in (IVR, AFTER) and call.session is not None:
            self._perform(call, call.session.digit(event.digit, self._now(call)))
        elif call.phase == VOICEMAIL and call.message is not None \
                and event.digit == call.message.effect.terminator:
            voicemail.stop(self, call, hung_up=False)
        elif call.phase == QUEUED and call.callback_offer \
                and event.digit == self.config.queue.callback_key:
            self._accept_callback(call)

    # ------------------------------------------------------------------ routing events
    def on_events(self, tenant: str, events: list[e.Event]) -> None:
        """The runtime's listener: keep only this controller's calls' events,
        and handle them after the commit that produced them."""
        mine = [ev for ev in events if ev.interaction_id in self.calls]
        if mine and self._loop is not None:
            self._loop.call_soon(self._handle, mine)
        placed = [ev for ev in events if ev.interaction_id in self.outbound
                  or (isinstance(ev, e.Offered) and ev.callback)]
        if placed and self._loop is not None:
            self._loop.call_soon(self._handle_outbound, tenant, placed)

    def _handle(self, events: list[e.Event]) -> None:
        for ev in events:
            call = self.calls.get(ev.interaction_id or "")
            if call is None or call.phase == ENDED:
                continue
            handler = _HANDLERS.get(ev.kind)
            if handler is not None:
                try:
                    handler(self, call, ev)
                except Exception:
                    logger.exception("call %s: handling %s failed", call.id, ev.kind)

    def _handle_outbound(self, tenant: str, events: list[e.Event]) -> None:
        for ev in events:
            iid = ev.interaction_id or ""
            try:
                call = self.outbound.get(iid)
                if isinstance(ev, e.Offered):
                    if call is not None:
                        outbound.offered(self, call, ev.agent_id or "")
                    elif ev.callback and self._is_voice(tenant, iid):
                        outbound.callback_offered(self, tenant, ev)
                elif call is None:
                    continue
                elif ev.kind in ("offer_timeout", "offer_withdrawn", "offer_rejected"):
                    outbound.offer_ended(self, call, ev)
                elif ev.kind in ("ended", "abandoned", "exited"):
                    outbound.routing_ended(self, call, ev)
            except Exception:
                logger.exception("outbound %s: handling %s failed", iid, ev.kind)

    def _is_voice(self, tenant: str, iid: str) -> bool:
        try:
            return bool(self.runtime.engine(tenant).interaction(iid)["channel"] == "voice")
        except SwitchboardError:
            return False

    def _on_enqueued(self, call: Call, ev: e.Event) -> None:
        assert isinstance(ev, e.Enqueued)
        if call.phase not in (IVR, QUEUED):
            return
        call.phase = QUEUED
        threshold = self.config.queue.callback_ewt_s
        call.callback_offer = ev.callback_offered or (
            threshold is not None and (ev.ewt_s is None or ev.ewt_s > threshold))
        self._start_treatment(call, announce_now=True)

    def _on_refused(self, call: Call, ev: e.Event) -> None:
        if call.session is not None and call.phase in (IVR, QUEUED):
            call.phase = IVR
            self._perform(call, call.session.queue_refused(self._now(call)))

    def _on_offered(self, call: Call, ev: e.Event) -> None:
        assert isinstance(ev, e.Offered) and ev.agent_id is not None
        if call.consult is not None and call.consult.agent == ev.agent_id:
            self._spawn(consult.ring(self, call))
            return
        if call.phase != QUEUED or ev.agent_id in call.rings:
            return
        phones = self.config.phones_of(call.tenant, ev.agent_id)
        if not phones:
            logger.info("call %s: agent %s has no phone configured; the offer rings "
                        "until it is answered elsewhere or times out", call.id, ev.agent_id)
            return
        leg = "ag-" + repo.new_id()[:16]
        call.rings[ev.agent_id] = leg
        self._by_leg[leg] = (call, ev.agent_id)
        self.sip.invite_phone(leg, phones[0], caller=call.caller,
                              caller_name=call.customer.name, sdp=call.agent_sdp)

    def _on_offer_end(self, call: Call, ev: e.Event) -> None:
        leg = call.rings.pop(ev.agent_id or "", None)
        if leg is not None:
            self._by_leg.pop(leg, None)
            self.sip.hangup(leg)

    def _on_held(self, call: Call, ev: e.Event) -> None:
        if call.phase == CONNECTED:
            call.phase = HELD
            self.media.hold(call.media_id, call.caller_tag)

    def _on_resumed(self, call: Call, ev: e.Event) -> None:
        if call.phase == HELD:
            call.phase = CONNECTED
            self.media.unhold(call.media_id, call.caller_tag)

    def _on_transfer_started(self, call: Call, ev: e.Event) -> None:
        assert isinstance(ev, e.TransferStarted)
        if call.phase in (CONNECTED, HELD) and call.agent_leg is not None:
            consult.begin(call, ev.to_agent)

    def _on_transfer_cancelled(self, call: Call, ev: e.Event) -> None:
        self._spawn(consult.cancel(self, call))

    def _on_transferred(self, call: Call, ev: e.Event) -> None:
        assert isinstance(ev, e.Transferred)
        if ev.mode == "warm":
            self._spawn(consult.complete(self, call))
            return
        if call.phase not in (CONNECTED, HELD):
            return
        # The transferring agent leaves; the caller waits for the target with music.
        self._drop_agent(call)
        if call.phase == HELD:
            self.media.unhold(call.media_id, call.caller_tag)
        call.phase = QUEUED
        self._start_treatment(call, announce_now=False)

    def _on_ended(self, call: Call, ev: e.Event) -> None:
        assert isinstance(ev, e.Ended)
        if call.phase in (CONNECTED, HELD):
            # Ended in routing (the agent's desktop, a supervisor), not by a hang-up
            # (those change the phase first): release both legs.
            self._drop_agent(call)
            self._after_agent(call, ev.by)

    def _on_left_queue(self, call: Call, ev: e.Event) -> None:
        if call.phase == QUEUED:  # exited (queue timeout, no agents)
            self._hangup_caller(call)
            self._finish(call)

    # ------------------------------------------------------------------ agents' legs
    async def _agent_answered(self, call: Call, agent: str, ev: LegAnswered) -> None:
        if agent == "@external":
            await self._external_answered(call, ev)
            return
        if call.rings.get(agent) != ev.leg or call.phase not in (QUEUED,):
            self._by_leg.pop(ev.leg, None)
            self.sip.hangup(ev.leg)
            return
        del call.rings[agent]
        if self._execute(call, c.Accept(interaction_id=call.id, agent_id=agent)) is None:
            self._by_leg.pop(ev.leg, None)
            self.sip.hangup(ev.leg)
            return
        self._stop_treatment(call)
        call.phase = CONNECTED
        call.agent, call.agent_leg = agent, ev.leg
        call.agent_phone_sdp = ev.sdp or ""
        self.stats["answered"] += 1
        try:
            await self.media.connect(call.media_id, call.caller_tag, call.inner_tag,
                                     ev.sdp or "")
        except MediaError as exc:
            logger.error("call %s: bridging to agent %s failed: %s", call.id, agent, exc)
        if call.phase in (CONNECTED, HELD):
            self.media.stop(call.media_id, call.caller_tag)  # music off: hear the agent
            self._record(call)

    async def _external_answered(self, call: Call, ev: LegAnswered) -> None:
        if call.rings.pop("@external", None) != ev.leg or call.phase != QUEUED:
            self.sip.hangup(ev.leg)
            return
        self._stop_treatment(call)
        call.phase = CONNECTED
        call.agent_leg = ev.leg
        try:
            await self.media.connect(call.media_id, call.caller_tag, call.inner_tag,
                                     ev.sdp or "")
        except MediaError as exc:
            logger.error("call %s: bridging to the external number failed: %s", call.id, exc)
        self.media.stop(call.media_id, call.caller_tag)

    def _record(self, call: Call) -> None:
        """Start the call's recording at the first answer; later legs join it."""
        if self.recordings is None or not self.config.recording.calls:
            return
        recordings = self.recordings
        if call.recording is not None:
            self._spawn(recordings.refresh(call.recording))
            return

        async def start() -> None:
            rec = await recordings.start(call, "call", self._queue_of(call))
            if rec is not None and call.phase == ENDED:
                await recordings.finish(rec)
            else:
                call.recording = rec

        call.recording = None
        self._spawn(start())

    def _queue_of(self, call: Call) -> str | None:
        try:
            queue = self.runtime.engine(call.tenant).interaction(call.id).get("queue")
        except SwitchboardError:
            return None
        return queue if isinstance(queue, str) else None

    def _agent_failed(self, call: Call, agent: str, ev: LegFailed) -> None:
        self._by_leg.pop(ev.leg, None)
        if call.rings.get(agent) != ev.leg:
            return
        if agent == "@external":
            del call.rings[agent]
            self._hangup_caller(call)
            self._finish(call)
            return
        if ev.code in DECLINED:
            del call.rings[agent]
            self._execute(call, c.Reject(interaction_id=call.id, agent_id=agent))
        else:  # unreachable phone: the offer rings on until RNA counts the miss
            logger.info("call %s: agent %s's phone failed (%d %s)", call.id, agent, ev.code,
                        ev.reason)

    def _agent_left(self, call: Call, agent: str, ev: LegEnded) -> None:
        self._by_leg.pop(ev.leg, None)
        if ev.leg != call.agent_leg or call.phase not in (CONNECTED, HELD):
            return
        call.agent_leg = None
        if agent == "@external":
            self._hangup_caller(call)
            self._finish(call)
            return
        self._execute(call, c.Hangup(interaction_id=call.id, by="agent"))
        self.media.disconnect(call.media_id, call.caller_tag, call.inner_tag, call.agent_sdp)
        self._after_agent(call, "agent")

    def _drop_agent(self, call: Call) -> None:
        leg, call.agent_leg = call.agent_leg, None
        if leg is not None:
            self._by_leg.pop(leg, None)
            self.sip.hangup(leg)
            self.media.disconnect(call.media_id, call.caller_tag, call.inner_tag,
                                  call.agent_sdp)
        call.agent = None

    def _after_agent(self, call: Call, by: str) -> None:
        """The agent's part ended with the caller on the line: the flow's
        post-call step (a survey) when the agent hung up, else goodbye."""
        call.agent = None
        if by == "agent" and call.session is not None:
            effects = call.session.after_call(self._now(call))
            if effects:
                call.phase = AFTER
                self.media.stop(call.media_id, call.caller_tag)
                self._perform(call, effects)
                return
        self._hangup_caller(call)
        self._finish(call)

    # ------------------------------------------------------------------ the caller leaves
    def _caller_left(self, call: Call, reason: str) -> None:
        phase = call.phase
        call.phase = ENDED
        if call.session is not None:
            call.session.hangup(self._now(call))
        if phase in (IVR, QUEUED, CONNECTED, HELD) or (
                phase == VOICEMAIL and call.message is not None and not call.message.done):
            self._execute(call, c.Hangup(interaction_id=call.id, by="customer"))
        if phase == VOICEMAIL:
            voicemail.stop(self, call, hung_up=True)
        for leg in list(call.rings.values()):
            self._by_leg.pop(leg, None)
            self.sip.hangup(leg)
        call.rings.clear()
        self._drop_agent(call)
        self._finish(call)
        logger.debug("call %s: the caller left (%s) in phase %s", call.id, reason, phase)

    def _hangup_caller(self, call: Call) -> None:
        if call.phase == ENDED:
            return
        call.phase = ENDED
        self.sip.hangup(call.leg)
        for leg in list(call.rings.values()):
            self._by_leg.pop(leg, None)
            self.sip.hangup(leg)
        call.rings.clear()
        self._drop_agent(call)

    def _finish(self, call: Call) -> None:
        """Forget the call and free its media."""
        call.phase = ENDED
        con, call.consult = call.consult, None
        if con is not None:
            if con.leg is not None:
                self.untrack(con.leg)
                self.sip.hangup(con.leg)
            self.media.delete(con.media_id)
        for waiting in call.reinvites.values():
            if not waiting.done():
                waiting.set_result(None)
        rec, call.recording = call.recording, None
        if rec is not None and self.recordings is not None:
            self._spawn(self.recordings.finish(rec))
        self._stop_treatment(call)
        if call.ivr_timer is not None:
            call.ivr_timer.cancel()
            call.ivr_timer = None
        if call.prompt_task is not None:
            call.prompt_task.cancel()
            call.prompt_task = None
        if self.calls.pop(call.id, None) is not None:
            self.stats["ended"] += 1
            self.media.delete(call.media_id)
        self._by_leg.pop(call.leg, None)
        self._by_media.pop(call.media_id, None)




_HANDLERS: dict[str, Callable[[CallController, Call, e.Event], None]] = {
    "enqueued": CallController._on_enqueued,
    "enqueue_refused": CallController._on_refused,
    "offered": CallController._on_offered,
    "offer_timeout": CallController._on_offer_end,
    "offer_rejected": CallController._on_offer_end,
    "offer_withdrawn": CallController._on_offer_end,
    "held": CallController._on_held,
    "resumed": CallController._on_resumed,
    "transferred": CallController._on_transferred,
    "transfer_started": CallController._on_transfer_started,
    "transfer_cancelled": CallController._on_transfer_cancelled,
    "ended": CallController._on_ended,
    "exited": CallController._on_left_queue,
}
