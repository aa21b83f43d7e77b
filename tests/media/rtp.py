"""A tiny RTP endpoint for the media tests: a UDP socket that sends and receives
RTP (RFC 3550 section 5.1 header, 12 bytes, no CSRC/extension) with G.711
payloads, and RFC 4733 telephone-events for DTMF.

It plays the part of a SIP phone's media stack, so rtpengine relays real
packets between two real sockets.
"""

from __future__ import annotations

import math
import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from switchboard.media import g711

PCMU = 0
TELEPHONE_EVENT = 101
FRAME = 160  # samples per 20 ms at 8 kHz


def sdp(port: int, session: int, *, host: str = "127.0.0.1") -> str:
    """An SDP offer/answer for PCMU plus telephone-event on ``host:port``."""
    return (
        "v=0\r\n"
        f"o=- {session} {session} IN IP4 {host}\r\n"
        "s=switchboard-test\r\n"
        f"c=IN IP4 {host}\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP {PCMU} {TELEPHONE_EVENT}\r\n"
        f"a=rtpmap:{PCMU} PCMU/8000\r\n"
        f"a=rtpmap:{TELEPHONE_EVENT} telephone-event/8000\r\n"
        f"a=fmtp:{TELEPHONE_EVENT} 0-16\r\n"
        "a=sendrecv\r\n"
    )


def media_address(sdp_text: str) -> tuple[str, int]:
    """The connection address and audio port an SDP announces."""
    host = port = None
    for line in sdp_text.splitlines():
        if line.startswith("c=IN IP4 "):
            host = line.split()[2]
        elif line.startswith("m=audio "):
            port = int(line.split()[1])
    assert host is not None and port is not None, sdp_text
    return host, port


def tone(freq: float, seconds: float, amplitude: float = 8000.0) -> list[int]:
    n = int(seconds * 8000)
    return [int(amplitude * math.sin(2 * math.pi * freq * i / 8000)) for i in range(n)]


@dataclass
class Received:
    arrival: float
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


@dataclass
class RtpEndpoint:
    """Bind a UDP socket on 127.0.0.1 (even port, as RTP wants) and collect what arrives."""

    host: str = "127.0.0.1"
    sock: socket.socket = field(init=False)
    received: list[Received] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(16))
    ts: int = field(default_factory=lambda: random.getrandbits(32))

    def __post_init__(self) -> None:
        for _ in range(50):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((self.host, 0))
            if sock.getsockname()[1] % 2 == 0:
                break
            sock.close()
        self.sock = sock
        self.sock.settimeout(0.05)
        self._thread = threading.Thread(target=self._recv_loop, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def sdp(self, session: int = 1) -> str:
        return sdp(self.port, session, host=self.host)

    def _recv_loop(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(2048)
            except (TimeoutError, OSError):
                continue
            if len(data) < 12 or data[0] >> 6 != 2:
                continue
            b1 = data[1]
            seq, ts, ssrc = struct.unpack("!HII", data[2:12])
            cc = data[0] & 0x0F
            self.received.append(
                Received(
                    time.monotonic(), b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), data[12 + 4 * cc :]
                )
            )

    def packet(self, payload: bytes, payload_type: int, *, marker: bool = False) -> bytes:
        header = struct.pack(
            "!BBHII", 0x80, (0x80 if marker else 0) | payload_type, self.seq, self.ts, self.ssrc
        )
        self.seq = (self.seq + 1) & 0xFFFF
        return header + payload

    def send_audio(self, dest: tuple[str, int], samples: list[int], *, pace: bool = True) -> int:
        """Send ``samples`` as PCMU, 20 ms a packet, paced in real time. Returns packets sent."""
        start = time.monotonic()
        sent = 0
        for i in range(0, len(samples) - FRAME + 1, FRAME):
            frame = samples[i : i + FRAME]
            self.sock.sendto(self.packet(g711.encode_ulaw(frame), PCMU, marker=sent == 0), dest)
            self.ts = (self.ts + FRAME) & 0xFFFFFFFF
            sent += 1
            if pace:
                delay = start + sent * 0.02 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        return sent

    def send_dtmf(self, dest: tuple[str, int], event: int, *, duration_ms: int = 200) -> None:
        """Send one RFC 4733 event: packets every 20 ms, then the end packet three times."""
        steps = max(1, duration_ms // 20)
        for step in range(1, steps + 1):
            end = step == steps
            payload = struct.pack("!BBH", event, (0x80 if end else 0) | 10, step * FRAME)
            copies = 3 if end else 1
            for _ in range(copies):
                self.sock.sendto(self.packet(payload, TELEPHONE_EVENT, marker=step == 1), dest)
            time.sleep(0.02)
        self.ts = (self.ts + steps * FRAME) & 0xFFFFFFFF

    def audio(self) -> list[Received]:
        return [p for p in self.received if p.payload_type == PCMU]

    def wait_for(self, count: int, timeout: float = 5.0, *, payload_type: int = PCMU) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for p in self.received if p.payload_type == payload_type) >= count:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
        self.sock.close()
