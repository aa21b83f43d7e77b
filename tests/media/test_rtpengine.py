"""The ng client against a real rtpengine: two RTP endpoints (real UDP sockets)
call each other through it; packets are relayed both ways, a prompt is
played into one leg, a digit reaches the DTMF log, media is blocked and
unblocked, the call is deleted. Errors come back typed."""

from __future__ import annotations

import socket
import struct
import threading
import time
import wave
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from switchboard.media import g711
from switchboard.media.daemon import RtpengineConfig, RtpengineDaemon, attach
from switchboard.media.errors import MediaError, RtpengineError, RtpengineUnavailable
from switchboard.media.rtpengine import RtpengineClient, merge_options, sip_side_flags, tags_of
from tests.media.conftest import Media
from tests.media.rtp import RtpEndpoint, media_address, tone

pytestmark = [pytest.mark.slow, pytest.mark.voice]


def _call(
    media: Media, a: RtpEndpoint, b: RtpEndpoint, call_id: str
) -> tuple[tuple[str, int], tuple[str, int]]:
    """Offer from a (tag a), answer from b (tag b). Returns where a and b send."""
    offer = media.client.offer(call_id, "tag-a", a.sdp(1), sip_side_flags())
    answer = media.client.answer(call_id, "tag-a", "tag-b", b.sdp(2), sip_side_flags())
    return media_address(answer.sdp), media_address(offer.sdp)


def _loudness(packets: list) -> float:
    if not packets:
        return 0.0
    pcm = np.concatenate([g711.decode_ulaw(p.payload) for p in packets]).astype(np.float64)
    return float(np.sqrt(np.mean(pcm**2)))


def test_ping(media: Media) -> None:
    media.client.ping()
    assert media.daemon.pid is not None


def test_offer_answer_relays_both_ways(
    media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint]
) -> None:
    a, b = endpoints
    a_to, b_to = _call(media, a, b, "relay-1")
    assert a_to[1] != a.port and b_to[1] != b.port  # both send to rtpengine, not to each other
    sender = threading.Thread(target=a.send_audio, args=(a_to, tone(440, 1.0)))
    sender.start()
    b.send_audio(b_to, tone(1000, 1.0))
    sender.join()
    assert a.wait_for(45) and b.wait_for(45)
    # what b receives is a's tone (440 Hz), and the other way round: check by zero crossings
    for ep, freq in ((b, 440), (a, 1000)):
        pcm = np.concatenate([g711.decode_ulaw(p.payload) for p in ep.audio()])
        crossings = np.count_nonzero(np.diff(np.signbit(pcm)))
        measured = crossings / 2 / (len(pcm) / 8000)
        assert abs(measured - freq) < freq * 0.05, (ep, measured)
    reply = media.client.query("relay-1")
    assert set(tags_of(reply)) == {"tag-a", "tag-b"}
    assert reply["totals"]["RTP"]["packets"] >= 90
    stats = media.client.delete("relay-1")
    assert stats["result"] == "ok"
    with pytest.raises(RtpengineError, match="Unknown call"):
        media.client.query("relay-1")


def test_play_media_reaches_the_chosen_leg(
    media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint], tmp_path: Path
) -> None:
    a, b = endpoints
    _call(media, a, b, "play-1")
    # nobody sends: what a receives is the prompt alone
    prompt = tmp_path / "prompt.wav"
    with wave.open(str(prompt), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.array(tone(300, 1.0), dtype=np.int16).tobytes())
    before_a, before_b = len(a.audio()), len(b.audio())
    duration = media.client.play_media("play-1", "tag-a", file=str(prompt))
    assert duration == 1000
    time.sleep(1.4)
    played = a.audio()[before_a:]
    assert len(played) >= 40  # ~50 packets of 20 ms
    assert _loudness(played) > 3000
    assert len(b.audio()) == before_b  # b did not hear it
    # repeat and stop: playing 20 times, stopped after ~0.5 s
    media.client.play_media("play-1", "tag-a", file=str(prompt), repeat_times=20)
    time.sleep(0.5)
    media.client.stop_media("play-1", "tag-a")
    time.sleep(0.3)
    count = len(a.audio())
    time.sleep(0.5)
    assert len(a.audio()) == count  # nothing more after stop media
    media.client.delete("play-1")


def test_play_media_missing_file_is_a_typed_error(
    media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint]
) -> None:
    a, b = endpoints
    _call(media, a, b, "play-2")
    with pytest.raises(RtpengineError) as info:
        media.client.play_media("play-2", "tag-a", file="/nonexistent/prompt.wav")
    assert info.value.reason and info.value.command == "play media"
    media.client.delete("play-2")


