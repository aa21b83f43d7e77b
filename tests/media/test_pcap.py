"""pcap reading and WAV rendering on pcap files written here, byte by byte, in
the format rtpengine writes (libpcap, link type 101 raw IPv4)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from switchboard.media import g711, pcap
from switchboard.media.errors import MediaError

START = 1_700_000_000.0


def ipv4_udp(src: tuple[str, int], dst: tuple[str, int], payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
        bytes(int(x) for x in src[0].split(".")), bytes(int(x) for x in dst[0].split(".")),
    )  # fmt: skip
    return ip + udp


def rtp(pt: int, seq: int, ts: int, ssrc: int, payload: bytes) -> bytes:
    return struct.pack("!BBHII", 0x80, pt, seq, ts, ssrc) + payload


def write_pcap(path: Path, records: list[tuple[float, bytes]], *, linktype: int = 101) -> None:
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
    for t, frame in records:
        sec = int(t)
        out += struct.pack("<IIII", sec, round((t - sec) * 1e6), len(frame), len(frame))
        out += frame
    path.write_bytes(bytes(out))


def tone_frames(freq: float, count: int, *, alaw: bool = False) -> list[bytes]:
    t = np.arange(count * 160) / 8000
    pcm = (np.sin(2 * np.pi * freq * t) * 8000).astype(np.int16)
    enc = g711.encode_alaw if alaw else g711.encode_ulaw
    return [enc(pcm[i * 160 : (i + 1) * 160]) for i in range(count)]


CUSTOMER = ("127.0.0.1", 40000)
AGENT = ("127.0.0.1", 40002)
PORT_C, PORT_A = 30000, 30002  # rtpengine's ports for each


def test_read_pcap(tmp_path: Path) -> None:
    f = tmp_path / "a.pcap"
    write_pcap(f, [(START + 0.5, ipv4_udp(CUSTOMER, ("127.0.0.1", PORT_C), b"hello"))])
    [pkt] = list(pcap.read_pcap(f))
    assert pkt.src == CUSTOMER and pkt.dst == ("127.0.0.1", PORT_C) and pkt.payload == b"hello"
    assert abs(pkt.time - (START + 0.5)) < 1e-6
    # a record cut short at the end (a file being written) ends the packets
    f.write_bytes(f.read_bytes() + struct.pack("<IIII", 1, 0, 100, 100) + b"x" * 10)
    assert len(list(pcap.read_pcap(f))) == 1


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "not a pcap"),
        (b"x" * 30, "magic"),
        (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105), "link type"),
    ],
)
def test_not_pcap(tmp_path: Path, data: bytes, needle: str) -> None:
    f = tmp_path / "bad.pcap"
    f.write_bytes(data)
    with pytest.raises(MediaError, match=needle):
        list(pcap.read_pcap(f))


def test_parse_rtp() -> None:
    pkt = pcap.parse_rtp(rtp(0, 7, 160, 99, b"\xff" * 160))
    assert pkt is not None and (pkt.payload_type, pkt.seq, pkt.timestamp, pkt.ssrc) == (
        0,
        7,
        160,
        99,
    )
    # CSRC, extension and padding are skipped
    raw = (
        struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 1, 8, 1, 2, 3)
        + b"CSRC"
        + b"\xbe\xde\x00\x01"
        + b"EXT!"
    )
    pkt = pcap.parse_rtp(raw + b"\xd5" * 4 + b"\x00\x00\x03")
    assert pkt is not None and pkt.payload == b"\xd5" * 4
    assert pcap.parse_rtp(b"\x80\xc8" + b"\x00" * 26) is None  # RTCP sender report
    assert pcap.parse_rtp(b"\x00\x01\x00\x00") is None  # STUN


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


def test_render_places_by_timestamp_and_channel(tmp_path: Path) -> None:
    records: list[tuple[float, bytes]] = []
    # customer: 1 s of 440 Hz µ-law from t=0.5, with jitter up to 30 ms, one
    # duplicate and two packets swapped
    frames = tone_frames(440, 50)
    jitter = np.random.default_rng(1).uniform(0, 0.03, 50)
    for i, payload in enumerate(frames):
        frame = ipv4_udp(
            CUSTOMER, ("127.0.0.1", PORT_C), rtp(0, 100 + i, 5000 + 160 * i, 11, payload)
        )
        records.append((START + 0.5 + 0.02 * i + jitter[i], frame))
    records.append(records[10])
    records[20], records[21] = records[21], records[20]
    # agent: 1 s of 1000 Hz A-law from t=2.0, then telephone-event and RTCP
    for i, payload in enumerate(tone_frames(1000, 50, alaw=True)):
        frame = ipv4_udp(AGENT, ("127.0.0.1", PORT_A), rtp(8, i, 90000 + 160 * i, 22, payload))
        records.append((START + 2.0 + 0.02 * i, frame))
    records.append(
        (
            START + 3.0,
            ipv4_udp(AGENT, ("127.0.0.1", PORT_A), rtp(101, 60, 0, 22, b"\x05\x8a\x00\xa0")),
        )
    )
    records.append(
        (START + 3.0, ipv4_udp(AGENT, ("127.0.0.1", PORT_A + 1), b"\x80\xc8" + b"\x00" * 26))
    )
    f = tmp_path / "call.pcap"
    write_pcap(f, records)
    samples, stats = pcap.render(
        pcap.read_pcap(f),
        start=START,
        end=START + 4.0,
        channel_of_port={PORT_C: 0},
        default_channel=1,
        channels=2,
    )
    assert samples.shape == (32000, 2)
    assert stats.placed == {0: 50, 1: 50} and stats.duplicates == 1
    assert stats.skipped_payload_types == {101: 1}
    left, right = samples[:, 0], samples[:, 1]

    def at(x: np.ndarray, a: float, b: float) -> np.ndarray:
        return x[int(a * 8000) : int(b * 8000)]

    # left: the tone within 0.5 s .. 1.5 s (anchored on the first packet's arrival), seamless
    assert _rms(at(left, 0.0, 0.5)) == 0 and _rms(at(left, 1.54, 4.0)) == 0
    seg = at(left, 0.55, 1.45)
    assert _rms(seg) > 4000
    assert np.count_nonzero(np.abs(seg) < 50) < len(seg) * 0.05  # no gaps from jitter
    crossings = np.count_nonzero(np.diff(np.signbit(seg)))
    assert abs(crossings / 2 / 0.9 - 440) < 10
    assert _rms(at(right, 2.02, 2.98)) > 4000 and _rms(at(right, 0, 1.99)) == 0
    # unmatched ports are skipped when there is no default channel
    _, stats = pcap.render(
        pcap.read_pcap(f),
        start=START,
        end=START + 4.0,
        channel_of_port={PORT_C: 0},
        default_channel=None,
        channels=1,
    )
    assert stats.unmatched == 50 + 2 and stats.placed == {0: 50}


def test_render_paused_span_is_silence_and_length_is_exact(tmp_path: Path) -> None:
    f = tmp_path / "p.pcap"
    records = [
        (START + 0.02 * i, ipv4_udp(CUSTOMER, ("127.0.0.1", PORT_C), rtp(0, i, 160 * i, 5, p)))
        for i, p in enumerate(tone_frames(440, 100))
    ]
    write_pcap(f, records)
    samples, _ = pcap.render(
        pcap.read_pcap(f), start=START, end=START + 2.5, paused=[(START + 0.5, START + 1.0)]
    )
    assert samples.shape == (20000, 1)
    assert _rms(samples[4000:8000]) == 0
    assert _rms(samples[1000:3900]) > 4000 and _rms(samples[8100:15900]) > 4000
    with pytest.raises(MediaError, match="before it starts"):
        pcap.render([], start=START, end=START - 1)


def test_write_wav(tmp_path: Path) -> None:
    import wave

    samples = np.zeros((800, 2), dtype=np.int16)
    samples[:, 1] = 1000
    pcap.write_wav(tmp_path / "x.wav", samples)
    with wave.open(str(tmp_path / "x.wav")) as w:
        assert (w.getnchannels(), w.getframerate(), w.getnframes()) == (2, 8000, 800)
        frames = np.frombuffer(w.readframes(800), dtype="<i2").reshape(-1, 2)
    assert (frames[:, 0] == 0).all() and (frames[:, 1] == 1000).all()
