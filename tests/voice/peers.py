"""Real SIP peers for the voice tests: sipp callers and baresip agents' phones.

sipp (Debian ``sip-tester``) runs a scenario written here; it sends RFC 2833
DTMF from the pcaps in ``/usr/share/sip-tester/`` and a looping A-law tone
(``rtp_stream``) as the caller's voice. baresip (Debian ``baresip``) registers
to Switchboard, answers by itself (``answermode=auto``) and records what it
hears with its ``sndfile`` module (``dump-*-dec.wav``). It is stopped with
SIGINT (VOICE.md); its audio source is a WAV padded with silence, since it
hangs up when the file ends.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import wave
from pathlib import Path

import pytest

PCAPS = Path("/usr/share/sip-tester")


def need_peers() -> None:
    for exe, package in (("sipp", "sip-tester"), ("baresip", "baresip"),
                         ("rtpengine", "rtpengine-daemon"), ("espeak-ng", "espeak-ng"),
                         ("sox", "sox")):
        if shutil.which(exe) is None:
            pytest.skip(f"{exe} is missing: sh scripts/test-deps.sh installs Debian {package}")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------- audio
def write_tone(path: Path, hz: float, seconds: float, *, law: str = "alaw",
               silence_s: float = 0.0) -> Path:
    """A tone (then silence): raw A-law for sipp's ``rtp_stream``, or WAV."""
    if law == "wav":
        cmd = ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth",
               str(seconds), "sine", str(hz), "vol", "0.5"]
    else:
        cmd = ["sox", "-n", "-r", "8000", "-c", "1", "-t", "al", str(path), "synth",
               str(seconds), "sine", str(hz), "vol", "0.5"]
    if silence_s:
        cmd += ["pad", "0", str(silence_s)]
    subprocess.run(cmd, check=True, capture_output=True)
    return path


def read_wav(path: Path, channel: int = 0) -> tuple[list[int], int]:
    """One channel's 16-bit samples and the sample rate."""
    with wave.open(str(path), "rb") as w:
        rate, n, width, channels = w.getframerate(), w.getnframes(), w.getsampwidth(), \
            w.getnchannels()
        raw = w.readframes(n)
    assert width == 2, f"{path}: {width * 8}-bit samples"
    samples = list(struct.unpack(f"<{len(raw) // 2}h", raw))[channel::channels]
    return samples, rate


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(x * x for x in samples) / len(samples)) if samples else 0.0


def tone_power(samples: list[int], rate: int, hz: float) -> float:
    """Goertzel power of ``hz`` relative to the block's energy (0..1)."""
    if not samples:
        return 0.0
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    energy = sum(x * x for x in samples) * len(samples) / 2
    return power / energy if energy else 0.0


# ---------------------------------------------------------------------- baresip
class Baresip:
    """One baresip phone that registers as ``user`` (password ``password``)
    to the registrar at 127.0.0.1:``registrar_port`` and answers by itself."""

    def __init__(self, directory: Path, user: str, password: str, registrar_port: int,
                 talk: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.user = user
        self.port = free_udp_port()
        (self.dir / "config").write_text(
            "poll_method epoll\n"
            f"sip_listen 127.0.0.1:{self.port}\n"
            "net_interface 127.0.0.1\n"
            f"audio_player aufile,{self.dir / 'player.wav'}\n"
            f"audio_source aufile,{talk}\n"
            f"audio_alert aufile,{talk}\n"
            "module_path /usr/lib/baresip/modules\n"
            "module g711.so\nmodule aufile.so\nmodule sndfile.so\nmodule account.so\n"
            "module menu.so\n"
            f"snd_path {self.dir}\n")
        (self.dir / "accounts").write_text(
            f"<sip:{user}@127.0.0.1:{registrar_port};transport=udp>;auth_pass={password};"
            f"answermode=auto;regint=300\n")
        self.log = self.dir / "baresip.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(["baresip", "-f", str(self.dir)], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def heard(self) -> list[Path]:
        """The recordings of what the phone heard, oldest first."""
        return sorted(self.dir.glob("dump-*-dec.wav"))


# ---------------------------------------------------------------------- sipp
CALLER_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="Switchboard caller: keys {keys}, waits, talks, hangs up">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=UDP>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=UDP>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
{dtmf}
  <pause milliseconds="{before_voice_ms}"/>
  <nop><action><exec rtp_stream="{voice},-1,8"/></action></nop>
  <pause milliseconds="{talk_ms}"/>
{ending}</scenario>
"""

_WE_HANG_UP = """  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port];transport=UDP>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

