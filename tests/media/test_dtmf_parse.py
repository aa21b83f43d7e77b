"""rtpengine's DTMF log messages parsed, and malformed ones refused."""

from __future__ import annotations

import json

import pytest

from switchboard.media.dtmf import parse_dtmf_event
from switchboard.media.errors import MediaError

SAMPLE = {
    "callid": "call1",
    "source_tag": "tagA",
    "tags": ["tagA", "tagB"],
    "type": "DTMF",
    "timestamp": 1795546229,
    "source_ip": "127.0.0.1",
    "event": 5,
    "duration": 200,
    "volume": 10,
}


def test_parse_sample() -> None:
    ev = parse_dtmf_event(json.dumps(SAMPLE).encode())
    assert (ev.call_id, ev.source_tag, ev.digit, ev.event) == ("call1", "tagA", "5", 5)
    assert ev.tags == ("tagA", "tagB")
    assert (ev.duration_ms, ev.volume, ev.source_ip) == (200, 10, "127.0.0.1")


@pytest.mark.parametrize(
    ("code", "digit"), [(0, "0"), (9, "9"), (10, "*"), (11, "#"), (12, "A"), (15, "D")]
)
def test_rfc4733_codes(code: int, digit: str) -> None:
    assert parse_dtmf_event(json.dumps({**SAMPLE, "event": code}).encode()).digit == digit


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"\xff", "not UTF-8 JSON"),
        (b"[1]", "not a JSON object"),
        (json.dumps({**SAMPLE, "event": 17}).encode(), "0-16"),
        (json.dumps({**SAMPLE, "event": "5"}).encode(), "integer 'event'"),
        (json.dumps({k: v for k, v in SAMPLE.items() if k != "callid"}).encode(), "callid"),
        (json.dumps({**SAMPLE, "type": "other"}).encode(), "type"),
        (json.dumps({**SAMPLE, "tags": "x"}).encode(), "tags"),
        (json.dumps({**SAMPLE, "duration": "x"}).encode(), "duration"),
    ],
)
def test_malformed(data: bytes, needle: str) -> None:
    with pytest.raises(MediaError, match=needle):
        parse_dtmf_event(data)
