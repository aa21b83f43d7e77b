"""The call controller's use of rtpengine: anchoring, bridging, prompts, hold.

How a call's media is laid out in rtpengine (one rtpengine call per customer
call, its SIP Call-ID): the caller's INVITE is the *offer* (from-tag = the
caller's tag); rtpengine's reply is the SDP for the other side, kept as
``agent_sdp`` and sent in every INVITE to an agent's phone. Switchboard
answers for that other side with its own tag (``inner_tag``): first with a
sink (RTP to the discard port, so the caller talks to the IVR only), then,
when an agent's phone answers, with the phone's SDP. Re-answering moves the
other side to the new phone while the caller's ports stay the same
(``port-latching``), so transfers and ring-no-answer need no re-INVITE to the
caller. Prompts and music play *to* the caller's tag; hold also blocks what
the caller sends.

Every rtpengine request goes through one worker thread, in the order the
controller issued them (so a ``stop media`` never overtakes its ``play media``);
the event loop only awaits futures. Text-to-speech renders on other threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from switchboard.media.prompts import PromptStore
from switchboard.media.rtpengine import RtpengineClient, sip_side_flags

T = TypeVar("T")

MUSIC_REPEATS = 10_000  # "forever": music stops with stop media, hold or hang-up
MAX_SPOKEN = 10_000  # prompt names remembered (texts with attributes vary per caller)


@dataclass(frozen=True, slots=True)
class Anchored:
    """An inbound call's media in rtpengine: the SDP to answer the caller with,
    the SDP to offer agents' phones, and Switchboard's tag for that side."""

    caller_sdp: str
    agent_sdp: str
    inner_tag: str


def sink_answer(offer_sdp: str) -> str:
    """An answer to ``offer_sdp`` that sends the media nowhere (the discard
    port on the loopback): what the caller's side is answered with while no
    phone is connected. Codecs and DTMF payload types stay as offered."""
    sdp = re.sub(r"(?m)^c=IN IP[46] \S+", "c=IN IP4 127.0.0.1", offer_sdp)
    sdp = re.sub(r"(?m)^m=audio \d+ ", "m=audio 9 ", sdp)
    return re.sub(r"(?m)^a=(ice-|candidate|fingerprint|setup|rtcp:).*\r?\n", "", sdp)


class MediaPlane:
    """rtpengine (``client``) and prompts (``prompts``) for the controller."""

    def __init__(self, client: RtpengineClient, prompts: PromptStore, music: Path) -> None:
        self.client = client
        self.prompts = prompts
        self.music = music
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="rtpengine")
        self._flags = sip_side_flags()
        self._spoken: dict[tuple[str, str], Path] = {}  # rendered prompts, in memory

    def close(self) -> None:
        self._worker.shutdown(wait=True, cancel_futures=False)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker, lambda: fn(*args, **kwargs))

    def fire(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Queue a request whose answer nobody waits for (its error is logged)."""
        future = self._worker.submit(fn, *args, **kwargs)
        future.add_done_callback(_log_failure)

    # ------------------------------------------------------------------ calls
    async def anchor(self, call_id: str, caller_tag: str, caller_sdp: str) -> Anchored:
        """Offer the caller's SDP and answer it with the sink (see the module docstring)."""
        inner = "sb-" + secrets.token_hex(6)
        offered = await self._run(self.client.offer, call_id, caller_tag, caller_sdp,
                                  self._flags)
        answered = await self._run(self.client.answer, call_id, caller_tag, inner,
                                   sink_answer(offered.sdp), self._flags)
        return Anchored(caller_sdp=answered.sdp, agent_sdp=offered.sdp, inner_tag=inner)

    async def offer(self, call_id: str, from_tag: str, sdp: str) -> str:
        """Register an offer from ``from_tag``; the SDP for the other side."""
        return (await self._run(self.client.offer, call_id, from_tag, sdp, self._flags)).sdp

    async def answer(self, call_id: str, from_tag: str, to_tag: str, sdp: str) -> str:
        """Register ``to_tag``'s answer to ``from_tag``; the SDP for the offerer."""
        return (await self._run(self.client.answer, call_id, from_tag, to_tag, sdp,
                                self._flags)).sdp

    async def connect(self, call_id: str, caller_tag: str, inner_tag: str, phone_sdp: str) -> None:
        """Point the other side at a phone that answered with ``phone_sdp``."""
        await self._run(self.client.answer, call_id, caller_tag, inner_tag, phone_sdp,
                        self._flags)

    def disconnect(self, call_id: str, caller_tag: str, inner_tag: str, agent_sdp: str) -> None:
        """Point the other side back at the sink (the phone left)."""
        self.fire(self.client.answer, call_id, caller_tag, inner_tag, sink_answer(agent_sdp),
                  self._flags)

    def delete(self, call_id: str) -> None:
        self.fire(self.client.delete, call_id)

    # ------------------------------------------------------------------ audio
    async def play(self, call_id: str, tag: str, path: Path, *, repeat: int = 1) -> float:
        """Play ``path`` to ``tag``; its duration in seconds (one playback)."""
        ms = await self._run(self.client.play_media, call_id, tag, file=str(path.resolve()),
                             repeat_times=repeat)
        return (ms or 0) / 1000.0

    def stop(self, call_id: str, tag: str) -> None:
        self.fire(self.client.stop_media, call_id, tag)

    def music_on(self, call_id: str, tag: str) -> None:
        self.fire(self.client.play_media, call_id, tag, file=str(self.music.resolve()),
                  repeat_times=MUSIC_REPEATS)

    def hold(self, call_id: str, caller_tag: str) -> None:
        """Music to the caller, and nothing of the caller to the agent."""
        self.music_on(call_id, caller_tag)
        self.fire(self.client.block_media, call_id, caller_tag)

    def unhold(self, call_id: str, caller_tag: str) -> None:
        self.fire(self.client.stop_media, call_id, caller_tag)
        self.fire(self.client.unblock_media, call_id, caller_tag)

    async def speak(self, text: str, language: str) -> Path:
        """The rendered prompt file for ``text`` (espeak-ng off the loop, once:
        the store caches the file, this the name, so a prompt heard on every
        call costs no thread hop)."""
        key = (text, language)
        path = self._spoken.get(key)
        if path is None:
            prompt = await asyncio.to_thread(self.prompts.speak, text, language)
            path = prompt.path
            if len(self._spoken) >= MAX_SPOKEN:
                self._spoken.clear()
            self._spoken[key] = path
        return path


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        import logging

        logging.getLogger("switchboard.voice.media").info("rtpengine request failed: %s", exc)