_THEY_HANG_UP = """  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"""

_DTMF_NAMES = {"*": "star", "#": "pound"}


def caller_scenario(path: Path, *, keys: str, voice: Path, first_key_ms: int = 400,
                    between_keys_ms: int = 600, before_voice_ms: int = 600,
                    talk_ms: int = 10_000, caller: str = "+393331234567",
                    they_hang_up: bool = False) -> Path:
    """Write a sipp caller scenario: after the answer, pause ``first_key_ms``
    (at least ~400 ms: a pcap started too early is cut off), key ``keys`` as
    RFC 2833 events, then send ``voice`` (raw A-law, looping) for ``talk_ms``
    and hang up (``they_hang_up``: then wait for Switchboard's BYE instead).
    Each of sipp's DTMF pcaps has fixed RTP timestamps, so rtpengine hears the
    same key twice as one event: a key may appear once in ``keys``."""
    if len(set(keys)) != len(keys):
        raise ValueError(f"keys {keys!r} repeat a key: sipp's pcaps would make it one event")
    parts = []
    for i, key in enumerate(keys):
        pcap = PCAPS / f"dtmf_2833_{_DTMF_NAMES.get(key, key)}.pcap"
        wait = first_key_ms if i == 0 else between_keys_ms
        parts.append(f'  <pause milliseconds="{wait}"/>\n'
                     f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
    path.write_text(CALLER_XML.format(keys=keys or "none", caller=caller,
                                      dtmf="\n".join(parts), voice=voice,
                                      before_voice_ms=before_voice_ms, talk_ms=talk_ms,
                                      ending=(_THEY_HANG_UP if they_hang_up
                                              else _WE_HANG_UP.format(caller=caller))))
    return path


class Sipp:
    """One sipp process (a client scenario toward Switchboard)."""

    def __init__(self, directory: Path, scenario: Path, target_port: int, service: str,
                 *, calls: int = 1, rate: float | None = None, extra: list[str] | None = None,
                 timeout_s: int = 120) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        self.media_port = free_udp_port()
        self.argv = ["sipp", "-sf", str(scenario), "-s", service, f"127.0.0.1:{target_port}",
                     "-i", "127.0.0.1", "-p", str(self.port), "-mi", "127.0.0.1",
                     "-mp", str(self.media_port), "-m", str(calls), "-timeout",
                     f"{timeout_s}s", "-timeout_error", "-trace_err", "-trace_stat",
                     "-stf", str(self.dir / "stat.csv"), "-error_file",
                     str(self.dir / "errors.log"), "-nostdin"]
        if rate is not None:
            self.argv += ["-r", str(rate)]
        self.argv += extra or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.out = self.dir / "sipp.out"

    def start(self) -> None:
        with self.out.open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir,
                                         env={**os.environ, "TERM": "dumb"})

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def errors(self) -> str:
        path = self.dir / "errors.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def wait_until(check: object, timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# ---------------------------------------------------------------------- sipp as a phone
_PHONE_SDP = """      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
"""

_RESPONSE = """  <send{retrans}>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      {cseq}
      Contact: <sip:phone@[local_ip]:[local_port];transport=[transport]>
{body}
    ]]>
  </send>
"""


