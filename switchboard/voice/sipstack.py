"""sippy in its own thread: the SIP transaction layer on one UDP address.

sippy (PyPI ``sippy``, an RFC 3261 stack) runs its own event loop, the
process-wide singleton ``ED2``: every sippy object (transactions, user agents,
timers) must be created and used on the thread that runs that loop. This
module owns that thread. Other threads hand work to it with :meth:`SipThread.call`
(``ED2.callFromThread``; it runs within one tick of ``ED2``'s 100 Hz loop), and
the work posts results back to asyncio with ``loop.call_soon_threadsafe``.

Because ``ED2`` is a singleton, one :class:`SipThread` runs per process at a
time (a second ``start`` raises). Stopping it shuts the UDP server, ends the
loop and drops every timer left, so a later ``start`` begins clean.

Incoming datagrams are normalised before sippy parses them: sippy knows the
URI parameter ``transport`` only in lower case and drops a request whose
Contact says ``;transport=UDP`` (as sipp writes it), so the value is lowered.
"""

from __future__ import annotations

import gc
import logging
import re
import secrets
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

from switchboard.domain.errors import ConfigError

logger = logging.getLogger("switchboard.voice.sip")

_RUNNING = threading.Lock()

RequestHandler = Callable[[Any, Any], Any]


def normalise_transport(data: bytes) -> bytes:
    """``data`` with every ``;transport=XYZ`` URI parameter value in lower case
    (RFC 3261 section 19.1.4 compares them case-insensitively; sippy does not)."""
    if b";transport=" not in data.lower():
        return data
    return re.sub(rb"(?i);transport=([A-Za-z]+)",
                  lambda m: b";transport=" + m.group(1).lower(), data)


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id"}
_ECHOED = ("via", "from", "to", "call-id", "cseq")


def bad_request_response(data: bytes) -> bytes | None:
    """The ``400 Bad Request`` for a request sippy cannot parse, built from its
    raw text; None when it cannot be answered (not a request, an ACK, or a
    Via, From, To, Call-ID or CSeq missing: RFC 3261 sections 8.2 and 18.2.2)."""
    text = data.decode("utf-8", "replace")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = re.split(r"\r?\n", head)
    first = lines[0].split()
    if len(first) != 3 or not first[2].startswith("SIP/") or first[0] in ("ACK", "SIP/2.0"):
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            continue
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        if key in _ECHOED:
            found.setdefault(key, []).append(value.strip())
    if any(not found.get(k) for k in _ECHOED):
        return None
    to = found["to"][0]
    if ";tag=" not in to.lower():
        to += ";tag=" + secrets.token_hex(8)
    out = ["SIP/2.0 400 Bad Request"]
    out += [f"Via: {v}" for v in found["via"]]
    out += [f"From: {found['from'][0]}", f"To: {to}", f"Call-ID: {found['call-id'][0]}",
            f"CSeq: {found['cseq'][0]}", "Content-Length: 0", "", ""]
    return "\r\n".join(out).encode()


class _Parse:
    """Set by sippy's (redirected) exception reporter when it fails to parse."""

    failed = False


def _report(msg: str, f: Any = None, extra: Any = None) -> None:
    """sippy's ``dump_exception``, sent to Python logging instead of stdout."""
    if "can't parse" in msg:
        _Parse.failed = True
        logger.info("%s (%s)", msg, sys.exc_info()[1])
    else:
        logger.warning("sippy: %s", msg, exc_info=True)


class _SipLog:
    """sippy's logger interface; messages go to Python logging at DEBUG."""

    def write(self, *args: Any, **_: Any) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s", "".join(str(a) for a in args))


class _Loop:
    """The one thread that runs sippy's ``ED2`` loop, for the life of the process.

    ``ED2`` and its C helper (elperiodic) bind to the first thread that runs
    the loop: running it on a second thread later crashes the interpreter. So
    the loop thread is started once and never stopped; services come and go
    on it (their transaction manager and timers are created and dropped there).
    """

    _lock = threading.Lock()
    _thread: threading.Thread | None = None

    @classmethod
    def ensure(cls) -> None:
        with cls._lock:
            if cls._thread is not None and cls._thread.is_alive():
                return
            started = threading.Event()
            cls._thread = threading.Thread(target=cls._run, args=(started,), name="sip-loop",
                                           daemon=True)
            cls._thread.start()
            started.wait(10)

    @staticmethod
    def _run(started: threading.Event) -> None:
        from sippy.Core.EventDispatcher import ED2

        ED2.my_ident = threading.get_ident()
        started.set()
        while True:
            try:
                ED2.loop()
            except BaseException:
                logger.exception("the SIP event loop failed; restarting it")

    @staticmethod
    def call(fn: Callable[..., Any], *args: Any) -> None:
        from sippy.Core.EventDispatcher import ED2

        if threading.get_ident() == ED2.my_ident:
            fn(*args)
        else:
            ED2.callFromThread(fn, *args)


