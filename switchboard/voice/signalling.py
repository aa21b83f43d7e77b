"""SIP signalling on the SIP thread: admission, dialogs (legs), registrar, reaper.

Everything in :class:`Signalling` whose name starts with ``_`` runs on the SIP
thread (see :mod:`switchboard.voice.sipstack`); the public methods may be
called from any thread and hand their work over. What happens on the wire is
reported with :func:`post` as the frozen events below, which the call
controller receives on the asyncio loop.

Requests that no dialog claims get the response RFC 3261 asks for, and never
touch another call:

- INVITE from an address that is no trunk's, with no trunk credentials to
  try: 403. With credentials configured: 401 and a digest challenge (section
  22), then 403 for a wrong user or password.
- INVITE for a number (request URI user, else ``To`` user) that is not
  configured: 404.
- BYE, CANCEL or any request with a ``To`` tag that matches no dialog: 481.
- REGISTER: digest against the phone's password; 423 below the minimum expiry.
- OPTIONS: 200 with ``Allow``; other methods: 405 with ``Allow``.
- Unparseable requests are answered 400 by sippy when it can build a
  response (it has the Via, From, To, Call-ID and CSeq to do so) and dropped
  otherwise (section 16.3, 8.2: nothing can be sent back).

Legs are sippy ``UA`` objects, one per dialog: inbound (a caller) or outbound
(an agent's phone, a customer dialled back). A reaper sends an in-dialog
OPTIONS to every connected peer every ``reap_every_s``; a peer that answers
nothing (or 408/481) within ``reap_after_s`` is gone: its leg is hung up and
reported ended, so abandoned calls never linger.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from switchboard.voice.config import Phone, Trunk, VoiceConfig
from switchboard.voice.registrar import OutOfOrder, Registrar
from switchboard.voice.sipstack import SipThread

logger = logging.getLogger("switchboard.voice.sip")

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER"


# ---------------------------------------------------------------------- events
@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A caller's INVITE was admitted (trunk and number checked): the leg
    waits for :meth:`Signalling.answer`, ``ring`` or ``reject``."""

    leg: str
    number: str
    caller: str
    caller_name: str | None
    sdp: str | None
    call_id: str
    from_tag: str
    source: tuple[str, int]
    trunk: str | None


@dataclass(frozen=True, slots=True)
class LegRinging:
    leg: str


@dataclass(frozen=True, slots=True)
class LegAnswered:
    """An outbound leg answered (200 to our INVITE), or the peer answered
    our re-INVITE: ``sdp`` is its SDP."""

    leg: str
    sdp: str | None
    to_tag: str | None


@dataclass(frozen=True, slots=True)
class LegFailed:
    """An outbound leg will not answer: ``code`` is the final response
    (486 busy, 480 not registered, 408 no response...)."""

    leg: str
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class LegEnded:
    """The peer hung up (BYE, or CANCEL before the answer), or the reaper
    found it gone (``reason`` ``reaped``)."""

    leg: str
    reason: str = "bye"


@dataclass(slots=True)
class _Leg:
    id: str
    ua: Any
    outbound: bool
    call_id: str = ""
    ping_at: float | None = None
    last_ping: float = field(default_factory=time.monotonic)
    ended: bool = False


