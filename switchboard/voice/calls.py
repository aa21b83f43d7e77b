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
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Channel
from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.domain.model import Customer
from switchboard.ivr import CallInfo, IvrSession
from switchboard.ivr import effects as fx
from switchboard.media.dtmf import DtmfEvent
from switchboard.media.errors import MediaError
from switchboard.media.recording import ActiveRecording
from switchboard.server.runtime import Runtime
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.contacts import to_e164
from switchboard.voice import announce, consult, outbound, voicemail
from switchboard.voice.config import Number, VoiceConfig
from switchboard.voice.mediaplane import MediaPlane
from switchboard.voice.signalling import (
    IncomingCall,
    LegAnswered,
    LegEnded,
    LegFailed,
    LegRinging,
    Signalling,
)

logger = logging.getLogger("switchboard.voice.calls")

#: Phases of a call. ``ivr``: the flow runs; ``queued``: waiting (music,
#: announcements; agents may be ringing); ``connected``/``held``: with an agent;
#: ``after``: the flow's post-call step; ``leaving``: told goodbye, hanging up;
#: ``voicemail``: leaving a message.
SETUP, IVR, QUEUED, CONNECTED, HELD, AFTER, LEAVING, VOICEMAIL, ENDED = (
    "setup", "ivr", "queued", "connected", "held", "after", "leaving", "voicemail", "ended")

#: Phone responses that mean "the agent declined" (the others wait for RNA).
DECLINED = frozenset({486, 600, 603})


@dataclass(eq=False)
class Call:
    """One customer call and everything the controller knows about it."""

    id: str
    tenant: str
    number: Number
    leg: str
    media_id: str
    caller_tag: str
    caller: str
    customer: Customer
    contact_id: str | None = None
    phase: str = SETUP
    inner_tag: str = ""
    agent_sdp: str = ""
    session: IvrSession | None = None
    session_now: float = 0.0
    ivr_timer: asyncio.TimerHandle | None = None
    play_id: int | None = None
    prompt_task: asyncio.Task[None] | None = None
    rings: dict[str, str] = field(default_factory=dict)  # agent -> ringing leg
    agent: str | None = None
    agent_leg: str | None = None
    treatment: int = 0  # generation of the queue treatment (stale timers check it)
    queue_timer: asyncio.TimerHandle | None = None
    callback_offer: bool = False
    agent_phone_sdp: str = ""  # what the connected agent's phone answered with
    consult: consult.Consult | None = None  # a warm transfer's consultation
    reinvites: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    message: voicemail.Message | None = None  # a voicemail being left
    recording: ActiveRecording | None = None  # the call's recording, while it runs

    @property
    def language(self) -> str:
        lang = self.session.attributes.get("language") if self.session else None
        return lang if isinstance(lang, str) else self.number.flow.language


