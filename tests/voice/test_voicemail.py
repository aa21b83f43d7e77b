"""Voicemail with real peers: a sipp caller hears the greeting and the beep,
speaks (a tone) until the step's time limit, is told goodbye and hung up;
the message is a stored WAV and a new contact waiting in the step's queue."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.voice.harness import telephony
from tests.voice.peers import (
    Sipp,
    caller_scenario,
    need_peers,
    read_wav,
    rms,
    tone_power,
    write_tone,
)

CALLER_HZ = 500.0


@pytest.mark.slow
@pytest.mark.voice
def test_a_message_is_recorded_and_becomes_a_contact_in_the_queue(tmp_path: Path) -> None:
    need_peers()

    async def main() -> tuple[list[dict[str, Any]], dict[str, Any], list[dict[str, Any]], Path]:
        async with telephony(tmp_path, flow="voicemail.yaml") as h:
            voice = write_tone(tmp_path / "caller.al", CALLER_HZ, 2)
            scenario = caller_scenario(tmp_path / "caller.xml", keys="", voice=voice,
                                       before_voice_ms=200, talk_ms=0, they_hang_up=True)
            caller = Sipp(tmp_path / "sipp", scenario, h.sip_port, "100")
            caller.start()
            try:
                arrived = await h.wait_event("arrived", 20)
                first = arrived["interaction_id"]
                ended = await h.wait_event("ended", 30, lambda ev: ev["interaction_id"] == first)
                assert ended["by"] == "system"  # self-service: the IVR took the message
                message = await h.wait_event(
                    "arrived", 20, lambda ev: "voicemail" in ev.get("attributes", {}))
                enqueued = await h.wait_event(
                    "enqueued", 5,
                    lambda ev: ev["interaction_id"] == message["interaction_id"])
                assert enqueued["queue_id"] == "sales"
                rc = await asyncio.to_thread(caller.wait, 30)
                assert rc == 0, caller.errors()  # the caller got our BYE after the goodbye
                rows = h.recordings(kind="voicemail")
                media = h.service.recordings
                path = media.absolute(rows[0]["path"]) if rows and rows[0]["path"] else Path()
                return rows, message, h.events(first), path
            finally:
                caller.kill()

    rows, message, first_events, wav = asyncio.run(main())
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "complete" and row["channels"] == 1
    assert message["attributes"]["voicemail"] == row["id"]
    assert message["customer"]["phone"] == "+393331234567"
    assert 3.0 < row["duration"] < 6.0, row["duration"]
    samples, rate = read_wav(wav)
    voiced = samples[rate // 2: rate * 3]
    assert rms(voiced) > 1000, f"the message is near silence (RMS {rms(voiced):.0f})"
    assert tone_power(voiced, rate, CALLER_HZ) > 0.5, "the message is not the caller's voice"
    assert [ev["kind"] for ev in first_events][-1] == "ended"
