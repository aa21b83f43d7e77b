"""The telephony service's configuration: SIP listener, trunks, numbers, phones.

It is one YAML (or JSON) document, checked as a whole before anything
starts; every mistake is one :class:`~switchboard.domain.errors.ConfigError`
naming the field to fix (``numbers.+390612345678.flow: no such file``).

```yaml
sip: {address: 127.0.0.1, port: 5060, realm: switchboard}
rtpengine: {start: true, interface: 127.0.0.1, port_min: 30000, port_max: 40000}
# or a running one: {start: false, ng: 127.0.0.1:2223, dtmf: 127.0.0.1:2224}
prompts: var/prompts                     # rendered prompts (TTS cache)
trunks:
  carrier:                               # calls from these addresses are accepted;
    addresses: [127.0.0.1]               # with a username, others must authenticate
    username: carrier                    # (digest, RFC 3261 section 22)
    password: s3cret
    outbound: 127.0.0.1:5080             # where callbacks and click-to-dial go
numbers:                                 # the DID (request URI user) picks tenant and flow
  "+390612345678": {tenant: acme, flow: examples/ivr/support.yaml}
phones:                                  # agents' phones: registered (password) or fixed
  ada: {tenant: acme, agent: 8c1f..., password: pw}
  bob: {tenant: acme, agent: 77aa..., address: 127.0.0.1:5070}
queue: {announce_every_s: 30, music: null}
outbound: {dial_timeout_s: 45, callback_retries: 2, retry_after_s: 300}
recording: {calls: true, spool: var/rtpengine}   # record calls (voicemail always is)
```

A DID is matched on the request URI's user part, else the ``To`` user; a
leading ``+`` and the digits must match exactly as written here.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from switchboard.domain.errors import ConfigError
from switchboard.ivr import Flow, FlowError, parse_flow

_USER = re.compile(r"^[A-Za-z0-9_.!~*'()&=+$,;?/-]{1,64}$")
_NUMBER = re.compile(r"^\+?[0-9A-Za-z*#._-]{1,64}$")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError("must be a mapping", field=where)
    return value


def _only(value: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in value:
        if key not in allowed:
            raise ConfigError(f"unknown field; allowed: {', '.join(sorted(allowed))}",
                              field=f"{where}.{key}")


def _text(value: Any, where: str, *, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ConfigError(f"must be a non-empty string of at most {max_len} characters",
                          field=where)
    return value


def _ip(value: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_address(_text(value, where)))
    except ValueError:
        raise ConfigError(f"{value!r} is not an IP address", field=where) from None


def _port(value: Any, where: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 65535:
        raise ConfigError(f"must be a port number {low}..65535, got {value!r}", field=where)
    return value


def _hostport(value: Any, where: str) -> tuple[str, int]:
    text = _text(value, where)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"{text!r} is not ADDRESS:PORT (such as 127.0.0.1:5070)", field=where)
    return _ip(host, where), _port(int(port), where)


def _seconds(value: Any, where: str, *, low: float = 0.0, high: float = 86400.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"must be a number of seconds from {low:g} to {high:g}", field=where)
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundSettings:
    """Calls Switchboard places: how long the customer's phone may ring
    (``dial_timeout_s``), and a callback whose customer did not answer (busy,
    no answer, refused, failed) is tried again ``callback_retries`` times,
    ``retry_after_s`` later each (0 retries: it ends not connected).
    Click-to-dial is never retried: the agent dials again."""

    dial_timeout_s: float = 45.0
    callback_retries: int = 2
    retry_after_s: float = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Trunk:
    """A carrier or PBX that sends calls in (and takes callbacks out).

    A call is accepted from a trunk when its source address is one of
    ``addresses`` (and no ``username`` is set), or when it authenticates with
    ``username``/``password`` (digest). ``outbound`` is where Switchboard
    sends its own calls to customers (callbacks, click-to-dial)."""

    name: str
    addresses: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    outbound: tuple[str, int] | None = None
    caller_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    """A DID: its tenant and the IVR flow its calls run."""

    number: str
    tenant: str
    flow: Flow
    source: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Phone:
    """An agent's SIP phone: it registers as ``username`` with ``password``,
    or it is always at ``address``."""

    username: str
    tenant: str
    agent: str
    password: str | None = None
    address: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RtpengineSettings:
    """Where rtpengine is: started by Switchboard (``start``) on ``interface``
    with ports ``port_min``..``port_max``, or a running one at ``ng`` (whose
    ``dtmf-log-dest`` must be ``dtmf``, where Switchboard listens for keys)."""

    start: bool = True
    ng: tuple[str, int] | None = None
    dtmf: tuple[str, int] = ("127.0.0.1", 0)
    interface: str = "127.0.0.1"
    port_min: int = 30000
    port_max: int = 40000
    media_timeout_s: int = 60


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSettings:
    """What a caller hears while waiting: ``music`` (an audio file, looped;
    none: a soft tone), position and wait announcements every
    ``announce_every_s`` (0: never), and the callback offer (press
    ``callback_key``) when the wait estimate passes the queue's
    ``callback_ewt_s`` (or ``callback_ewt_s`` here for every queue)."""

    announce_every_s: float = 30.0
    music: str | None = None
    callback_key: str = "1"
    callback_ewt_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingSettings:
    """``calls``: record every call from the agent's answer to its end (both
    sides; voicemail is always recorded). ``spool``: rtpengine's recording
    directory (its pcaps, converted to WAV when the call ends); ``media``:
    where WAV files go when Switchboard runs without the API server (the
    server's own media directory is used otherwise)."""

    calls: bool = False
    spool: Path = Path("var/rtpengine")
    media: Path = Path("var/media")


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceConfig:
    """The whole telephony configuration (see the module docstring)."""

    address: str = "127.0.0.1"
    port: int = 5060
    realm: str = "switchboard"
    rtpengine: RtpengineSettings = field(default_factory=RtpengineSettings)
    prompts: Path = Path("var/prompts")
    trunks: tuple[Trunk, ...] = ()
    numbers: Mapping[str, Number] = field(default_factory=dict)
    phones: Mapping[str, Phone] = field(default_factory=dict)
    queue: QueueSettings = field(default_factory=QueueSettings)
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    recording: RecordingSettings = field(default_factory=RecordingSettings)
    register_min_s: int = 60
    register_max_s: int = 3600
    reap_every_s: float = 60.0  # in-dialog OPTIONS to connected peers this often
    reap_after_s: float = 32.0  # no answer for this long: the peer is gone, hang up

    def trunk_for(self, host: str) -> Trunk | None:
        """The trunk whose addresses include ``host`` (None: none does)."""
        for trunk in self.trunks:
            if host in trunk.addresses:
                return trunk
        return None

    def trunk_by_user(self, username: str) -> Trunk | None:
        for trunk in self.trunks:
            if trunk.username == username:
                return trunk
        return None

    def phones_of(self, tenant: str, agent: str) -> list[Phone]:
        return [p for p in self.phones.values() if p.tenant == tenant and p.agent == agent]


def load_voice_config(path: str | Path) -> VoiceConfig:
    """Read and check a configuration file; flows are read relative to it.
    Raises :class:`ConfigError` naming the file and the field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {p}: {exc.strerror}", field="voice") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{p} is not valid YAML/JSON: {exc}", field="voice") from None
    try:
        return voice_config(data, base=p.parent)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc.message}", field=exc.field) from None


def voice_config(data: Any, *, base: Path = Path(".")) -> VoiceConfig:
    """Build a :class:`VoiceConfig` from parsed YAML/JSON (see the module docstring)."""
    top = _mapping(data, "voice")
    _only(top, {"sip", "rtpengine", "prompts", "trunks", "numbers", "phones", "queue",
                "recording", "register", "reap", "outbound"}, "voice")
    kwargs: dict[str, Any] = {}
    sip = _mapping(top.get("sip"), "sip")
    _only(sip, {"address", "port", "realm"}, "sip")
    if "address" in sip:
        kwargs["address"] = _ip(sip["address"], "sip.address")
    if "port" in sip:
        kwargs["port"] = _port(sip["port"], "sip.port", allow_zero=True)
    if "realm" in sip:
        kwargs["realm"] = _text(sip["realm"], "sip.realm", max_len=100)
    kwargs["rtpengine"] = _rtpengine(_mapping(top.get("rtpengine"), "rtpengine"))
    if "prompts" in top:
        kwargs["prompts"] = base / _text(top["prompts"], "prompts", max_len=1000)
    kwargs["trunks"] = _trunks(_mapping(top.get("trunks"), "trunks"))
    kwargs["numbers"] = _numbers(_mapping(top.get("numbers"), "numbers"), base)
    kwargs["phones"] = _phones(_mapping(top.get("phones"), "phones"))
    kwargs["queue"] = _queue(_mapping(top.get("queue"), "queue"), base)
    kwargs["outbound"] = _outbound(_mapping(top.get("outbound"), "outbound"))
    rec = _mapping(top.get("recording"), "recording")
    _only(rec, {"calls", "spool", "media"}, "recording")
    if "calls" in rec and not isinstance(rec["calls"], bool):
        raise ConfigError("must be true or false", field="recording.calls")
    kwargs["recording"] = RecordingSettings(
        calls=rec.get("calls", False),
        spool=base / _text(rec.get("spool", "var/rtpengine"), "recording.spool", max_len=1000),
        media=base / _text(rec.get("media", "var/media"), "recording.media", max_len=1000))
    reg = _mapping(top.get("register"), "register")
    _only(reg, {"min_s", "max_s"}, "register")
    kwargs["register_min_s"] = int(_seconds(reg.get("min_s", 60), "register.min_s", low=1))
    kwargs["register_max_s"] = int(_seconds(reg.get("max_s", 3600), "register.max_s", low=1))
    if kwargs["register_min_s"] > kwargs["register_max_s"]:
        raise ConfigError("must not exceed register.max_s", field="register.min_s")
    reap = _mapping(top.get("reap"), "reap")
    _only(reap, {"every_s", "after_s"}, "reap")
    kwargs["reap_every_s"] = _seconds(reap.get("every_s", 60.0), "reap.every_s", low=0.5)
    kwargs["reap_after_s"] = _seconds(reap.get("after_s", 32.0), "reap.after_s", low=0.5,
                                      high=600)
    return VoiceConfig(**kwargs)


def _rtpengine(d: Mapping[str, Any]) -> RtpengineSettings:
    _only(d, {"start", "ng", "dtmf", "interface", "port_min", "port_max", "media_timeout_s"},
          "rtpengine")
    kw: dict[str, Any] = {}
    if "start" in d:
        if not isinstance(d["start"], bool):
            raise ConfigError("must be true or false", field="rtpengine.start")
        kw["start"] = d["start"]
    if "ng" in d:
        kw["ng"] = _hostport(d["ng"], "rtpengine.ng")
    if not kw.get("start", True) and "ng" not in kw:
        raise ConfigError("give ng: ADDRESS:PORT of the running rtpengine, or start: true",
                          field="rtpengine.ng")
    if "dtmf" in d:
        kw["dtmf"] = _hostport(d["dtmf"], "rtpengine.dtmf")
    elif not kw.get("start", True):
        raise ConfigError("give dtmf: ADDRESS:PORT, the running rtpengine's dtmf-log-dest "
                          "(where Switchboard listens for keys)", field="rtpengine.dtmf")
    if "interface" in d:
        kw["interface"] = _ip(d["interface"], "rtpengine.interface")
    for name in ("port_min", "port_max"):
        if name in d:
            kw[name] = _port(d[name], f"rtpengine.{name}")
    if kw.get("port_min", 30000) >= kw.get("port_max", 40000):
        raise ConfigError("must be below port_max", field="rtpengine.port_min")
    if "media_timeout_s" in d:
        kw["media_timeout_s"] = int(_seconds(d["media_timeout_s"], "rtpengine.media_timeout_s",
                                             low=1, high=3600))
    return RtpengineSettings(**kw)


def _trunks(d: Mapping[str, Any]) -> tuple[Trunk, ...]:
    out = []
    for name, raw in d.items():
        where = f"trunks.{name}"
        _text(name, where, max_len=64)
        t = _mapping(raw, where)
        _only(t, {"addresses", "username", "password", "outbound", "caller_id"}, where)
        addrs = t.get("addresses", [])
        if not isinstance(addrs, list):
            raise ConfigError("must be a list of IP addresses", field=f"{where}.addresses")
        user = t.get("username")
        password = t.get("password")
        if (user is None) != (password is None):
            raise ConfigError("give both username and password, or neither",
                              field=f"{where}.password")
        if user is not None and not _USER.match(str(user)):
            raise ConfigError(f"{user!r} is not a SIP user name", field=f"{where}.username")
        if not addrs and user is None:
            raise ConfigError("a trunk needs addresses, or a username and password",
                              field=f"{where}.addresses")
        out.append(Trunk(
            name=name, addresses=tuple(_ip(a, f"{where}.addresses") for a in addrs),
            username=user, password=_text(password, f"{where}.password") if password else None,
            outbound=_hostport(t["outbound"], f"{where}.outbound") if "outbound" in t else None,
            caller_id=_text(t["caller_id"], f"{where}.caller_id", max_len=64)
            if "caller_id" in t else None))
    users = [t.username for t in out if t.username]
    if len(users) != len(set(users)):
        raise ConfigError("two trunks share a username", field="trunks")
    return tuple(out)


def _numbers(d: Mapping[str, Any], base: Path) -> dict[str, Number]:
    out: dict[str, Number] = {}
    for number, raw in d.items():
        where = f"numbers.{number}"
        if not isinstance(number, str) or not _NUMBER.match(number):
            raise ConfigError("a number is digits with an optional leading +; quote it in YAML",
                              field=where)
        n = _mapping(raw, where)
        _only(n, {"tenant", "flow"}, where)
        tenant = _text(n.get("tenant"), f"{where}.tenant", max_len=64)
        path = base / _text(n.get("flow"), f"{where}.flow", max_len=1000)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", field=f"{where}.flow") \
                from None
        try:
            flow = parse_flow(text, source=str(path))
        except FlowError as exc:
            raise ConfigError(f"{path}: {exc}", field=f"{where}.flow") from None
        out[number] = Number(number=number, tenant=tenant, flow=flow, source=str(path))
    return out


def _phones(d: Mapping[str, Any]) -> dict[str, Phone]:
    out: dict[str, Phone] = {}
    for user, raw in d.items():
        where = f"phones.{user}"
        if not isinstance(user, str) or not _USER.match(user):
            raise ConfigError("not a SIP user name (letters, digits, . _ - ...)", field=where)
        p = _mapping(raw, where)
        _only(p, {"tenant", "agent", "password", "address"}, where)
        password = p.get("password")
        address = p.get("address")
        if (password is None) == (address is None):
            raise ConfigError("give password (the phone registers) or address (a fixed "
                              "phone), not both", field=where)
        out[user] = Phone(
            username=user, tenant=_text(p.get("tenant"), f"{where}.tenant", max_len=64),
            agent=_text(p.get("agent"), f"{where}.agent", max_len=64),
            password=_text(password, f"{where}.password") if password is not None else None,
            address=_hostport(address, f"{where}.address") if address is not None else None)
    return out


def _queue(d: Mapping[str, Any], base: Path) -> QueueSettings:
    _only(d, {"announce_every_s", "music", "callback_key", "callback_ewt_s"}, "queue")
    kw: dict[str, Any] = {}
    if "announce_every_s" in d:
        kw["announce_every_s"] = _seconds(d["announce_every_s"], "queue.announce_every_s")
    if d.get("music") is not None:
        music = base / _text(d["music"], "queue.music", max_len=1000)
        if not music.is_file():
            raise ConfigError(f"no such file {music}", field="queue.music")
        kw["music"] = str(music.resolve())
    if "callback_key" in d:
        key = str(d["callback_key"])
        if key not in set("0123456789*#"):
            raise ConfigError("must be one key: 0-9, * or #", field="queue.callback_key")
        kw["callback_key"] = key
    if d.get("callback_ewt_s") is not None:
        kw["callback_ewt_s"] = _seconds(d["callback_ewt_s"], "queue.callback_ewt_s")
    return QueueSettings(**kw)


def _outbound(d: Mapping[str, Any]) -> OutboundSettings:
    _only(d, {"dial_timeout_s", "callback_retries", "retry_after_s"}, "outbound")
    kw: dict[str, Any] = {}
    if "dial_timeout_s" in d:
        kw["dial_timeout_s"] = _seconds(d["dial_timeout_s"], "outbound.dial_timeout_s",
                                        low=1.0, high=300.0)
    if "callback_retries" in d:
        n = d["callback_retries"]
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 10:
            raise ConfigError("must be a whole number from 0 to 10",
                              field="outbound.callback_retries")
        kw["callback_retries"] = n
    if "retry_after_s" in d:
        kw["retry_after_s"] = _seconds(d["retry_after_s"], "outbound.retry_after_s")
    return OutboundSettings(**kw)