def test_dtmf_reaches_the_log(media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint]) -> None:
    a, b = endpoints
    a_to, _ = _call(media, a, b, "dtmf-1")
    a.send_audio(a_to, tone(440, 0.1))
    for event in (1, 11):
        a.send_dtmf(a_to, event)
    got = [media.dtmf.get(timeout=3), media.dtmf.get(timeout=3)]
    assert [(e.call_id, e.source_tag, e.digit) for e in got] == [
        ("dtmf-1", "tag-a", "1"),
        ("dtmf-1", "tag-a", "#"),
    ]
    assert set(got[0].tags) == {"tag-a", "tag-b"}
    # the events pass through to b as well (RFC 4733 packets)
    assert b.wait_for(3, payload_type=101)
    media.client.delete("dtmf-1")


def test_block_and_unblock_media(media: Media, endpoints: tuple[RtpEndpoint, RtpEndpoint]) -> None:
    a, b = endpoints
    a_to, _ = _call(media, a, b, "block-1")
    a.send_audio(a_to, tone(440, 0.2))
    assert b.wait_for(8)
    media.client.block_media("block-1", "tag-a")
    n = len(b.audio())
    a.send_audio(a_to, tone(440, 0.4))
    time.sleep(0.2)
    assert len(b.audio()) == n  # a's media dropped
    media.client.unblock_media("block-1", "tag-a")
    a.send_audio(a_to, tone(440, 0.4))
    assert b.wait_for(n + 15)
    media.client.delete("block-1")


def test_errors_are_typed(media: Media) -> None:
    with pytest.raises(RtpengineError) as info:
        media.client.query("no-such-call")
    assert info.value.code == "rtpengine_error" and "no-such-call" not in info.value.command
    with pytest.raises(RtpengineError):
        media.client.delete("no-such-call", fatal=True)
    assert media.client.delete("no-such-call")["result"] == "ok"  # a warning only
    with pytest.raises(RtpengineError, match="Unrecognized command"):
        media.client.request("no such command")
    with pytest.raises(RtpengineError):
        media.client.offer("bad-sdp", "t", "this is not SDP", sip_side_flags())


def test_concurrent_requests_from_many_threads(media: Media) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: media.client.request("ping")["result"], range(200)))
    assert results == ["pong"] * 200


def test_no_reply_is_unavailable_after_retries() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives, never answers
        client = RtpengineClient(silent.getsockname(), timeout=0.1, retries=2)
        try:
            started = time.monotonic()
            with pytest.raises(RtpengineUnavailable, match="after 3 tries"):
                client.ping()
            assert time.monotonic() - started >= 0.3
            silent.settimeout(1)
            packets = [silent.recv(100) for _ in range(3)]
            assert len(set(packets)) == 1  # the same cookie each time
            assert packets[0].split(b" ", 1)[1] == b"d7:command4:pinge"
        finally:
            client.close()


def test_a_reply_that_is_not_bencode_is_an_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as fake:
        fake.bind(("127.0.0.1", 0))
        client = RtpengineClient(fake.getsockname(), timeout=1, retries=0)
        try:
            future = client.submit("ping")
            data, peer = fake.recvfrom(100)
            fake.sendto(data.split(b" ")[0] + b" d6:result", peer)
            with pytest.raises(MediaError, match="not bencode"):
                future.result(timeout=2)
            future = client.submit("ping")
            data, peer = fake.recvfrom(100)
            fake.sendto(b"someone-else " + struct.pack("!I", 1), peer)  # ignored: not our cookie
            fake.sendto(data.split(b" ")[0] + b" d6:result5:errore", peer)
            with pytest.raises(RtpengineError, match="no reason"):
                future.result(timeout=2)
        finally:
            client.close()


def test_attach_to_a_running_rtpengine(media: Media) -> None:
    assert media.daemon.ng_address is not None
    client = attach(media.daemon.ng_address)
    try:
        assert client.request("ping")["result"] == "pong"
    finally:
        client.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as nobody:
        nobody.bind(("127.0.0.1", 0))
        with pytest.raises(RtpengineUnavailable):
            attach(nobody.getsockname(), timeout=0.1, retries=0)


def test_daemon_start_failure_shows_its_log(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))  # the ng port is in use: rtpengine cannot start
        port = taken.getsockname()[1]
        daemon = RtpengineDaemon(RtpengineConfig(ng_port=port, workdir=tmp_path))
        with pytest.raises(MediaError, match="rtpengine exited") as info:
            daemon.start(ready_timeout=5)
    assert "Address already in use" in str(info.value)  # rtpengine's complaint, from its log
    assert daemon.pid is None


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    daemon = RtpengineDaemon(RtpengineConfig(binary="no-such-rtpengine", workdir=tmp_path))
    with pytest.raises(MediaError, match="rtpengine-daemon"):
        daemon.start()


def test_merge_options() -> None:
    merged = merge_options(
        sip_side_flags(), {"flags": ["record-call", "port-latching"], "ICE": "force"}
    )
    assert merged["flags"] == ["port-latching", "strip-extmap", "no-rtcp-attribute", "record-call"]
    assert merged["ICE"] == "force"
    with pytest.raises(ValueError):
        RtpengineConfig(port_min=5000, port_max=4000)
