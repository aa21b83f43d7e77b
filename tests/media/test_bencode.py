"""Bencode: known encodings (BEP 3 examples), round trips, and every kind of
malformed input refused with the offset named."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.bencode import decode, encode
from switchboard.media.errors import BencodeError


def test_known_encodings() -> None:
    assert encode(3) == b"i3e"
    assert encode(-3) == b"i-3e"
    assert encode(0) == b"i0e"
    assert encode("spam") == b"4:spam"
    assert encode(b"") == b"0:"
    assert encode(["spam", "eggs"]) == b"l4:spam4:eggse"
    assert encode({"cow": "moo", "spam": "eggs"}) == b"d3:cow3:moo4:spam4:eggse"
    # keys are sorted by their bytes
    assert encode({"spam": ["a", "b"], "a": 1}) == b"d1:ai1e4:spaml1:a1:bee"
    assert encode("é") == b"2:\xc3\xa9"


def test_rtpengine_ping_message() -> None:
    assert encode({"command": "ping"}) == b"d7:command4:pinge"
    assert decode(b"d6:result4:ponge", text=True) == {"result": "pong"}


def test_decode_bytes_and_text() -> None:
    assert decode(b"d3:sdp3:v=0e") == {"sdp": b"v=0"}
    assert decode(b"d3:sdp3:v=0e", text=True) == {"sdp": "v=0"}
    # rtpengine does not sort keys: accepted
    assert decode(b"d1:bi1e1:ai2ee") == {"b": 1, "a": 2}


values = st.recursive(
    st.integers() | st.binary(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: object) -> None:
    assert decode(encode(value)) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty input"),
        (b"i12", "not closed"),
        (b"i-0e", "leading zero"),
        (b"i03e", "leading zero"),
        (b"ie", "not a decimal"),
        (b"i1.5e", "not a decimal"),
        (b"5:abc", "runs past the end"),
        (b"03:abc", "leading zero"),
        (b"3abc", "not followed by ':'"),
        (b"l1:a", "list is not closed"),
        (b"d1:a", "input ends"),
        (b"d1:ai1e", "dictionary is not closed"),
        (b"di1ei2ee", "key is not a byte string"),
        (b"d1:ai1e1:ai2ee", "duplicate dictionary key"),
        (b"i1ei2e", "trailing data at offset 3"),
        (b"x", "unexpected byte"),
        (b"l" * 100 + b"e" * 100, "deeper than"),
    ],
)
def test_malformed_is_refused(data: bytes, needle: str) -> None:
    with pytest.raises(BencodeError, match=r"offset|empty|trailing") as info:
        decode(data)
    assert needle in str(info.value)


@pytest.mark.parametrize("value", [True, 1.5, None, {1: "x"}, object()])
def test_unencodable_values_are_refused(value: object) -> None:
    with pytest.raises(BencodeError):
        encode(value)  # type: ignore[arg-type]


def test_decode_refuses_text_input() -> None:
    with pytest.raises(BencodeError, match="takes bytes"):
        decode("i1e")  # type: ignore[arg-type]