def _response(status: str, *, sdp: bool = False, tag: bool = True, retrans: bool = False,
              to_invite: bool = False) -> str:
    body = ("      Content-Type: application/sdp\n      Content-Length: [len]\n\n" + _PHONE_SDP
            if sdp else "      Content-Length: 0\n")
    return _RESPONSE.format(status=status, tag=";tag=[pid]P[call_number]" if tag else "",
                            body=body, retrans=' retrans="500"' if retrans else "",
                            cseq="CSeq: [$invite_cseq] INVITE" if to_invite else "[last_CSeq:]")


def phone_scenario(path: Path, mode: str, *, voice: Path | None = None,
                   hangup_after_ms: int = 2000, reinvites: int = 0) -> Path:
    """An agent's phone played by sipp (a UAS): ``answer`` (rings 300 ms,
    answers, sends ``voice``, waits for the BYE), ``noanswer`` (rings until
    the INVITE is cancelled), ``busy`` (486), or ``hangup`` (answers, then
    hangs up itself after ``hangup_after_ms``); an answering phone then takes
    ``reinvites`` re-INVITEs (200 with its SDP) before the BYE."""
    # sipp refuses a variable that is set and never used: capture the INVITE's
    # CSeq only where the 487 needs it.
    capture = ""
    if mode == "noanswer":
        capture = ('\n    <action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" '
                   'assign_to="invite_cseq"/></action>\n  ')
    elif mode == "hangup":  # to write our own BYE: the peer's target, From and To
        capture = ('\n    <action>\n'
                   '      <ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" '
                   'assign_to="target"/>\n'
                   '      <ereg regexp=".*" search_in="hdr" header="From:" '
                   'assign_to="remote"/>\n'
                   '      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="local"/>\n'
                   '    </action>\n  ')
    steps = [f'  <recv request="INVITE" crlf="true">{capture}</recv>', _response("180 Ringing")]
    if mode == "busy":
        steps.append(_response("486 Busy Here"))
        steps.append('  <recv request="ACK"/>')
    elif mode == "noanswer":
        steps.append('  <recv request="CANCEL"/>')
        steps.append(_response("200 OK", tag=False))
        steps.append(_response("487 Request Terminated", to_invite=True))
        steps.append('  <recv request="ACK"/>')
    else:
        steps.append('  <pause milliseconds="300"/>')
        steps.append(_response("200 OK", sdp=True, retrans=True))
        steps.append('  <recv request="ACK" crlf="true"/>')
        if voice is not None:
            steps.append(f'  <nop><action><exec rtp_stream="{voice},-1,8"/></action></nop>')
        for _ in range(reinvites):
            steps.append('  <recv request="INVITE" crlf="true"/>')
            steps.append(_response("200 OK", sdp=True, tag=False, retrans=True))
            steps.append('  <recv request="ACK" crlf="true"/>')
        if mode == "hangup":
            steps.append(f'  <pause milliseconds="{hangup_after_ms}"/>')
            steps.append("""  <send retrans="500">
    <![CDATA[
      BYE [$target] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$local];tag=[pid]P[call_number]
      To: [$remote]
      [last_Call-ID:]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>""")
        else:
            steps.append('  <recv request="BYE"/>')
            steps.append(_response("200 OK", tag=False))
    path.write_text('<?xml version="1.0" encoding="ISO-8859-1" ?>\n'
                    f'<scenario name="phone {mode}">\n' + "\n".join(steps) + "\n</scenario>\n")
    return path


class SippPhone:
    """An agent's phone at a fixed address (``phones: {x: {address: ...}}``)."""

    def __init__(self, directory: Path, scenario: Path, calls: int = 1) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_udp_port()
        self.argv = ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(self.port),
                     "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-m", str(calls),
                     "-nostdin", "-timeout", "120s", "-timeout_error", "-trace_err", "-trace_msg",
                     "-error_file", str(self.dir / "errors.log")]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.dir / "sipp.out").open("ab") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def errors(self) -> str:
        path = self.dir / "errors.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
