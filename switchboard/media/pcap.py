"""rtpengine's pcap recordings turned into WAV.

rtpengine (``--recording-method=pcap``, raw format) writes one classic pcap
file per recording segment: link type 101 (raw IP), one record per RTP packet
a party *sent* to rtpengine (source: the party, destination: rtpengine's
local port for that party). Prompts rtpengine plays are not in it.

File format: the libpcap format (global header of 24 bytes, magic
``0xa1b2c3d4`` or its byte swap, or ``0xa1b23c4d`` for nanosecond stamps; then
records of a 16-byte header and the captured bytes). RTP header: RFC 3550
section 5.1. G.711 payloads (static payload types 0 PCMU and 8 PCMA, RFC 3551
section 6) are decoded with :mod:`switchboard.media.g711`; other payload types
(comfort noise, telephone-events, Opus...) are counted and skipped.

Placement: the WAV's sample 0 is the recording's start time. Each RTP stream
(one channel, one SSRC) is anchored at the capture time of its first packet
and then placed by its RTP timestamps (so network jitter does not shift
audio); a stream whose timestamps drift more than :data:`REANCHOR_S` from the
capture times is anchored again. Streams on one channel are summed (e.g. two
agents in a transfer) with clipping; paused spans are forced to silence.
"""

from __future__ import annotations

import ipaddress
import struct
import wave
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from switchboard.media import g711
from switchboard.media.errors import MediaError

RATE = 8000
REANCHOR_S = 0.5
PCMU, PCMA = 0, 8
_LINK_RAW = (101, 12, 228, 229)  # LINKTYPE_RAW, DLT_RAW, IPv4, IPv6
_LINK_ETHERNET = 1


@dataclass(frozen=True, slots=True)
class UdpPacket:
    """One captured UDP datagram: capture time (POSIX s), addresses, payload."""

    time: float
    src: tuple[str, int]
    dst: tuple[str, int]
    payload: bytes


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


def read_pcap(path: Path) -> Iterator[UdpPacket]:
    """The UDP packets of a pcap file (IPv4 or IPv6; other packets skipped).

    Raises :class:`MediaError` when the file is not a pcap file or has a link
    type this reader does not know. A record cut short at the end (a file
    still being written) ends the iteration.
    """
    data = Path(path).read_bytes()
    if len(data) < 24:
        raise MediaError(f"{path} is not a pcap file (only {len(data)} bytes)")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise MediaError(f"{path} is not a pcap file (magic {magic.hex()})")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in _LINK_RAW and linktype != _LINK_ETHERNET:
        raise MediaError(f"{path}: pcap link type {linktype} is not raw IP or Ethernet")
    record = struct.Struct(endian + "IIII")
    divisor = 1e9 if nano else 1e6
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _orig = record.unpack_from(data, pos)
        pos += 16
        if pos + incl > len(data):
            return
        frame = data[pos : pos + incl]
        pos += incl
        if linktype == _LINK_ETHERNET:
            if len(frame) < 14 or frame[12:14] not in (b"\x08\x00", b"\x86\xdd"):
                continue
            frame = frame[14:]
        udp = _udp(frame)
        if udp is not None:
            src, dst, payload = udp
            yield UdpPacket(sec + frac / divisor, src, dst, payload)


def _udp(frame: bytes) -> tuple[tuple[str, int], tuple[str, int], bytes] | None:
    if not frame:
        return None
    version = frame[0] >> 4
    if version == 4:
        ihl = (frame[0] & 0x0F) * 4
        if len(frame) < ihl + 8 or frame[9] != 17:
            return None
        src_ip = ".".join(str(b) for b in frame[12:16])
        dst_ip = ".".join(str(b) for b in frame[16:20])
        start = ihl
    elif version == 6:
        if len(frame) < 48 or frame[6] != 17:
            return None
        src_ip = _ipv6(frame[8:24])
        dst_ip = _ipv6(frame[24:40])
        start = 40
    else:
        return None
    sport, dport, length = struct.unpack_from("!HHH", frame, start)
    end = min(len(frame), start + length) if length >= 8 else len(frame)
    return (src_ip, sport), (dst_ip, dport), frame[start + 8 : end]


