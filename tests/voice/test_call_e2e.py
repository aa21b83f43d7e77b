"""End to end with real peers: a sipp caller keys through the menu into the
queue, waits and hears an announcement, is answered by a baresip agent,
talks, and hangs up; the event log, the CDR, what the agent heard and the
call's recording are checked."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain import commands as c
from switchboard.domain.events import Event
from switchboard.metrics.builder import cdr_rows_from_events
from tests.voice.harness import TENANT, telephony
from tests.voice.peers import (
    Baresip,
    Sipp,
    caller_scenario,
    need_peers,
    read_wav,
    rms,
    tone_power,
    write_tone,
)

CALLER_HZ = 500.0
AGENT_HZ = 300.0


@pytest.mark.slow
@pytest.mark.voice
def test_menu_queue_announcement_agent_talk_hangup(tmp_path: Path) -> None:
    need_peers()

    async def main() -> tuple[list[dict[str, Any]], list[Path], list[dict[str, Any]], Path]:
        phones = {"ada": {"tenant": "t1", "agent": "ada", "password": "pw-ada"}}
        async with telephony(tmp_path, phones=phones,
                             voice={"queue": {"announce_every_s": 3},
                                    "recording": {"calls": True}}) as h:
            agent_voice = write_tone(tmp_path / "agent.wav", AGENT_HZ, 4, law="wav",
                                     silence_s=90)
            phone = Baresip(tmp_path / "ada", "ada", "pw-ada", h.sip_port, agent_voice)
            phone.start()
            try:
                await h.until(lambda: h.registered("ada"), 15, "baresip to register")
                voice = write_tone(tmp_path / "caller.al", CALLER_HZ, 2)
                scenario = caller_scenario(tmp_path / "caller.xml", keys="1", voice=voice,
                                           talk_ms=16_000)
                caller = Sipp(tmp_path / "sipp", scenario, h.sip_port, "100")
                caller.start()
                try:
                    enq = await h.wait_event("enqueued", 20)
                    iid = enq["interaction_id"]
                    await h.until(lambda: h.stats["announcements"] >= 1, 15,
                                  "a queue announcement")
                    h.ready("ada")
                    answered = await h.wait_event("answered", 20)
                    assert answered["agent_id"] == "ada"
                    rc = await asyncio.to_thread(caller.wait, 60)
                    assert rc == 0, caller.errors()
                    ended = await h.wait_event("ended", 15)
                    assert ended["by"] == "customer"
                finally:
                    caller.kill()
            finally:
                phone.stop()
            events = h.events(iid)
            await h.until(lambda: bool(h.recordings(iid)) and h.recordings(iid)[0]["status"]
                          != "recording", 15, "the recording to be stored")
            recordings = h.recordings(iid)
            wav = h.service.recordings.absolute(recordings[0]["path"] or "-")
        return events, phone.heard(), recordings, wav

    events, heard, recordings, wav = asyncio.run(main())
    kinds = [ev["kind"] for ev in events]
    expected = ["arrived", "ivr_input", "enqueued", "offered", "answered", "ended"]
    steps = [k for k in kinds if k in expected]
    assert [k for i, k in enumerate(steps) if i == 0 or steps[i - 1] != k] == expected, kinds
    keyed = [ev for ev in events if ev["kind"] == "ivr_input" and ev.get("digits")]
    assert [(ev["digits"], ev["step"]) for ev in keyed] == [("1", "menu")]
    arrived = events[0]
    assert arrived["channel"] == "voice"
    assert arrived["customer"]["phone"] == "+393331234567"
    assert arrived["attributes"]["called"] == "100"
    rows = cdr_rows_from_events(Event.from_dict({k: v for k, v in ev.items() if k != "seq"})
                                for ev in events)
    assert len(rows) == 1
    row = rows[0]
    assert (row.queue, row.agent, row.channel) == ("sales", "ada", "voice")
    assert row.answered_at is not None and row.ended_at is not None
    talk_s = (row.ended_at - row.answered_at) / 1e6
    assert 5 < talk_s < 20, talk_s
    # What the agent's phone heard: the caller's tone, loud and clear.
    assert heard, "baresip recorded nothing (see its log in the test's tmp_path)"
    samples, rate = read_wav(heard[-1])
    assert len(samples) / rate > 5, "the recording is shorter than the talk"
    window = samples[rate: rate * 5]
    assert rms(window) > 1000, f"the agent heard near silence (RMS {rms(window):.0f})"
    assert tone_power(window, rate, CALLER_HZ) > 0.5, "the agent did not hear the caller"
    # The call's recording: stereo, the customer left and the agent right,
    # from the agent's answer to the end of the call.
    assert len(recordings) == 1
    rec = recordings[0]
    assert (rec["kind"], rec["status"], rec["channels"]) == ("call", "complete", 2)
    assert abs(rec["duration"] - talk_s) < 2.0, (rec["duration"], talk_s)
    left, rate = read_wav(wav, 0)
    right, _ = read_wav(wav, 1)
    assert tone_power(left[rate: rate * 4], rate, CALLER_HZ) > 0.5, "no customer on the left"
    assert tone_power(right[rate // 2: rate * 3], rate, AGENT_HZ) > 0.5, "no agent on the right"


@pytest.mark.slow
@pytest.mark.voice
def test_hold_cuts_the_caller_off_the_agent_and_resume_brings_it_back(tmp_path: Path) -> None:
    """While held, nothing of the caller reaches the agent's phone (which
    records only what it receives, so the held span is missing from its
    recording); after resume the caller's voice is back."""
    need_peers()
    hold_s = 4.0

    async def main() -> tuple[float, list[Path]]:
        phones = {"ada": {"tenant": "t1", "agent": "ada", "password": "pw-ada"}}
        async with telephony(tmp_path, phones=phones) as h:
            agent_voice = write_tone(tmp_path / "agent.wav", AGENT_HZ, 1, law="wav",
                                     silence_s=90)
            phone = Baresip(tmp_path / "ada", "ada", "pw-ada", h.sip_port, agent_voice)
            phone.start()
            try:
                await h.until(lambda: h.registered("ada"), 15, "baresip to register")
                h.ready("ada")
                voice = write_tone(tmp_path / "caller.al", CALLER_HZ, 2)
                scenario = caller_scenario(tmp_path / "caller.xml", keys="1", voice=voice,
                                           talk_ms=12_000)
                caller = Sipp(tmp_path / "sipp", scenario, h.sip_port, "100")
                caller.start()
                try:
                    answered = await h.wait_event("answered", 20)
                    iid = answered["interaction_id"]
                    await asyncio.sleep(3.0)
                    h.runtime.execute(TENANT, c.Hold(interaction_id=iid))
                    await h.wait_event("held", 5)
                    await asyncio.sleep(hold_s)
                    h.runtime.execute(TENANT, c.Resume(interaction_id=iid))
                    resumed = await h.wait_event("resumed", 5)
                    assert resumed["hold_s"] >= hold_s
                    rc = await asyncio.to_thread(caller.wait, 40)
                    assert rc == 0, caller.errors()
                    ended = await h.wait_event("ended", 15)
                finally:
                    caller.kill()
            finally:
                phone.stop()
        return ended["at"] - answered["at"], phone.heard()

    talk_s, heard = asyncio.run(main())
    assert heard, "baresip recorded nothing"
    # baresip may start a new dump file when the stream comes back after the
    # hold (file names have a one-second resolution): what the phone received
    # is the sum of its dumps for this one call, the newest holds the resume.
    dumps = [read_wav(f) for f in sorted(heard, key=lambda f: f.stat().st_mtime)]
    recorded_s = sum(len(samples) / rate for samples, rate in dumps)
    assert abs(recorded_s - (talk_s - hold_s)) < 1.5, (recorded_s, talk_s, len(dumps))
    samples, rate = dumps[-1]
    last = samples[-rate * 2: -rate // 2]
    assert tone_power(last, rate, CALLER_HZ) > 0.5, "the caller is not back after resume"
