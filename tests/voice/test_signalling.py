"""Bad SIP gets the proper response and never disturbs other calls.

The SIP side of the telephony service runs for real (sippy on its own thread,
UDP on 127.0.0.1); requests are written by hand so they can be wrong."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain.errors import ConfigError
from switchboard.voice.config import voice_config
from switchboard.voice.signalling import IncomingCall, LegEnded, Signalling
from switchboard.voice.sipstack import normalise_transport
from tests.voice.sipclient import SDP, SipClient, challenge, digest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ivr"
REALM = "switchboard-test"


class Events:
    def __init__(self) -> None:
        self.items: list[object] = []
        self.cond = threading.Condition()

    def __call__(self, event: object) -> None:
        with self.cond:
            self.items.append(event)
            self.cond.notify_all()

    def wait(self, kind: type[Any], timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for item in self.items:
                    if isinstance(item, kind):
                        self.items.remove(item)
                        return item
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind.__name__} within {timeout} s: {self.items}")
                self.cond.wait(left)


def make(trunks: dict[str, Any], **extra: Any) -> tuple[Signalling, Events]:
    cfg = voice_config({
        "sip": {"port": 0, "realm": REALM},
        "trunks": trunks,
        "numbers": {"100": {"tenant": "t1", "flow": str(EXAMPLES / "sales.yaml")}},
        "phones": {"ada": {"tenant": "t1", "agent": "a1", "password": "ada-pw"}},
        **extra})
    events = Events()
    return Signalling(cfg, events), events


@pytest.fixture
def open_trunk() -> Iterator[tuple[Signalling, Events, SipClient]]:
    """Calls from 127.0.0.1 accepted without authentication."""
    sig, events = make({"local": {"addresses": ["127.0.0.1"]}},
                       reap={"every_s": 0.5, "after_s": 1.0})
    sig.start()
    client = SipClient(sig.port)
    yield sig, events, client
    client.close()
    sig.stop()


@pytest.fixture
def auth_trunk() -> Iterator[tuple[Signalling, Events, SipClient]]:
    """A trunk that must authenticate (its address list names another host)."""
    sig, events = make({"carrier": {"addresses": ["192.0.2.7"], "username": "carrier",
                                    "password": "s3cret"}})
    sig.start()
    client = SipClient(sig.port)
    yield sig, events, client
    client.close()
    sig.stop()


def invite(client: SipClient, sig: Signalling, number: str = "100", **kw: Any) -> str:
    return client.request("INVITE", ruri=f"sip:{number}@127.0.0.1:{sig.port}",
                          to=f"sip:{number}@127.0.0.1", body=SDP.format(port=4000), **kw)


def test_transport_parameter_is_lowered_before_sippy_parses() -> None:
    assert normalise_transport(b"Contact: <sip:a@h:5;transport=UDP>") == \
        b"Contact: <sip:a@h:5;transport=udp>"
    assert normalise_transport(b"sip:a@h;TRANSPORT=Tcp;lr") == b"sip:a@h;transport=tcp;lr"
    same = b"INVITE sip:a@h SIP/2.0"
    assert normalise_transport(same) is same


def test_options_is_answered_with_allow(open_trunk: Any) -> None:
    sig, _, client = open_trunk
    client.request("OPTIONS", ruri=f"sip:127.0.0.1:{sig.port}", to="sip:x@127.0.0.1")
    resp = client.recv()
    assert resp is not None and resp.code == 200
    assert "INVITE" in (resp.header("allow") or "")


def test_unknown_number_is_404_and_a_known_one_is_admitted(open_trunk: Any) -> None:
    sig, events, client = open_trunk
    invite(client, sig, number="999")
    resp = client.recv()
    assert resp is not None and resp.code == 404
    call_id = invite(client, sig, contact_params=";transport=UDP")  # as sipp writes it
    call = events.wait(IncomingCall)
    assert (call.number, call.call_id, call.trunk) == ("100", call_id, "local")
    assert call.sdp is not None and "m=audio 4000" in call.sdp
    assert sig.refused == {404: 1}


def test_unknown_peer_without_credentials_is_403() -> None:
    sig, events = make({"elsewhere": {"addresses": ["192.0.2.1"]}})
    sig.start()
    client = SipClient(sig.port)
    try:
        invite(client, sig)
        resp = client.recv()
        assert resp is not None and resp.code == 403
        assert not events.items
    finally:
        client.close()
        sig.stop()


def test_trunk_digest_challenge_then_wrong_then_right(auth_trunk: Any) -> None:
    sig, events, client = auth_trunk
    invite(client, sig)
    first = client.recv()
    assert first is not None and first.code == 401
    ch = challenge(first)
    assert ch["realm"] == REALM and ch["nonce"]
    uri = f"sip:100@127.0.0.1:{sig.port}"
    wrong = digest("carrier", "guess", REALM, ch["nonce"], "INVITE", uri)
    invite(client, sig, extra=f"Authorization: {wrong}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 403
    other_user = digest("nobody", "s3cret", REALM, ch["nonce"], "INVITE", uri)
    invite(client, sig, extra=f"Authorization: {other_user}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 403
    assert not events.items
    right = digest("carrier", "s3cret", REALM, ch["nonce"], "INVITE", uri)
    invite(client, sig, extra=f"Authorization: {right}\n")
    call = events.wait(IncomingCall)
    assert call.trunk == "carrier"
    # Authenticated but for an unknown number: still 404.
    invite(client, sig, number="555", extra=f"Authorization: {right}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 404


def test_forged_nonce_is_refused(auth_trunk: Any) -> None:
    sig, events, client = auth_trunk
    uri = f"sip:100@127.0.0.1:{sig.port}"
    forged = digest("carrier", "s3cret", REALM, "bm90LWEtbm9uY2U", "INVITE", uri)
    invite(client, sig, extra=f"Authorization: {forged}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 403
    assert not events.items


def test_bye_and_cancel_for_unknown_dialogs_are_481(open_trunk: Any) -> None:
    sig, _, client = open_trunk
    for method in ("BYE", "INFO"):
        client.request(method, ruri=f"sip:100@127.0.0.1:{sig.port}", to="sip:100@127.0.0.1",
                       to_tag="nosuchdialog")
        resp = client.recv()
        assert resp is not None and resp.code == 481, method
    client.request("CANCEL", ruri=f"sip:100@127.0.0.1:{sig.port}", to="sip:100@127.0.0.1")
    resp = client.recv()
    assert resp is not None and resp.code == 481
    client.request("SUBSCRIBE", ruri=f"sip:100@127.0.0.1:{sig.port}", to="sip:100@127.0.0.1")
    resp = client.recv()
    assert resp is not None and resp.code == 405


def test_malformed_requests_are_400_or_dropped_and_calls_go_on(open_trunk: Any) -> None:
    sig, events, client = open_trunk
    call_id = invite(client, sig)
    call = events.wait(IncomingCall)
    assert call.call_id == call_id
    via = f"Via: SIP/2.0/UDP 127.0.0.1:{client.port};branch=z9hG4bKbad"
    # No Via: nothing can be answered (RFC 3261 8.2, 18.2.2): dropped. Not SIP: dropped.
    client.send("INVITE sip:100@127.0.0.1 SIP/2.0\nFrom: <sip:a@b>;tag=1\nTo: <sip:100@c>\n"
                "Call-ID: x1\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
    client.send("hello there, this is not a SIP message at all, not even close\n\n")
    assert client.recv(timeout=1.0) is None
    # A CSeq that is no number, and a Content-Length past the datagram's end: 400.
    client.send(f"INVITE sip:100@127.0.0.1 SIP/2.0\n{via}1\nFrom: <sip:a@127.0.0.1>;tag=1\n"
                f"To: <sip:100@127.0.0.1>\nCall-ID: x2\nCSeq: banana INVITE\n"
                f"Content-Length: 0\n\n")
    resp = client.recv()
    assert resp is not None and resp.code == 400 and resp.header("call-id") == "x2"
    assert ";tag=" in (resp.header("to") or "")
    client.send(f"OPTIONS sip:100@127.0.0.1 SIP/2.0\n{via}2\nFrom: <sip:a@127.0.0.1>;tag=1\n"
                f"To: <sip:100@127.0.0.1>\nCall-ID: x3\nCSeq: 1 OPTIONS\n"
                f"Content-Length: 500\n\nshort")
    resp = client.recv()
    assert resp is not None and resp.code == 400 and resp.header("call-id") == "x3"
    # The admitted call is untouched: it can still be answered.
    sig.answer(call.leg, SDP.format(port=4002))
    resp = client.recv()
    assert resp is not None and resp.code == 200 and "m=audio 4002" in resp.body
    assert resp.header("call-id") == call_id


def test_register_needs_the_phones_password_and_a_sane_expiry(open_trunk: Any) -> None:
    sig, _, client = open_trunk
    ruri = f"sip:127.0.0.1:{sig.port}"
    reg = {"ruri": ruri, "to": "sip:ada@127.0.0.1", "from_user": "ada"}
    client.request("REGISTER", **reg, extra="Expires: 120\n")
    first = client.recv()
    assert first is not None and first.code == 401
    nonce = challenge(first)["nonce"]
    bad = digest("ada", "nope", REALM, nonce, "REGISTER", ruri)
    client.request("REGISTER", **reg, extra=f"Expires: 120\nAuthorization: {bad}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 403
    good = digest("ada", "ada-pw", REALM, nonce, "REGISTER", ruri)
    client.request("REGISTER", **reg, extra=f"Expires: 5\nAuthorization: {good}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 423 and resp.header("min-expires") == "60"
    assert sig.registrar.lookup("ada", time.monotonic()) is None
    client.request("REGISTER", **reg, extra=f"Expires: 120\nAuthorization: {good}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 200
    assert "expires=120" in (resp.header("contact") or "")
    binding = sig.registrar.lookup("ada", time.monotonic())
    assert binding is not None and binding.port == client.port
    client.request("REGISTER", ruri=ruri, to="sip:bob@127.0.0.1", from_user="bob")
    resp = client.recv()
    assert resp is not None and resp.code == 404
    # Unregister.
    client.request("REGISTER", **reg, cseq=2, extra=f"Expires: 0\nAuthorization: {good}\n")
    resp = client.recv()
    assert resp is not None and resp.code == 200
    assert sig.registrar.lookup("ada", time.monotonic()) is None


def test_a_connected_peer_that_vanishes_is_reaped(open_trunk: Any) -> None:
    sig, events, client = open_trunk
    invite(client, sig)
    call = events.wait(IncomingCall)
    sig.answer(call.leg, SDP.format(port=4004))
    resp = client.recv()
    assert resp is not None and resp.code == 200
    client.close()  # the peer is gone without a BYE: OPTIONS go unanswered
    ended = events.wait(LegEnded, timeout=10)
    assert (ended.leg, ended.reason) == (call.leg, "reaped")


def test_a_second_service_in_one_process_is_refused(open_trunk: Any) -> None:
    other, _ = make({"local": {"addresses": ["127.0.0.1"]}})
    with pytest.raises(ConfigError, match="already runs"):
        other.start()


def test_configuration_errors_name_the_field(tmp_path: Path) -> None:
    cases = [
        ({"sip": {"port": 70000}}, "sip.port"),
        ({"rtpengine": {"start": False}}, "rtpengine.ng"),
        ({"rtpengine": {"start": False, "ng": "127.0.0.1:2223"}}, "rtpengine.dtmf"),
        ({"trunks": {"t": {"username": "u"}}}, "trunks.t.password"),
        ({"numbers": {"100": {"tenant": "t1", "flow": "missing.yaml"}}}, "numbers.100.flow"),
        ({"phones": {"ada": {"tenant": "t1", "agent": "a"}}}, "phones.ada"),
        ({"queue": {"callback_key": "x"}}, "queue.callback_key"),
        ({"sip": {"colour": "blue"}}, "sip.colour"),
    ]
    for data, field in cases:
        with pytest.raises(ConfigError) as err:
            voice_config(data, base=tmp_path)
        assert err.value.field == field, (data, err.value)
    bad_flow = tmp_path / "bad.yaml"
    bad_flow.write_text("name: x\nstart: nowhere\nsteps: {a: {type: hangup}}\n")
    with pytest.raises(ConfigError, match="nowhere"):
        voice_config({"numbers": {"100": {"tenant": "t1", "flow": "bad.yaml"}}}, base=tmp_path)
