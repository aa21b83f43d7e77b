"""DTMF digits from rtpengine's ``--dtmf-log-dest``: JSON over UDP.

rtpengine sends one datagram per RFC 4733 event when the event ends, e.g.
``{"callid": "c1", "source_tag": "t1", "tags": ["t1", "t2"], "type": "DTMF",
"timestamp": 1732281000, "source_ip": "127.0.0.1", "event": 5,
"duration": 200, "volume": 10}`` (``duration`` in ms, ``volume`` in -dBm0).
Event codes map to digits as RFC 4733 section 3.2 defines: 0-9, 10 ``*``,
11 ``#``, 12-15 ``A``-``D`` (16 is flash).

:class:`DtmfListener` binds the UDP port (give its ``address`` to
:class:`~switchboard.media.daemon.RtpengineConfig` as ``dtmf_log_dest``) and
hands each parsed :class:`DtmfEvent` to a callback from its own thread (an
asyncio caller passes ``lambda e: loop.call_soon_threadsafe(queue.put_nowait, e)``)
or, without a callback, queues it for :meth:`DtmfListener.get`.
"""

from __future__ import annotations

import json
import logging
import queue
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.media.errors import MediaError

log = logging.getLogger(__name__)

#: RFC 4733 section 3.2: named telephone events 0-16.
EVENT_DIGITS = "0123456789*#ABCD!"


@dataclass(frozen=True, slots=True, kw_only=True)
class DtmfEvent:
    """One DTMF digit a call participant sent.

    ``call_id``/``source_tag``: the call and the participant (SIP tag) that
    pressed the key; ``tags``: every tag in the call; ``digit``: ``0-9 * #
    A-D`` (``!`` for flash); ``event``: the RFC 4733 code; ``duration_ms``,
    ``volume`` (-dBm0), ``source_ip`` and ``timestamp`` (POSIX seconds) as
    rtpengine reports them; ``source_label`` when the leg has one.
    """

    call_id: str
    source_tag: str
    tags: tuple[str, ...]
    digit: str
    event: int
    duration_ms: int | None
    volume: int | None
    source_ip: str | None
    timestamp: int | None
    source_label: str | None = None


def parse_dtmf_event(data: bytes) -> DtmfEvent:
    """Parse one datagram from rtpengine's DTMF log.

    Raises :class:`MediaError` naming what is wrong (not JSON, not a DTMF
    message, a missing or mistyped key, an unknown event code).
    """
    try:
        msg = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MediaError(f"DTMF log message is not UTF-8 JSON: {exc}") from None
    if not isinstance(msg, dict):
        raise MediaError("DTMF log message is not a JSON object")
    kind = msg.get("type", "DTMF")
    if kind != "DTMF":
        raise MediaError(f"DTMF log message has type {kind!r}, expected 'DTMF'")
    call_id = msg.get("callid")
    source_tag = msg.get("source_tag")
    event = msg.get("event")
    if not isinstance(call_id, str) or not call_id:
        raise MediaError("DTMF log message has no 'callid' string")
    if not isinstance(source_tag, str):
        raise MediaError("DTMF log message has no 'source_tag' string")
    if isinstance(event, bool) or not isinstance(event, int):
        raise MediaError("DTMF log message has no integer 'event'")
    if not 0 <= event < len(EVENT_DIGITS):
        raise MediaError(f"DTMF event code {event} is not one of RFC 4733's 0-16")
    tags = msg.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise MediaError("DTMF log message's 'tags' is not a list of strings")
    return DtmfEvent(
        call_id=call_id,
        source_tag=source_tag,
        tags=tuple(tags),
        digit=EVENT_DIGITS[event],
        event=event,
        duration_ms=_opt_int(msg, "duration"),
        volume=_opt_int(msg, "volume"),
        source_ip=_opt_str(msg, "source_ip"),
        timestamp=_opt_int(msg, "timestamp"),
        source_label=_opt_str(msg, "source_label"),
    )


def _opt_int(msg: dict[str, object], key: str) -> int | None:
    value = msg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise MediaError(f"DTMF log message's {key!r} is not an integer")
    return value


def _opt_str(msg: dict[str, object], key: str) -> str | None:
    value = msg.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MediaError(f"DTMF log message's {key!r} is not a string")
    return value


class DtmfListener:
    """Receive rtpengine's DTMF log on a UDP port.

    ``host``/``port``: where to listen (port 0: a free one; read
    :attr:`address`). ``on_event``: called from the listener thread for
    each digit; without it events queue up for :meth:`get`. ``on_error``:
    called with the :class:`MediaError` of a datagram that does not parse
    (by default it is logged and dropped: one bad datagram never stops the
    listener). Call :meth:`close` (or use ``with``) to stop it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        on_event: Callable[[DtmfEvent], None] | None = None,
        on_error: Callable[[MediaError], None] | None = None,
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.bind((host, port))
        self._sock.settimeout(0.1)
        self.address: tuple[str, int] = (host, int(self._sock.getsockname()[1]))
        self._on_event = on_event
        self._on_error = on_error
        self._queue: queue.Queue[DtmfEvent] = queue.Queue()
        self._closed = threading.Event()
        self.rejected = 0
        self._thread = threading.Thread(
            target=self._loop, name=f"dtmf-log {host}:{self.address[1]}", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(65535)
            except (TimeoutError, OSError):
                continue
            try:
                event = parse_dtmf_event(data)
            except MediaError as exc:
                self.rejected += 1
                if self._on_error is not None:
                    self._on_error(exc)
                else:
                    log.warning("dropped a DTMF log datagram: %s", exc)
                continue
            if self._on_event is not None:
                try:
                    self._on_event(event)
                except Exception:  # the caller's bug must not end the listener
                    log.exception("DTMF callback failed for %s", event)
            else:
                self._queue.put(event)

    def get(self, timeout: float | None = None) -> DtmfEvent:
        """The next event (only without ``on_event``). Raises ``queue.Empty``
        after ``timeout`` seconds."""
        return self._queue.get(timeout=timeout)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def __enter__(self) -> DtmfListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
