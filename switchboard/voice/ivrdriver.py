"""The call controller's IVR part: it performs an :class:`IvrSession`'s
effects (routing commands, prompts, lookups, timers, the terminal steps) and
feeds it prompt ends, lookup results and timer ticks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from switchboard.domain import commands as c
from switchboard.domain.errors import SwitchboardError
from switchboard.ivr import effects as fx
from switchboard.media.errors import MediaError
from switchboard.store import repo
from switchboard.store import schema as s
from switchboard.voice import voicemail
from switchboard.voice.base import (
    AFTER,
    ENDED,
    IVR,
    QUEUED,
    VOICEMAIL,
    Call,
    ControllerBase,
    e164,
    logger,
)
from switchboard.voice.config import Number


class IvrMixin(ControllerBase):
    """The IVR half of :class:`~switchboard.voice.calls.CallController`."""

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
                self.record_for(call.tenant, effect.event(call.id, self.runtime.clock()))
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
        phone = e164(params.get("phone", ""))
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