class SipThread:
    """A transaction manager on ``address``:``port`` (port 0: a free one;
    :attr:`port` tells which after :meth:`start`), living on the SIP loop thread.

    ``on_request(request, transaction)`` is sippy's request callback for
    requests that no dialog claims (new INVITEs, REGISTER, OPTIONS, strays);
    it runs on the SIP thread and returns sippy's ``(response, cancel_cb,
    noack_cb)`` tuple or None.
    """

    def __init__(self, address: str, port: int, on_request: RequestHandler) -> None:
        self.address = address
        self.port = port
        self.on_request = on_request
        self.global_config: dict[str, Any] = {}
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tm: Any = None
        self._owns_lock = False

    def start(self, timeout: float = 10.0) -> None:
        """Bind the UDP socket; returns once SIP is listening. Raises
        :class:`ConfigError` when the address cannot be bound."""
        if not _RUNNING.acquire(blocking=False):
            raise ConfigError("a SIP service already runs in this process (sippy's event "
                              "loop is a singleton)", field="sip")
        self._owns_lock = True
        _Loop.ensure()
        _Loop.call(self._setup)
        if not self._ready.wait(timeout):
            self.stop()
            raise ConfigError(f"the SIP stack did not start within {timeout:g} s",
                              field="sip.port")
        if self._error is not None:
            err = self._error
            self.stop()
            raise ConfigError(f"cannot listen for SIP on {self.address}:{self.port}: {err}",
                              field="sip.port") from None

    def _setup(self) -> None:
        from sippy.SipConf import SipConf
        from sippy.SipTransactionManager import SipTransactionManager

        class TransactionManager(SipTransactionManager):  # type: ignore[misc]
            def handleIncoming(self, data_in: Any, ra: Any, server: Any, rtime: Any) -> None:
                if isinstance(data_in, bytes):
                    data_in = normalise_transport(data_in)
                _Parse.failed = False
                try:
                    super().handleIncoming(data_in, ra, server, rtime)
                except Exception:  # sippy trips over some malformed input itself
                    logger.info("cannot handle a datagram from %s", ra, exc_info=True)
                    _Parse.failed = True
                if _Parse.failed and isinstance(data_in, bytes):
                    resp = bad_request_response(data_in)
                    if resp is not None:
                        server.send_to(resp, ra.address)

        import sippy.Core.EventDispatcher
        import sippy.Network_server
        import sippy.SipTransactionManager

        for module in (sippy.SipTransactionManager, sippy.Network_server,
                       sippy.Core.EventDispatcher):
            module.dump_exception = _report  # sippy's own reporter writes to stdout
        SipConf.my_uaname = "Switchboard"
        SipConf.allow_formats = None
        self.global_config.update({"_sip_address": self.address, "_sip_port": self.port,
                                   "_sip_logger": _SipLog()})
        try:
            # sippy probes IPv6 support with a socket it never closes; that
            # ResourceWarning is sippy's, once per start. start() waits for this,
            # so no other thread is changing the warning filters meanwhile.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                tm = TransactionManager(self.global_config, self.on_request)
                gc.collect()
            tm.provisional_retr = 0
            self.global_config["_sip_tm"] = tm
            self._tm = tm
            servers = list(tm.l4r.cache_l2s.values())
            if servers:
                self.port = int(servers[0].uopts.laddress[1])
        except BaseException as exc:  # bind failure: report it to start()
            self._error = exc
        self._ready.set()

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the SIP thread (from any thread)."""
        _Loop.call(fn, *args)

    @property
    def running(self) -> bool:
        return self._tm is not None

    def stop(self, timeout: float = 5.0) -> None:
        """Close the socket and drop every timer; the loop thread stays."""
        from sippy.Core.EventDispatcher import ED2

        done = threading.Event()

        def shutdown() -> None:
            tm, self._tm = self._tm, None
            try:
                if tm is not None:
                    tm.shutdown()
            except Exception:
                logger.exception("SIP transaction manager shutdown failed")
            finally:
                # Timers of this service must not fire into the next one (one
                # service runs at a time, so every timer is this one's).
                ED2.tlisteners = []
                ED2.twasted = 0
                done.set()

        if self._ready.is_set():
            _Loop.call(shutdown)
            if not done.wait(timeout):
                logger.error("the SIP service did not stop within %.1f s", timeout)
        if self._owns_lock:
            self._owns_lock = False
            _RUNNING.release()
