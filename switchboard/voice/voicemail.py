"""Voicemail and call recording for the call controller.

A flow's ``voicemail`` step (:class:`~switchboard.ivr.effects.StartVoicemail`):
the caller hears the greeting and a beep, then what they say is recorded
(rtpengine pcap, converted to a mono WAV by :mod:`switchboard.media.recording`)
until they key the terminator, ``max_s`` passes, or they hang up. The IVR
contact then ends as self-service (``Hangup``), and the message becomes a new
contact: ``Arrive`` in the step's queue, channel voice, with the recording's id
in its attributes (``voicemail``) and the caller as its customer, so it is
routed to an agent like any waiting contact and its audio is played through
the recordings API. A message shorter than :data:`MIN_MESSAGE_S` (a caller
who hung up at the beep) makes no contact.

Call recording (``recording.calls`` in the configuration) starts when the
first agent answers and ends with the call; transfers add legs to it; the API
pauses and resumes it through the media control slot.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.enums import Channel
from switchboard.ivr import effects as fx
from switchboard.media.control import RecordingControl
from switchboard.media.errors import MediaError
from switchboard.media.recording import ActiveRecording, CallRecorder
from switchboard.store import log, repo
from switchboard.voice import announce

if TYPE_CHECKING:
    from switchboard.voice.base import Call, ControllerBase

logger = logging.getLogger("switchboard.voice.voicemail")

MIN_MESSAGE_S = 1.0


@dataclass(eq=False)
class Message:
    """A voicemail being left: its step, recording and time limit."""

    effect: fx.StartVoicemail
    recording: ActiveRecording | None = None
    timer: asyncio.TimerHandle | None = None
    done: bool = False


class Recordings:
    """Starts and finishes recordings off the event loop (ng requests, a
    database row, a pcap conversion), and tracks live ones for the API."""

    def __init__(self, recorder: CallRecorder, control: RecordingControl,
                 beep: Path) -> None:
        self.recorder = recorder
        self.control = control
        self.beep = beep

    async def start(self, call: Call, kind: str, queue_id: str | None = None
                    ) -> ActiveRecording | None:
        return await self.start_for(call.tenant, call.id, call.media_id, call.caller_tag,
                                    call.caller, kind, queue_id)

    async def start_for(self, tenant: str, interaction_id: str, media_id: str,
                        customer_tag: str, caller: str | None, kind: str,
                        queue_id: str | None = None) -> ActiveRecording | None:
        """Record rtpengine call ``media_id`` (the customer on ``customer_tag``):
        inbound calls through :meth:`start`, calls Switchboard places directly."""
        try:
            rec = await asyncio.to_thread(
                self.recorder.start, tenant_id=tenant, interaction_id=interaction_id,
                call_id=media_id, customer_tag=customer_tag, kind=kind,
                caller=caller, queue_id=queue_id)
        except MediaError as exc:
            logger.error("call %s: %s recording did not start: %s", interaction_id, kind, exc)
            return None
        self.control.track(rec)
        return rec

    async def finish(self, rec: ActiveRecording) -> dict[str, Any] | None:
        self.control.untrack(rec)
        try:
            return await asyncio.to_thread(rec.finish)
        except MediaError as exc:
            logger.error("recording %s failed: %s", rec.id, exc)
            return None

    async def refresh(self, rec: ActiveRecording) -> None:
        await asyncio.to_thread(rec.refresh_legs)


async def leave_message(ctl: ControllerBase, call: Call, msg: Message) -> None:
    """Greeting, beep, then record until :func:`stop` (see the module docstring)."""
    assert ctl.recordings is not None
    effect = msg.effect
    if effect.greeting is not None:
        path = await ctl.prompt_path(call, effect.greeting)
        if path is not None:
            await _play(ctl, call, path)
    if effect.beep and call.message is msg:
        await _play(ctl, call, ctl.recordings.beep)
    if call.message is not msg or msg.done:
        return
    msg.recording = await ctl.recordings.start(call, "voicemail", effect.queue_id)
    if msg.recording is None:
        stop(ctl, call, hung_up=False)
        return
    if msg.done:  # the caller hung up while the recording started
        await _store(ctl, call, msg)
        return
    loop = asyncio.get_running_loop()
    msg.timer = loop.call_later(effect.max_s, stop, ctl, call, False)


async def _play(ctl: ControllerBase, call: Call, path: Path) -> None:
    try:
        seconds = await ctl.media.play(call.media_id, call.caller_tag, path)
    except MediaError as exc:
        logger.warning("call %s: voicemail prompt not played: %s", call.id, exc)
        return
    await asyncio.sleep(seconds)


def stop(ctl: ControllerBase, call: Call, hung_up: bool) -> None:
    """The message ends: the terminator, the time limit, or the caller left."""
    msg = call.message
    if msg is None or msg.done:
        return
    msg.done = True
    if msg.timer is not None:
        msg.timer.cancel()
    if not hung_up:
        ctl.execute(call, c.Hangup(interaction_id=call.id, by="system"))
        ctl.spawn(_goodbye_and_store(ctl, call, msg))
    elif msg.recording is not None:
        ctl.spawn(_store(ctl, call, msg))


async def _goodbye_and_store(ctl: ControllerBase, call: Call, msg: Message) -> None:
    rec, msg.recording = msg.recording, None
    stored = asyncio.ensure_future(_store_recording(ctl, call, msg, rec))
    try:
        path = await ctl.media.speak(announce.phrase("voicemail_ok", call.language),
                                     call.language)
        await _play(ctl, call, path)
    except MediaError as exc:
        logger.warning("call %s: goodbye not played: %s", call.id, exc)
    ctl.release(call)
    await stored


async def _store(ctl: ControllerBase, call: Call, msg: Message) -> None:
    rec, msg.recording = msg.recording, None
    await _store_recording(ctl, call, msg, rec)


async def _store_recording(ctl: ControllerBase, call: Call, msg: Message,
                           rec: ActiveRecording | None) -> None:
    assert ctl.recordings is not None
    if rec is None:
        return
    row = await ctl.recordings.finish(rec)
    if row is None or row.get("status") != "complete":
        return
    if float(row.get("duration") or 0.0) < MIN_MESSAGE_S:
        logger.info("call %s: voicemail too short to keep as a contact", call.id)
        return
    new_contact(ctl, call, msg.effect, str(row["id"]))


def new_contact(ctl: ControllerBase, call: Call, effect: fx.StartVoicemail,
                recording_id: str) -> str | None:
    """The stored message as a contact waiting in the step's queue."""
    iid = repo.new_id()
    now = ctl.clock()
    attrs: dict[str, Any] = {**effect.attributes, "voicemail": recording_id,
                             "caller": call.caller, "from_interaction": call.id}

    def write(conn: Connection) -> None:
        log.insert_interaction(conn, call.tenant, interaction_id=iid,
                               channel=Channel.VOICE.value, contact_id=call.contact_id,
                               queue_id=effect.queue_id, priority=0, attributes=attrs, now=now)

    try:
        ctl.runtime.execute(call.tenant, c.Arrive(
            interaction_id=iid, channel=Channel.VOICE, customer=call.customer,
            attributes=attrs, queue_id=effect.queue_id), write=write)
    except Exception as exc:
        logger.error("call %s: the voicemail could not enter queue %s: %s", call.id,
                     effect.queue_id, exc)
        return None
    ctl.stats["voicemails"] = ctl.stats.get("voicemails", 0) + 1
    return iid