# ---------------------------------------------------------------------- service
class Signalling:
    """The SIP side of the telephony service (see the module docstring).

    ``post(event)`` is called on the SIP thread for every event; it must be
    thread-safe (the service passes ``loop.call_soon_threadsafe``'s wrapper).
    """

    def __init__(self, config: VoiceConfig, post: Callable[[object], None]) -> None:
        self.config = config
        self.post = post
        self.registrar = Registrar(config.register_min_s, config.register_max_s)
        self.sip = SipThread(config.address, config.port, self._recv_request)
        self._legs: dict[str, _Leg] = {}
        self._by_ua: dict[int, _Leg] = {}
        self._reaper: Any = None
        #: counters of refused requests by response code (for tests and metrics)
        self.refused: dict[int, int] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.sip.start()
        self.sip.call(self._start_reaper)

    @property
    def port(self) -> int:
        return self.sip.port

    def stop(self) -> None:
        if self.sip.running:
            self.sip.call(self._hangup_all)
        self.sip.stop()

    # ------------------------------------------------------------------ commands (any thread)
    def answer(self, leg: str, sdp: str) -> None:
        """Answer an inbound leg (200 OK with ``sdp``)."""
        self.sip.call(self._answer, leg, sdp)

    def ring(self, leg: str) -> None:
        """Send 180 Ringing on an inbound leg."""
        self.sip.call(self._ring, leg)

    def reject(self, leg: str, code: int, reason: str) -> None:
        """Refuse an inbound leg that is not answered yet (e.g. 480, 503)."""
        self.sip.call(self._reject, leg, code, reason)

    def hangup(self, leg: str) -> None:
        """End a leg: BYE when connected, CANCEL (ours) or 487 (theirs) before."""
        self.sip.call(self._hangup, leg)

    def invite(self, leg: str, target: tuple[str, int], user: str, *, caller: str,
               caller_name: str | None, sdp: str, ruri: str | None = None,
               timeout_s: float | None = None) -> None:
        """Place an outbound call as ``leg`` to ``user`` at ``target`` with ``sdp``
        (``ruri``: the exact request URI, e.g. a registered contact)."""
        self.sip.call(self._invite_out, leg, target, user, caller, caller_name, sdp, ruri,
                      timeout_s)

    def invite_phone(self, leg: str, phone: Phone, *, caller: str, caller_name: str | None,
                     sdp: str, timeout_s: float | None = None) -> None:
        """Ring an agent's phone: its fixed address, or where it registered
        (:class:`LegFailed` 480 when it is not registered)."""
        self.sip.call(self._invite_phone, leg, phone, caller, caller_name, sdp, timeout_s)

    def reinvite(self, leg: str, sdp: str) -> None:
        """Send a re-INVITE with ``sdp`` on a connected leg; the peer's answer
        comes back as :class:`LegAnswered`."""
        self.sip.call(self._reinvite, leg, sdp)

    def legs(self) -> int:
        return len(self._legs)

    # ------------------------------------------------------------------ SIP thread: requests
    def _recv_request(self, req: Any, sip_t: Any) -> Any:
        try:
            return self._route_request(req, sip_t)
        except Exception:
            logger.exception("failed to handle a %s request", req.getMethod())
            return self._refuse(req, 500, "Server Internal Error")

    def _route_request(self, req: Any, sip_t: Any) -> Any:
        method = req.getMethod()
        try:
            to_tag = req.getHFBody("to").getTag()
        except Exception:
            return self._refuse(req, 400, "Bad Request")
        if to_tag is not None:
            if method == "ACK":
                return None
            return self._refuse(req, 481, "Call/Transaction Does Not Exist")
        if method == "INVITE":
            return self._invite_in(req, sip_t)
        if method == "REGISTER":
            return self._register(req)
        if method == "OPTIONS":
            resp = req.genResponse(200, "OK")
            self._header(resp, "allow", ALLOW)
            return (resp, None, None)
        if method == "ACK":
            return None
        if method in ("BYE", "CANCEL"):
            return self._refuse(req, 481, "Call/Transaction Does Not Exist")
        resp = req.genResponse(405, "Method Not Allowed")
        self._header(resp, "allow", ALLOW)
        self.refused[405] = self.refused.get(405, 0) + 1
        return (resp, None, None)

    def _refuse(self, req: Any, code: int, reason: str) -> Any:
        self.refused[code] = self.refused.get(code, 0) + 1
        return (req.genResponse(code, reason), None, None)

    @staticmethod
    def _header(resp: Any, name: str, value: str) -> None:
        from sippy.SipHeader import SipHeader

        resp.appendHeader(SipHeader(name=name, bodys=value))

    def _challenge(self, req: Any, stale: bool = False) -> Any:
        from sippy.SipHeader import SipHeader
        from sippy.SipWWWAuthenticate import SipWWWAuthenticate

        resp = req.genResponse(401, "Unauthorized")
        challenge = SipWWWAuthenticate(realm=self.config.realm, algorithm="MD5")
        if stale:
            challenge.otherparams.append(("stale", "true"))
        resp.appendHeader(SipHeader(body=challenge))
        self.refused[401] = self.refused.get(401, 0) + 1
        return (resp, None, None)

    def _credentials(self, req: Any) -> Any:
        """The request's parsed Authorization header for our realm, or None."""
        if req.countHFs("authorization") == 0:
            return None
        for auth in req.getHFBodys("authorization"):
            try:
                if not auth.parsed:
                    auth.parse()
            except Exception:
                continue
            if auth.realm == self.config.realm:
                return auth
        return None

    def _verify(self, auth: Any, password: str, method: str) -> bool:
        try:
            return bool(auth.verify(password, method))
        except Exception:
            return False

    def _admit(self, req: Any) -> tuple[Trunk | None, Any]:
        """The trunk the INVITE comes from, or the response refusing it."""
        host = req.getSource()[0]
        trunk = self.config.trunk_for(host)
        if trunk is not None and trunk.username is None:
            return trunk, None
        if not any(t.username for t in self.config.trunks):
            return None, self._refuse(req, 403, "Forbidden")
        auth = self._credentials(req)
        if auth is None:
            return None, self._challenge(req)
        by_user = self.config.trunk_by_user(auth.username or "")
        if by_user is None or by_user.password is None \
                or not self._verify(auth, by_user.password, "INVITE"):
            return None, self._refuse(req, 403, "Forbidden")
        return by_user, None

    def _invite_in(self, req: Any, sip_t: Any) -> Any:
        from sippy.UA import UA

        trunk, refusal = self._admit(req)
        if refusal is not None:
            return refusal
        number = req.getRURI().username or req.getHFBody("to").getUrl().username or ""
        if number not in self.config.numbers:
            return self._refuse(req, 404, "Not Found")
        leg = _Leg(id="in-" + secrets.token_hex(8), ua=None, outbound=False,
                   call_id=str(req.getHFBody("call-id")))
        ua = UA(self.sip.global_config, event_cb=partial(self._ua_event, leg),
                dead_cbs=(partial(self._ua_dead, leg),))
        ua.kaInterval = 0
        leg.ua = ua
        self._legs[leg.id] = leg
        self._by_ua[id(ua)] = leg
        source = tuple(req.getSource())
        leg_info = {"number": number, "trunk": trunk.name if trunk else None,
                    "source": (str(source[0]), int(source[1]))}
        ua._switchboard = leg_info  # read back when the UA reports the INVITE
        return ua.recvRequest(req, sip_t)

    def _register(self, req: Any) -> Any:
        to_url = req.getHFBody("to").getUrl()
        username = to_url.username or ""
        phone = self.config.phones.get(username)
        if phone is None or phone.password is None:
            return self._refuse(req, 404, "Not Found")
        auth = self._credentials(req)
        if auth is None:
            return self._challenge(req)
        if auth.username != username or not self._verify(auth, phone.password, "REGISTER"):
            return self._refuse(req, 403, "Forbidden")
        now = time.monotonic()
        call_id = str(req.getHFBody("call-id"))
        cseq = req.getHFBody("cseq").getCSeqNum()
        header_exp: int | None = None
        if req.countHFs("expires") > 0:
            try:
                header_exp = int(req.getHFBody("expires").getNum())
            except Exception:
                return self._refuse(req, 400, "Bad Request")
        contacts = req.getHFBodys("contact") if req.countHFs("contact") > 0 else []
        try:
            for contact in contacts:
                if contact.asterisk:
                    if header_exp != 0 or len(contacts) != 1:
                        return self._refuse(req, 400, "Bad Request")
                    self.registrar.remove_all(username)
                    continue
                raw = contact.address.getParam("expires")
                asked = int(raw) if raw is not None else header_exp
                if self.registrar.too_brief(asked):
                    resp = req.genResponse(423, "Interval Too Brief")
                    self._header(resp, "min-expires", str(self.registrar.min_s))
                    self.refused[423] = self.refused.get(423, 0) + 1
                    return (resp, None, None)
                url = contact.getUrl()
                self.registrar.update(
                    username, str(url), str(url.host), int(url.getPort()), url.username,
                    self.registrar.grant(asked), call_id, cseq, now)
        except OutOfOrder:
            return self._refuse(req, 500, "Server Internal Error")
        except ValueError:
            return self._refuse(req, 400, "Bad Request")
        resp = req.genResponse(200, "OK")
        for b in self.registrar.bindings(username, now):
            left = max(0, round(b.expires_at - now))
            self._header(resp, "contact", f"<{b.uri}>;expires={left}")
        return (resp, None, None)

    # ------------------------------------------------------------------ SIP thread: dialogs
    def _ua_event(self, leg: _Leg, event: Any, ua: Any) -> None:
        from sippy.CCEvents import (
            CCEventConnect,
            CCEventDisconnect,
            CCEventFail,
            CCEventPreConnect,
            CCEventRedirect,
            CCEventRing,
            CCEventTry,
            CCEventUpdate,
        )

        if isinstance(event, CCEventTry):
            info = getattr(ua, "_switchboard", {})
            _cid, cli, _cld, body, _auth, name = event.getData()
            self.post(IncomingCall(
                leg=leg.id, number=info.get("number", ""), caller=cli or "",
                caller_name=name or None, sdp=str(body) if body is not None else None,
                call_id=leg.call_id, from_tag=ua.rUri.getTag() or "",
                source=info.get("source", ("", 0)), trunk=info.get("trunk")))
        elif isinstance(event, CCEventRing | CCEventPreConnect):
            if leg.outbound:
                self.post(LegRinging(leg.id))
        elif isinstance(event, CCEventConnect):
            data = event.getData()
            body = data[2] if isinstance(data, tuple) and len(data) > 2 else None
            to_tag = ua.rUri.getTag() if ua.rUri is not None else None
            self.post(LegAnswered(leg.id, str(body) if body is not None else None, to_tag))
        elif isinstance(event, CCEventUpdate):
            # The peer re-INVITEs (a phone's hold, a session refresh): media stays
            # anchored on the same rtpengine ports, so answer with our SDP as it is.
            ua.recvEvent(CCEventConnect((200, "OK", ua.lSDP)))
        elif isinstance(event, CCEventFail | CCEventRedirect):
            code, reason = self._code(event)
            if ua.isConnected():  # a re-INVITE was refused: the dialog goes on
                self.post(LegFailed(leg.id, code, reason))
            elif not leg.ended:
                leg.ended = True
                self.post(LegFailed(leg.id, code, reason))
        elif isinstance(event, CCEventDisconnect) and not leg.ended:
            leg.ended = True
            self.post(LegEnded(leg.id, "cancel" if not ua.isConnected() and not leg.outbound
                               else "bye"))

    @staticmethod
    def _code(event: Any) -> tuple[int, str]:
        data = event.getData()
        if isinstance(data, tuple) and len(data) >= 2 and isinstance(data[0], int):
            return int(data[0]), str(data[1])
        return 500, "failed"

    def _ua_dead(self, leg: _Leg, *_: Any) -> None:
        self._legs.pop(leg.id, None)
        if leg.ua is not None:
            self._by_ua.pop(id(leg.ua), None)

    def _leg(self, leg_id: str) -> _Leg | None:
        leg = self._legs.get(leg_id)
        if leg is None:
            logger.debug("no SIP leg %s (it ended)", leg_id)
        return leg

    def _answer(self, leg_id: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventConnect
        from sippy.MsgBody import MsgBody

        leg = self._leg(leg_id)
        if leg is not None and not leg.ended:
            leg.ua.recvEvent(CCEventConnect((200, "OK", MsgBody(sdp))))
            leg.last_ping = time.monotonic()

    def _ring(self, leg_id: str) -> None:
        from sippy.CCEvents import CCEventRing

        leg = self._leg(leg_id)
        if leg is not None and not leg.ended:
            leg.ua.recvEvent(CCEventRing((180, "Ringing", None)))

    def _reject(self, leg_id: str, code: int, reason: str) -> None:
        from sippy.CCEvents import CCEventFail

        leg = self._leg(leg_id)
        if leg is not None and not leg.ended:
            leg.ended = True
            leg.ua.recvEvent(CCEventFail((code, reason)))

    def _hangup(self, leg_id: str) -> None:
        from sippy.CCEvents import CCEventDisconnect, CCEventFail

        leg = self._leg(leg_id)
        if leg is None or leg.ended:
            return
        leg.ended = True
        if not leg.outbound and not leg.ua.isConnected():
            leg.ua.recvEvent(CCEventFail((480, "Temporarily Unavailable")))
        else:
            leg.ua.recvEvent(CCEventDisconnect())

    def _hangup_all(self) -> None:
        for leg_id in list(self._legs):
            self._hangup(leg_id)

    def _invite_phone(self, leg_id: str, phone: Phone, caller: str, caller_name: str | None,
                      sdp: str, timeout_s: float | None) -> None:
        if phone.address is not None:
            self._invite_out(leg_id, phone.address, phone.username, caller, caller_name, sdp,
                             None, timeout_s)
            return
        binding = self.registrar.lookup(phone.username, time.monotonic())
        if binding is None:
            self.post(LegFailed(leg_id, 480, f"phone {phone.username} is not registered"))
            return
        self._invite_out(leg_id, (binding.host, binding.port), binding.user or phone.username,
                         caller, caller_name, sdp, binding.uri, timeout_s)

    def _invite_out(self, leg_id: str, target: tuple[str, int], user: str, caller: str,
                    caller_name: str | None, sdp: str, ruri: str | None,
                    timeout_s: float | None) -> None:
        from sippy.CCEvents import CCEventTry
        from sippy.MsgBody import MsgBody
        from sippy.SipCallId import SipCallId
        from sippy.SipURL import SipURL
        from sippy.UA import UA

        leg = _Leg(id=leg_id, ua=None, outbound=True)
        ua = UA(self.sip.global_config, event_cb=partial(self._ua_event, leg),
                nh_address=target, dead_cbs=(partial(self._ua_dead, leg),),
                expire_time=timeout_s)
        ua.kaInterval = 0
        leg.ua = ua
        self._legs[leg_id] = leg
        self._by_ua[id(ua)] = leg
        call_id = SipCallId()
        leg.call_id = str(call_id)

        class Try(CCEventTry):  # type: ignore[misc]
            def onUacSetupComplete(self, uac: Any) -> None:
                if ruri is not None:
                    try:
                        uac.rTarget = SipURL(ruri)
                    except Exception:
                        logger.warning("bad contact URI %r; calling %s@%s", ruri, user, target)

        ua.recvEvent(Try((call_id, caller, user, MsgBody(sdp), None, caller_name)))

    def _reinvite(self, leg_id: str, sdp: str) -> None:
        from sippy.CCEvents import CCEventUpdate
        from sippy.MsgBody import MsgBody

        leg = self._leg(leg_id)
        if leg is not None and not leg.ended and leg.ua.isConnected():
            leg.ua.recvEvent(CCEventUpdate(MsgBody(sdp)))

    # ------------------------------------------------------------------ SIP thread: reaper
    def _start_reaper(self) -> None:
        from sippy.Time.Timeout import Timeout

        tick = max(0.25, min(self.config.reap_every_s, self.config.reap_after_s) / 2)
        self._reaper = Timeout(self._reap, tick, -1)

    def _reap(self) -> None:
        now = time.monotonic()
        for leg in list(self._legs.values()):
            if leg.ended or not leg.ua.isConnected():
                continue
            if leg.ping_at is not None:
                if now - leg.ping_at >= self.config.reap_after_s:
                    self._gone(leg)
            elif now - leg.last_ping >= self.config.reap_every_s:
                self._ping(leg, now)

    def _ping(self, leg: _Leg, now: float) -> None:
        leg.ping_at = now
        try:
            req = leg.ua.genRequest("OPTIONS")
            leg.ua.newTransaction(req, resp_cb=partial(self._pong, leg))
        except Exception:
            logger.exception("leg %s: in-dialog OPTIONS failed", leg.id)

    def _pong(self, leg: _Leg, resp: Any) -> None:
        code = resp.getSCode()[0]
        if code < 200:
            return
        if code in (408, 481):
            self._gone(leg)
            return
        leg.ping_at = None
        leg.last_ping = time.monotonic()

    def _gone(self, leg: _Leg) -> None:
        from sippy.CCEvents import CCEventDisconnect

        if leg.ended:
            return
        logger.info("leg %s: the peer answers nothing; hanging up", leg.id)
        leg.ended = True
        leg.ua.recvEvent(CCEventDisconnect())
        self.post(LegEnded(leg.id, "reaped"))