class CallController:
    """See the module docstring. ``clock`` gives POSIX seconds (the runtime's)."""

    def __init__(self, runtime: Runtime, config: VoiceConfig, signalling: Signalling,
                 media: MediaPlane, *, clock: Callable[[], float] = time.time,
                 recordings: voicemail.Recordings | None = None) -> None:
        self.runtime = runtime
        self.recordings = recordings
        self.config = config
        self.sip = signalling
        self.media = media
        self.clock = clock
        self.calls: dict[str, Call] = {}
        self._by_leg: dict[str, tuple[Call, str]] = {}  # leg -> (call, "caller" or agent id)
        self._by_media: dict[str, Call] = {}
        #: calls Switchboard places (callbacks, click-to-dial), by interaction id
        self.outbound: dict[str, outbound.Outbound] = {}
        self._out_legs: dict[str, tuple[outbound.Outbound, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: calls that reached an agent, and calls refused or failed in setup
        self.stats = {"arrived": 0, "answered": 0, "failed": 0, "ended": 0,
                      "announcements": 0}

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

    # ------------------------------------------------------------------ helpers
    def spawn(self, coro: Any) -> None:
        """Run ``coro`` as a task the controller keeps (and cancels at stop)."""
        self._spawn(coro)

    def release(self, call: Call) -> None:
        """Hang the caller up and forget the call."""
        self._hangup_caller(call)
        self._finish(call)

    async def prompt_path(self, call: Call, part: fx.PromptPart) -> Path | None:
        """The file to play for one prompt part: its audio file when it exists
        (relative to the flow's file), else its text spoken (None: neither)."""
        if part.file:
            candidate = Path(call.number.source).parent / part.file
            if candidate.is_file():
                return candidate
        if part.text:
            try:
                return await self.media.speak(part.text, part.lang or call.language)
            except MediaError as exc:
                logger.warning("call %s: prompt not rendered: %s", call.id, exc)
        return None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("call task failed", exc_info=task.exception())

    def _now(self, call: Call) -> float:
        call.session_now = max(call.session_now, self.clock())
        return call.session_now

    def track(self, leg: str, call: Call, role: str) -> None:
        """Route ``leg``'s SIP events to ``call`` as ``role`` (an agent id,
        ``caller``, ``consult``, ``@external``)."""
        self._by_leg[leg] = (call, role)

    def track_outbound(self, leg: str, call: outbound.Outbound, role: str) -> None:
        self._out_legs[leg] = (call, role)

    def untrack(self, leg: str) -> None:
        self._by_leg.pop(leg, None)
        self._out_legs.pop(leg, None)

    def execute(self, call: Call, command: c.Command, **kw: Any) -> list[e.Event] | None:
        return self._execute(call, command, **kw)

    def execute_for(self, tenant: str, command: c.Command) -> list[e.Event] | None:
        """A routing command for a tenant; None (logged) when refused."""
        try:
            return self.runtime.execute(tenant, command)
        except SwitchboardError as exc:
            logger.info("%s refused: %s", type(command).__name__, exc)
            return None

    def click_to_dial(self, tenant: str, agent: str, number: str) -> str:
        """Ring ``agent``'s phone, then ``number``; the new interaction's id
        (see :func:`switchboard.voice.outbound.click_to_dial`)."""
        return outbound.click_to_dial(self, tenant, agent, number)

    def _execute(self, call: Call, command: c.Command, **kw: Any) -> list[e.Event] | None:
        """Run a routing command for the call; None (logged) when refused."""
        try:
            return self.runtime.execute(call.tenant, command, **kw)
        except SwitchboardError as exc:
            logger.info("call %s: %s refused: %s", call.id, type(command).__name__, exc)
            return None

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
        phone = _e164(ev.caller)
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

    def _calendars(self, tenant: str, number: Number) -> dict[str, Any]:
        """The tenant's business-hours calendars, when the flow names any
        (read at the call's start, so a call keeps the hours it started with)."""
        if not any(getattr(step, "calendar", None) for step in number.flow.steps.values()):
            return {}
        from switchboard.store.config import calendars

        with self.runtime.db.connect() as conn:
            return calendars(conn, tenant)

    def _contact(self, tenant: str, phone: str) -> dict[str, Any] | None:
        with self.runtime.db.connect() as conn:
            row = conn.execute(select(s.Contact.id, s.Contact.name, s.Contact.email,
                                      s.Contact.phone)
                               .where(s.Contact.tenant_id == tenant, s.Contact.phone == phone)
                               ).first()
        return dict(row._mapping) if row is not None else None

    # ------------------------------------------------------------------ IVR
    def _perform(self, call: Call, effects: Iterable[fx.Effect]) -> None:
        for effect in effects:
            for command in effect.commands(call.id):
                self._execute(call, command)
            if isinstance(effect, fx.PlayPrompt):
                self._start_prompt(call, effect)
            elif isinstance(effect, fx.StopPrompt):
                if call.play_id == effect.play_id:
                    self._stop_prompt(call)
            elif isinstance(effect, fx.LookupRequest):
                self._spawn(self._lookup(call, effect))
            elif isinstance(effect, fx.Enqueue):
                call.phase = QUEUED
            elif isinstance(effect, fx.RequestCallback):
                call.callback_offer = False
            elif isinstance(effect, fx.StartVoicemail):
                self._voicemail(call, effect)
            elif isinstance(effect, fx.TransferExternal):
                self._transfer_external(call, effect)
            elif isinstance(effect, fx.RecordSurvey):
                logger.info("call %s: survey %s answered %d", call.id, effect.survey,
                            effect.score)
            elif isinstance(effect, fx.HangUp):
                self._hangup_caller(call)
                self._finish(call)
        self._arm_ivr(call)

    def _arm_ivr(self, call: Call) -> None:
        if call.ivr_timer is not None:
            call.ivr_timer.cancel()
            call.ivr_timer = None
        session = call.session
        if session is None or call.phase == ENDED or self._loop is None:
            return
        deadline = session.next_deadline()
        if deadline is not None:
            call.ivr_timer = self._loop.call_later(max(0.0, deadline - self.clock()),
                                                   self._ivr_tick, call)

    def _ivr_tick(self, call: Call) -> None:
        call.ivr_timer = None
        if call.session is not None and call.phase in (IVR, AFTER, QUEUED):
            self._perform(call, call.session.advance(self._now(call)))

    def _start_prompt(self, call: Call, effect: fx.PlayPrompt) -> None:
        if call.prompt_task is not None:
            call.prompt_task.cancel()
        call.play_id = effect.play_id
        task = asyncio.get_running_loop().create_task(self._play_prompt(call, effect))
        call.prompt_task = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _stop_prompt(self, call: Call) -> None:
        call.play_id = None
        if call.prompt_task is not None:
            call.prompt_task.cancel()
            call.prompt_task = None
        self.media.stop(call.media_id, call.caller_tag)

    async def _play_prompt(self, call: Call, effect: fx.PlayPrompt) -> None:
        for part in effect.parts:
            path = await self.prompt_path(call, part)
            if call.play_id != effect.play_id or call.phase == ENDED:
                return
            if path is None:
                continue
            try:
                seconds = await self.media.play(call.media_id, call.caller_tag, path)
            except MediaError as exc:
                logger.warning("call %s: prompt not played: %s", call.id, exc)
                seconds = 0.0
            await asyncio.sleep(seconds)
            if call.play_id != effect.play_id or call.phase == ENDED:
                return
        call.play_id = None
        call.prompt_task = None
        if call.session is not None:
            self._perform(call, call.session.prompt_finished(self._now(call), effect.play_id))

    async def _lookup(self, call: Call, effect: fx.LookupRequest) -> None:
        data: dict[str, Any] | None = None
        try:
            if effect.source == "contacts":
                data = await asyncio.wait_for(self._lookup_contact(call, effect.params),
                                              effect.timeout_s)
            else:
                data = await self._webhook(effect)
        except (TimeoutError, SwitchboardError, OSError) as exc:
            logger.info("call %s: lookup failed: %s", call.id, exc)
        if call.session is None or call.phase == ENDED:
            return
        self._perform(call, call.session.lookup_result(data, self._now(call),
                                                       effect.request_id))

    async def _lookup_contact(self, call: Call, params: Mapping[str, str]) -> dict[str, Any] | None:
        phone = _e164(params.get("phone", ""))
        if not phone:
            return None
        found = self._contact(call.tenant, phone)
        return {k: v for k, v in (found or {}).items() if v is not None} or None

    async def _webhook(self, effect: fx.LookupRequest) -> dict[str, Any] | None:
        import httpx

        assert effect.url is not None
        async with httpx.AsyncClient(timeout=effect.timeout_s) as client:
            if effect.method == "POST":
                resp = await client.post(effect.url, json=dict(effect.params))
            else:
                resp = await client.get(effect.url, params=dict(effect.params))
        if resp.status_code != 200:
            return None
        try:
            body = resp.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _voicemail(self, call: Call, effect: fx.StartVoicemail) -> None:
        if self.recordings is None:
            logger.warning("call %s: no recordings here, so no voicemail; hanging up", call.id)
            self._execute(call, c.Hangup(interaction_id=call.id, by="system"))
            self.release(call)
            return
        call.phase = VOICEMAIL
        call.message = voicemail.Message(effect)
        self._spawn(voicemail.leave_message(self, call, call.message))

    def _transfer_external(self, call: Call, effect: fx.TransferExternal) -> None:
        trunk = next((t for t in self.config.trunks if t.outbound), None)
        if trunk is None or trunk.outbound is None:
            logger.warning("call %s: no trunk with an outbound address for %s", call.id,
                           effect.number)
            self._hangup_caller(call)
            self._finish(call)
            return
        leg = "ext-" + repo.new_id()[:16]
        call.rings["@external"] = leg
        self._by_leg[leg] = (call, "@external")
        call.phase = QUEUED
        self._start_treatment(call, announce_now=False)
        self.sip.invite(leg, trunk.outbound, effect.number,
                        caller=effect.caller_id or trunk.caller_id or call.caller,
                        caller_name=None, sdp=call.agent_sdp, timeout_s=effect.ring_timeout_s)

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

    # ------------------------------------------------------------------ queue treatment
    def _start_treatment(self, call: Call, *, announce_now: bool) -> None:
        call.treatment += 1
        if call.queue_timer is not None:
            call.queue_timer.cancel()
            call.queue_timer = None
        gen = call.treatment
        every = self.config.queue.announce_every_s
        if announce_now and every > 0:
            self._spawn(self._announce(call, gen))
        else:
            self.media.music_on(call.media_id, call.caller_tag)
            if every > 0 and self._loop is not None:
                call.queue_timer = self._loop.call_later(every, self._announce_soon, call, gen)

    def _stop_treatment(self, call: Call) -> None:
        call.treatment += 1
        if call.queue_timer is not None:
            call.queue_timer.cancel()
            call.queue_timer = None

    def _announce_soon(self, call: Call, gen: int) -> None:
        call.queue_timer = None
        if call.treatment == gen and call.phase == QUEUED:
            self._spawn(self._announce(call, gen))

    async def _announce(self, call: Call, gen: int) -> None:
        try:
            snap = self.runtime.engine(call.tenant).interaction(call.id)
        except SwitchboardError:
            return
        text = announce.queue_announcement(
            call.language, snap.get("position"), snap.get("ewt_s"),
            self.config.queue.callback_key if call.callback_offer else None)
        seconds = 0.0
        try:
            path = await self.media.speak(text, call.language)
            if call.treatment != gen or call.phase != QUEUED:
                return
            seconds = await self.media.play(call.media_id, call.caller_tag, path)
            self.stats["announcements"] += 1
        except MediaError as exc:
            logger.warning("call %s: announcement failed: %s", call.id, exc)
        await asyncio.sleep(seconds)
        if call.treatment != gen or call.phase != QUEUED:
            return
        self.media.music_on(call.media_id, call.caller_tag)
        every = self.config.queue.announce_every_s
        if self._loop is not None and every > 0:
            call.queue_timer = self._loop.call_later(every, self._announce_soon, call, gen)

    def _accept_callback(self, call: Call) -> None:
        phone = call.customer.phone
        if self._execute(call, c.RequestCallback(interaction_id=call.id, phone=phone)) is None:
            return
        call.callback_offer = False
        self._stop_treatment(call)
        call.phase = LEAVING
        self._spawn(self._goodbye(call, announce.phrase("callback_ok", call.language)))

    async def _goodbye(self, call: Call, text: str) -> None:
        try:
            path = await self.media.speak(text, call.language)
            seconds = await self.media.play(call.media_id, call.caller_tag, path)
            await asyncio.sleep(seconds)
        except MediaError as exc:
            logger.warning("call %s: goodbye not played: %s", call.id, exc)
        if call.phase == LEAVING:
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


def _e164(number: str) -> str | None:
    """The caller's number in E.164, or None when it is not a phone number
    (a SIP user such as ``alice``)."""
    if not number or not number.startswith("+"):
        return None
    try:
        return to_e164(number)
    except ValidationError:
        return None
