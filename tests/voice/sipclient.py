"""A tiny raw SIP client over UDP for the signalling tests: it writes requests
by hand (so they can be wrong on purpose) and reads the responses."""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import time
from dataclasses import dataclass, field


@dataclass
class Response:
    code: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)
    body: str = ""

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def parse_response(data: bytes) -> Response:
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    _, code, reason = lines[0].split(" ", 2)
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return Response(int(code), reason, headers, body)


def digest(username: str, password: str, realm: str, nonce: str, method: str, uri: str,
           qop: str | None = "auth") -> str:
    """An Authorization header value (RFC 2617, MD5, qop=auth when offered)."""
    ha1 = hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    if qop:
        cnonce, nc = secrets.token_hex(4), "00000001"
        resp = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode()).hexdigest()
        return (f'Digest username="{username}",realm="{realm}",nonce="{nonce}",uri="{uri}",'
                f'response="{resp}",algorithm=MD5,qop={qop},nc={nc},cnonce="{cnonce}"')
    resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return (f'Digest username="{username}",realm="{realm}",nonce="{nonce}",uri="{uri}",'
            f'response="{resp}",algorithm=MD5')


def challenge(resp: Response) -> dict[str, str]:
    value = resp.header("www-authenticate") or ""
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|[^,]+)', value)}


SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n")


class SipClient:
    """One UDP socket on 127.0.0.1 talking to a SIP server at ``port``."""

    def __init__(self, port: int) -> None:
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def send(self, text: str) -> None:
        self.sock.sendto(re.sub(r"(?<!\r)\n", "\r\n", text).encode(), self.server)

    def recv(self, timeout: float = 3.0, *, skip_provisional: bool = True) -> Response | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except TimeoutError:
                return None
            if not data.startswith(b"SIP/2.0"):
                continue  # a request from the server (e.g. a BYE): not awaited here
            resp = parse_response(data)
            if skip_provisional and resp.code < 200:
                continue
            return resp

    def request(self, method: str, *, ruri: str, to: str, to_tag: str | None = None,
                call_id: str | None = None, cseq: int = 1, extra: str = "", body: str = "",
                from_user: str = "caller", contact_params: str = "") -> str:
        """Send a well-formed request; return its Call-ID."""
        call_id = call_id or secrets.token_hex(8)
        branch = "z9hG4bK" + secrets.token_hex(6)
        tag = f";tag={to_tag}" if to_tag else ""
        ctype = "Content-Type: application/sdp\n" if body else ""
        self.send(
            f"{method} {ruri} SIP/2.0\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch};rport\n"
            f"Max-Forwards: 70\n"
            f"From: <sip:{from_user}@127.0.0.1:{self.port}>;tag=f{secrets.token_hex(4)}\n"
            f"To: <{to}>{tag}\n"
            f"Call-ID: {call_id}\n"
            f"CSeq: {cseq} {method}\n"
            f"Contact: <sip:{from_user}@127.0.0.1:{self.port}{contact_params}>\n"
            f"{extra}{ctype}Content-Length: {len(body.encode())}\n\n{body}")
        return call_id