def _ipv6(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def parse_rtp(data: bytes) -> RtpPacket | None:
    """An RTP packet (RFC 3550 §5.1), or None for anything else (RTCP, STUN, DTLS)."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    pt = data[1] & 0x7F
    if 64 <= pt <= 95:  # RTCP packet types 192-223 seen through the marker bit (RFC 5761 §4)
        return None
    cc = data[0] & 0x0F
    start = 12 + 4 * cc
    if data[0] & 0x10:  # header extension: 4 bytes, then a length in 32-bit words
        if len(data) < start + 4:
            return None
        start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
    end = len(data)
    if data[0] & 0x20 and end > start:  # padding: the last byte counts it
        end -= data[-1]
    if end < start:
        return None
    seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
    return RtpPacket(pt, bool(data[1] & 0x80), seq, ts, ssrc, data[start:end])


@dataclass(slots=True)
class RenderStats:
    """What went into a WAV: packets placed per channel, and what was skipped."""

    samples: int = 0
    channels: int = 1
    placed: dict[int, int] = field(default_factory=dict)  # channel -> packets
    skipped_payload_types: dict[int, int] = field(default_factory=dict)
    duplicates: int = 0
    outside: int = 0  # packets before the start or after the end
    unmatched: int = 0  # packets to a port no channel claims

    def to_dict(self) -> dict[str, object]:
        return {
            "samples": self.samples,
            "channels": self.channels,
            "placed": {str(k): v for k, v in self.placed.items()},
            "skipped_payload_types": {str(k): v for k, v in self.skipped_payload_types.items()},
            "duplicates": self.duplicates,
            "outside": self.outside,
            "unmatched": self.unmatched,
        }


def render(
    packets: Iterable[UdpPacket],
    *,
    start: float,
    end: float,
    channel_of_port: Mapping[int, int] | None = None,
    default_channel: int | None = 0,
    channels: int = 1,
    paused: Sequence[tuple[float, float]] = (),
) -> tuple[npt.NDArray[np.int16], RenderStats]:
    """Mix ``packets`` into ``channels`` channels of 8 kHz audio from ``start``
    to ``end`` (POSIX seconds). Returns samples shaped (n, channels) and stats.

    ``channel_of_port``: rtpengine local port (the packet's destination) to
    channel; other ports go to ``default_channel`` (None: skipped, counted in
    ``unmatched``). ``paused``: (from, to) spans forced to silence.
    """
    if end < start:
        raise MediaError(f"recording ends ({end}) before it starts ({start})")
    n = round((end - start) * RATE)
    mix = np.zeros((n, channels), dtype=np.int32)
    stats = RenderStats(samples=n, channels=channels)
    anchors: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, ssrc) -> (pos, rtp ts)
    seen: set[tuple[int, int, int]] = set()
    ports = channel_of_port or {}
    for pkt in packets:
        channel = ports.get(pkt.dst[1], default_channel)
        if channel is None:
            stats.unmatched += 1
            continue
        rtp = parse_rtp(pkt.payload)
        if rtp is None:
            continue
        if rtp.payload_type not in (PCMU, PCMA):
            pt = rtp.payload_type
            stats.skipped_payload_types[pt] = stats.skipped_payload_types.get(pt, 0) + 1
            continue
        key = (channel, rtp.ssrc, rtp.timestamp)
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        arrival = round((pkt.time - start) * RATE)
        anchor = anchors.get((channel, rtp.ssrc))
        pos = arrival
        if anchor is not None:
            delta = (rtp.timestamp - anchor[1]) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 0x100000000
            pos = anchor[0] + delta
            if abs(pos - arrival) > REANCHOR_S * RATE:
                anchor = None
                pos = arrival
        if anchor is None:
            anchors[(channel, rtp.ssrc)] = (arrival, rtp.timestamp)
        pcm = (
            g711.decode_ulaw(rtp.payload)
            if rtp.payload_type == PCMU
            else g711.decode_alaw(rtp.payload)
        )
        lo, hi = max(pos, 0), min(pos + len(pcm), n)
        if hi <= lo:
            stats.outside += 1
            continue
        mix[lo:hi, channel] += pcm[lo - pos : hi - pos]
        stats.placed[channel] = stats.placed.get(channel, 0) + 1
    for p_from, p_to in paused:
        lo = max(round((p_from - start) * RATE), 0)
        hi = min(round((p_to - start) * RATE), n)
        if hi > lo:
            mix[lo:hi, :] = 0
    return np.clip(mix, -32768, 32767).astype(np.int16), stats


def write_wav(path: Path, samples: npt.NDArray[np.int16]) -> None:
    """Write (n, channels) 16-bit samples as an 8 kHz PCM WAV file."""
    channels = samples.shape[1] if samples.ndim == 2 else 1
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.ascontiguousarray(samples).astype("<i2").tobytes())
