"""A client for rtpengine's *ng* control protocol over UDP.

Wire format (rtpengine's ``docs/ng_control_protocol.md``): each datagram is a
cookie, one space, and a bencoded dictionary with a ``command`` key; the reply
carries the same cookie and a dictionary whose ``result`` is ``ok``, ``pong``
or ``error`` (then ``error-reason`` says why). rtpengine caches replies by
cookie, so a retransmission with the same cookie is answered without the
command being run twice.

Theory of operation: one UDP socket per client, one reader thread that owns
it. :meth:`RtpengineClient.submit` sends a request and returns a
``concurrent.futures.Future``; the reader thread matches replies to requests
by cookie, resends a request whose reply is late (same cookie) and fails it
with :class:`RtpengineUnavailable` after the last try. The blocking methods
(:meth:`~RtpengineClient.offer`, ...) wait on that future, so any number of
threads can share a client, and an asyncio caller awaits
``asyncio.wrap_future(client.submit(...))`` without blocking its loop.

Participants ("legs") are named by their SIP tag: the From tag of the side
that sent the offer, the To tag of the side that answered.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from switchboard.media.bencode import BValue, decode, encode
from switchboard.media.errors import BencodeError, MediaError, RtpengineError, RtpengineUnavailable

#: Largest datagram rtpengine sends (its replies to ``query`` grow with the call).
MAX_DATAGRAM = 65535


def sip_side_flags() -> dict[str, BValue]:
    """ng options for the SDP that goes to a SIP phone or trunk (plain RTP/AVP).

    From VOICE.md (proven with sipp, baresip and Chromium on the other side):
    no ICE, no DTLS or SDES, RTCP on its own port, and ``port-latching`` so
    the port the caller sees does not change when the other leg answers.
    """
    return {
        "transport-protocol": "RTP/AVP",
        "ICE": "remove",
        "DTLS": "off",
        "SDES": ["off"],
        "rtcp-mux": ["demux"],
        "replace": ["origin", "session-connection"],
        "flags": ["port-latching", "strip-extmap", "no-rtcp-attribute"],
    }


def browser_side_flags() -> dict[str, BValue]:
    """ng options for the SDP that goes to a browser softphone (WebRTC).

    From VOICE.md: ICE forced, DTLS ``active`` (``passive`` fails when the
    answer is delayed by ringing), RTCP multiplexed, ``generate-mid`` because
    a SIP answer carries no ``a=mid``.
    """
    return {
        "transport-protocol": "UDP/TLS/RTP/SAVPF",
        "ICE": "force",
        "DTLS": "active",
        "SDES": ["off"],
        "rtcp-mux": ["offer", "require"],
        "replace": ["origin", "session-connection"],
        "flags": ["port-latching", "generate-mid"],
    }


def merge_options(*parts: Mapping[str, BValue] | None) -> dict[str, BValue]:
    """Merge ng option dictionaries left to right; list values (``flags``,
    ``replace``, ...) are concatenated without duplicates, others replaced."""
    merged: dict[str, BValue] = {}
    for part in parts:
        if not part:
            continue
        for key, value in part.items():
            old = merged.get(key)
            if isinstance(old, list) and isinstance(value, list | tuple):
                merged[key] = old + [v for v in value if v not in old]
            elif isinstance(value, list | tuple):
                merged[key] = list(value)
            else:
                merged[key] = value
    return merged


@dataclass(frozen=True, slots=True)
class SdpResult:
    """rtpengine's reply to ``offer``/``answer``: the rewritten SDP and the raw reply."""

    sdp: str
    reply: dict[str, Any]

    @property
    def warning(self) -> str | None:
        value = self.reply.get("warning")
        return value if isinstance(value, str) else None


class _Pending:
    __slots__ = ("command", "deadline", "future", "packet", "tries_left")

    def __init__(self, command: str, packet: bytes, deadline: float, tries: int) -> None:
        self.command = command
        self.packet = packet
        self.deadline = deadline
        self.tries_left = tries
        self.future: Future[dict[str, Any]] = Future()


