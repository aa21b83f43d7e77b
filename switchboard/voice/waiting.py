"""The call controller's waiting part: what a queued caller hears (music,
position and wait announcements, the callback offer) and the callback's
goodbye."""

from __future__ import annotations

import asyncio

from switchboard.domain import commands as c
from switchboard.domain.errors import SwitchboardError
from switchboard.media.errors import MediaError
from switchboard.voice import announce
from switchboard.voice.base import LEAVING, QUEUED, Call, ControllerBase, logger


class QueueMixin(ControllerBase):
    """The waiting half of :class:`~switchboard.voice.calls.CallController`."""

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