class RtpengineClient:
    """Thread-safe client for one rtpengine ng listener.

    ``address``: (host, port) of rtpengine's ``--listen-ng``.
    ``timeout``: seconds to wait for a reply before resending (per try).
    ``retries``: resends after the first try, each with the same cookie.
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, address: tuple[str, int], *, timeout: float = 1.0, retries: int = 2) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if retries < 0:
            raise ValueError("retries must be zero or more")
        self.address = (address[0], int(address[1]))
        self.timeout = timeout
        self.retries = retries
        family = socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.connect(self.address)
        self._sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._pending: dict[bytes, _Pending] = {}
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)
        self._closed = False
        self._reader = threading.Thread(
            target=self._read_loop,
            name=f"rtpengine-ng {self.address[0]}:{self.address[1]}",
            daemon=True,
        )
        self._reader.start()

    # ---------------------------------------------------------------- plumbing

    def submit(
        self, command: str, fields: Mapping[str, BValue] | None = None
    ) -> Future[dict[str, Any]]:
        """Send ``command`` with ``fields`` (ng keys as rtpengine spells them,
        e.g. ``{"call-id": ...}``) and return a future for the reply dictionary
        (byte strings as ``str``).

        The future fails with :class:`RtpengineError` when rtpengine answers
        ``error``, :class:`RtpengineUnavailable` when no reply comes.
        """
        if self._closed:
            raise RtpengineUnavailable("the rtpengine client is closed")
        cookie = f"{self._prefix}_{next(self._counter)}".encode()
        body = encode({**(fields or {}), "command": command})
        packet = cookie + b" " + body
        if len(packet) > MAX_DATAGRAM:
            raise MediaError(f"{command!r} request of {len(packet)} bytes does not fit a datagram")
        pending = _Pending(command, packet, time.monotonic() + self.timeout, self.retries)
        with self._lock:
            self._pending[cookie] = pending
        try:
            self._sock.send(packet)
        except OSError as exc:
            with self._lock:
                self._pending.pop(cookie, None)
            raise RtpengineUnavailable(
                f"cannot send {command!r} to rtpengine at {self._where()}: {exc}"
            ) from exc
        return pending.future

    def request(self, command: str, fields: Mapping[str, BValue] | None = None) -> dict[str, Any]:
        """Blocking :meth:`submit`: the reply dictionary, or the error raised."""
        return self.submit(command, fields).result()

    def close(self) -> None:
        """Stop the reader thread, close the socket, fail what is still pending."""
        if self._closed:
            return
        self._closed = True
        self._reader.join(timeout=2)
        self._sock.close()
        with self._lock:
            pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(RtpengineUnavailable("the rtpengine client was closed"))

    def __enter__(self) -> RtpengineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def _read_loop(self) -> None:
        while not self._closed:
            try:
                data = self._sock.recv(MAX_DATAGRAM)
            except TimeoutError:
                data = None
            except OSError:
                # ICMP port unreachable (nothing listens yet): resends handle it.
                data = None
            if data is not None:
                self._dispatch(data)
            self._resend_or_expire()

    def _dispatch(self, data: bytes) -> None:
        cookie, sep, body = data.partition(b" ")
        if not sep:
            return
        with self._lock:
            pending = self._pending.pop(cookie, None)
        if pending is None or pending.future.done():
            return  # a late duplicate reply, or not ours
        try:
            reply = decode(body, text=True)
        except BencodeError as exc:
            pending.future.set_exception(
                BencodeError(f"rtpengine's reply to {pending.command!r} is not bencode: {exc}")
            )
            return
        if not isinstance(reply, dict):
            pending.future.set_exception(
                MediaError(f"rtpengine's reply to {pending.command!r} is not a dictionary")
            )
            return
        result = reply.get("result")
        if result == "error":
            reason = reply.get("error-reason")
            pending.future.set_exception(
                RtpengineError(pending.command, reason if isinstance(reason, str) else "no reason")
            )
        elif result in ("ok", "pong"):
            pending.future.set_result(reply)
        else:
            pending.future.set_exception(
                MediaError(f"rtpengine's reply to {pending.command!r} has result {result!r}")
            )

    def _resend_or_expire(self) -> None:
        now = time.monotonic()
        expired: list[_Pending] = []
        resend: list[bytes] = []
        with self._lock:
            for cookie, item in list(self._pending.items()):
                if item.deadline > now:
                    continue
                if item.tries_left <= 0:
                    del self._pending[cookie]
                    expired.append(item)
                else:
                    item.tries_left -= 1
                    item.deadline = now + self.timeout
                    resend.append(item.packet)
        for packet in resend:
            with contextlib.suppress(OSError):  # a lost try; the deadline still runs
                self._sock.send(packet)
        tries = self.retries + 1
        for item in expired:
            item.future.set_exception(
                RtpengineUnavailable(
                    f"no reply from rtpengine at {self._where()} to {item.command!r} "
                    f"after {tries} tries of {self.timeout:g} s"
                )
            )

    # ---------------------------------------------------------------- commands

    def ping(self) -> None:
        """Check that rtpengine answers. Raises :class:`RtpengineUnavailable`."""
        reply = self.request("ping")
        if reply.get("result") != "pong":
            raise MediaError(f"rtpengine answered ping with {reply.get('result')!r}")

    def offer(
        self,
        call_id: str,
        from_tag: str,
        sdp: str,
        options: Mapping[str, BValue] | None = None,
    ) -> SdpResult:
        """Register the offering side of a call and rewrite its SDP.

        ``call_id``: the call (SIP Call-ID or any unique id for a browser call).
        ``from_tag``: the tag of the side that sends this offer.
        ``sdp``: that side's SDP. ``options``: ng keys for the SDP rtpengine
        returns, i.e. flags for the *receiving* side: :func:`sip_side_flags`
        when it goes to a SIP peer, :func:`browser_side_flags` to a browser;
        add ``{"flags": ["record-call"]}`` to record from the start.
        Returns the SDP to send on (rtpengine's addresses and ports).
        """
        fields = {**(options or {}), "call-id": call_id, "from-tag": from_tag, "sdp": sdp}
        reply = self.request("offer", fields)
        return SdpResult(_sdp(reply, "offer"), reply)

    def answer(
        self,
        call_id: str,
        from_tag: str,
        to_tag: str,
        sdp: str,
        options: Mapping[str, BValue] | None = None,
    ) -> SdpResult:
        """Register the answering side (``to_tag``) of the offer from ``from_tag``.

        ``sdp``: the answerer's SDP; ``options``: flags for the SDP going back
        to the offerer (see :meth:`offer`). Returns the SDP for the offerer.
        """
        fields = {**(options or {}), "call-id": call_id, "from-tag": from_tag, "to-tag": to_tag}
        fields["sdp"] = sdp
        reply = self.request("answer", fields)
        return SdpResult(_sdp(reply, "answer"), reply)

    def delete(
        self,
        call_id: str,
        from_tag: str | None = None,
        to_tag: str | None = None,
        *,
        fatal: bool = False,
        delete_delay: int | None = 0,
    ) -> dict[str, Any]:
        """End a call (or one branch of it) and free its ports.

        ``fatal``: an unknown call is an :class:`RtpengineError` (otherwise
        rtpengine replies ok with a warning). ``delete_delay``: seconds rtpengine
        keeps the call in memory afterwards (0: at once; None: its default).
        Returns the reply with the call's final statistics (as :meth:`query`).
        """
        fields: dict[str, BValue] = {"call-id": call_id}
        if from_tag is not None:
            fields["from-tag"] = from_tag
        if to_tag is not None:
            fields["to-tag"] = to_tag
        if fatal:
            fields["flags"] = ["fatal"]
        if delete_delay is not None:
            fields["delete delay"] = delete_delay
        return self.request("delete", fields)

    def query(self, call_id: str, from_tag: str | None = None) -> dict[str, Any]:
        """The call's state: ``created``, ``tags`` (per leg: media, ports,
        endpoints, packet counters) and ``totals``. Unknown call: RtpengineError."""
        fields: dict[str, BValue] = {"call-id": call_id}
        if from_tag is not None:
            fields["from-tag"] = from_tag
        return self.request("query", fields)

    def list_calls(self, limit: int = 32) -> list[str]:
        """Call-ids rtpengine holds now (at most ``limit``: a reply is one datagram)."""
        reply = self.request("list", {"limit": limit})
        calls = reply.get("calls", [])
        return [c for c in calls if isinstance(c, str)]

    def statistics(self) -> dict[str, Any]:
        """rtpengine's global counters (sessions, packet rates, timeouts)."""
        reply = self.request("statistics")
        stats = reply.get("statistics", {})
        return stats if isinstance(stats, dict) else {}

    def play_media(
        self,
        call_id: str,
        tag: str | None = None,
        *,
        file: str | None = None,
        blob: bytes | None = None,
        repeat_times: int = 1,
        start_pos: int | None = None,
        all_legs: bool = False,
    ) -> int | None:
        """Play an audio file to one participant (``tag``) or to all (``all_legs``).

        ``file``: a path rtpengine can read (absolute: rtpengine's working
        directory is not ours), any format its ffmpeg decodes; WAV 8 kHz mono
        16-bit is what :mod:`switchboard.media.prompts` writes. ``blob``: the
        file's bytes instead (short files only: one datagram). ``repeat_times``:
        how often to play it (a large number and :meth:`stop_media` for music
        on hold). ``start_pos``: the frame to start at (from :meth:`stop_media`).
        The file replaces what that leg hears from the other side while it
        plays. Returns the duration in ms of one playback when rtpengine knows it.
        """
        if (file is None) == (blob is None):
            raise ValueError("play_media takes exactly one of file= or blob=")
        if repeat_times < 1:
            raise ValueError("repeat_times must be 1 or more")
        fields = _participant(call_id, tag, all_legs)
        if file is not None:
            fields["file"] = file
        else:
            assert blob is not None
            fields["blob"] = blob
        fields["repeat-times"] = repeat_times
        if start_pos is not None:
            fields["start-pos"] = start_pos
        reply = self.request("play media", fields)
        duration = reply.get("duration")
        return duration if isinstance(duration, int) else None

    def stop_media(
        self, call_id: str, tag: str | None = None, *, all_legs: bool = False
    ) -> int | None:
        """Stop what :meth:`play_media` plays to ``tag``; the leg hears the
        other side again. Returns the last frame played (for ``start_pos``)."""
        reply = self.request("stop media", _participant(call_id, tag, all_legs))
        pos = reply.get("last-frame-pos")
        return pos if isinstance(pos, int) else None

    def play_dtmf(
        self,
        call_id: str,
        tag: str,
        digit: str,
        *,
        duration_ms: int = 250,
        volume_db: int = -8,
        pause_ms: int = 100,
    ) -> None:
        """Inject DTMF ``digit`` (``0-9 * # A-D``) as if participant ``tag`` sent
        it (an RFC 4733 event where the receiver supports it, a tone otherwise).
        The call needs the ``inject-DTMF`` flag in its offer and answer.
        ``duration_ms`` 100-5000, ``volume_db`` 0 (loudest) down to -63,
        ``pause_ms`` between queued digits 100-5000."""
        if len(digit) != 1 or digit not in "0123456789*#ABCD":
            raise ValueError(f"DTMF digit {digit!r} is not one of 0-9 * # A-D")
        fields = _participant(call_id, tag, False)
        fields.update(code=digit, duration=duration_ms, volume=volume_db, pause=pause_ms)
        self.request("play DTMF", fields)

    def block_media(self, call_id: str, tag: str | None = None) -> None:
        """Drop the media that participant ``tag`` sends (the whole call's when
        ``tag`` is None): the other side hears nothing (DTMF still passes)."""
        self.request("block media", _participant(call_id, tag, False))

    def unblock_media(self, call_id: str, tag: str | None = None) -> None:
        """Undo :meth:`block_media` for ``tag`` (the whole call's when None)."""
        self.request("unblock media", _participant(call_id, tag, False))

    def silence_media(self, call_id: str, tag: str | None = None) -> None:
        """Replace what ``tag`` sends with silence (G.711/G.722 only): packets keep
        flowing, so the other side's jitter buffer and NAT bindings stay alive."""
        self.request("silence media", _participant(call_id, tag, False))

    def unsilence_media(self, call_id: str, tag: str | None = None) -> None:
        """Undo :meth:`silence_media`."""
        self.request("unsilence media", _participant(call_id, tag, False))

    def block_dtmf(self, call_id: str, tag: str | None = None) -> None:
        """Stop forwarding ``tag``'s RFC 4733 DTMF to the other side (it is
        still reported to ``dtmf-log-dest``): card digits stay with Switchboard."""
        self.request("block DTMF", _participant(call_id, tag, False))

    def unblock_dtmf(self, call_id: str, tag: str | None = None) -> None:
        """Undo :meth:`block_dtmf`."""
        self.request("unblock DTMF", _participant(call_id, tag, False))

    def start_recording(self, call_id: str) -> None:
        """Record the whole call (every leg, what each party sends) into
        ``<recording-dir>/pcaps/<call-id, %-escaped>-<16 hex>.pcap``; also
        resumes after :meth:`pause_recording` (10.5: in a new file)."""
        self.request("start recording", {"call-id": call_id})

    def pause_recording(self, call_id: str) -> None:
        """Stop writing packets until :meth:`start_recording` resumes.

        Sent as ``stop recording`` with the ``pause`` flag, which every
        version understands (10.5 has no ``pause recording`` command). rtpengine
        10.5 treats it as a stop, so the resumed recording is a new pcap file
        of the same call; :mod:`switchboard.media.recording` joins them.
        """
        self.request("stop recording", {"call-id": call_id, "flags": ["pause"]})

    def stop_recording(self, call_id: str) -> None:
        """Stop recording the call."""
        self.request("stop recording", {"call-id": call_id})


def _participant(call_id: str, tag: str | None, all_legs: bool) -> dict[str, BValue]:
    fields: dict[str, BValue] = {"call-id": call_id}
    if all_legs:
        fields["all"] = "all"
    elif tag is not None:
        fields["from-tag"] = tag
    return fields


def _sdp(reply: dict[str, Any], command: str) -> str:
    sdp = reply.get("sdp")
    if not isinstance(sdp, str):
        raise MediaError(f"rtpengine's reply to {command!r} carries no SDP")
    return sdp


def tags_of(reply: Mapping[str, Any]) -> Sequence[str]:
    """The participant tags in a :meth:`RtpengineClient.query` reply."""
    tags = reply.get("tags", {})
    return [t for t in tags if isinstance(t, str) and t] if isinstance(tags, dict) else []
