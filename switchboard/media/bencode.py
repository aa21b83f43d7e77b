"""Bencode, the dictionary format of rtpengine's *ng* control protocol.

Grammar (BitTorrent BEP 3, "The BitTorrent Protocol Specification"):
integers ``i<decimal>e`` (no leading zeros, no ``-0``), byte strings
``<length>:<bytes>``, lists ``l<items>e``, dictionaries ``d<key><value>...e``
whose keys are byte strings.

:func:`encode` writes dictionary keys in sorted order, as the grammar asks.
:func:`decode` is strict about everything else (a truncated message, trailing
bytes, a leading zero, a duplicate key, a non-string key, nesting past
:data:`MAX_DEPTH`: each a :class:`BencodeError` naming the offset), but accepts
keys out of order, because rtpengine does not sort the keys it sends (its
protocol document says so).

Byte strings decode to ``bytes``; :func:`decode` with ``text=True`` turns every
byte string into ``str`` (UTF-8; bytes that are not UTF-8 survive as surrogate
escapes, so an odd SDP never makes a reply unreadable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from switchboard.media.errors import BencodeError

#: A value bencode can carry. ``str`` is encoded as UTF-8.
BValue: TypeAlias = int | bytes | str | Sequence["BValue"] | Mapping[str, "BValue"]

#: Deepest nesting :func:`decode` accepts (rtpengine's replies nest about 8 deep).
MAX_DEPTH = 64


def encode(value: BValue) -> bytes:
    """Return the bencoding of ``value``.

    Raises :class:`BencodeError` for a value bencode cannot hold (a float,
    ``None``, a bool, a dictionary key that is not a string).
    """
    out = bytearray()
    _encode(value, out, 0)
    return bytes(out)


def _encode(value: object, out: bytearray, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BencodeError(f"value nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, bool):
        # bool is an int in Python; rtpengine wants strings such as "yes".
        raise BencodeError("bencode has no booleans: pass 'yes'/'no' or 1/0 explicitly")
    if isinstance(value, int):
        out += b"i%de" % value
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        out += b"%d:" % len(raw)
        out += raw
    elif isinstance(value, str):
        raw = value.encode("utf-8")
        out += b"%d:" % len(raw)
        out += raw
    elif isinstance(value, Mapping):
        items: list[tuple[bytes, object]] = []
        for key, item in value.items():
            if isinstance(key, str):
                items.append((key.encode("utf-8"), item))
            elif isinstance(key, bytes):
                items.append((key, item))
            else:
                raise BencodeError(f"dictionary key {key!r} is not a string")
        items.sort(key=lambda pair: pair[0])
        out += b"d"
        for raw_key, item in items:
            out += b"%d:" % len(raw_key)
            out += raw_key
            _encode(item, out, depth + 1)
        out += b"e"
    elif isinstance(value, list | tuple):
        out += b"l"
        for item in value:
            _encode(item, out, depth + 1)
        out += b"e"
    else:
        raise BencodeError(f"bencode cannot hold a {type(value).__name__}: {value!r}")


def decode(data: bytes, *, text: bool = False) -> object:
    """Decode one complete bencoded value from ``data``.

    With ``text=True`` byte strings (values and keys) come back as ``str``;
    otherwise values are ``bytes`` and dictionary keys ``str``.
    Raises :class:`BencodeError` (with the byte offset) on malformed input.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BencodeError(f"decode takes bytes, not {type(data).__name__}")
    buf = bytes(data)
    if not buf:
        raise BencodeError("empty input: expected a bencoded value")
    value, end = _Decoder(buf, text).value(0, 0)
    if end != len(buf):
        extra = len(buf) - end
        raise BencodeError(f"trailing data at offset {end}: {extra} byte(s) after the value")
    return value


class _Decoder:
    __slots__ = ("buf", "text")

    def __init__(self, buf: bytes, text: bool) -> None:
        self.buf = buf
        self.text = text

    def _fail(self, pos: int, what: str) -> BencodeError:
        return BencodeError(f"malformed bencode at offset {pos}: {what}")

    def value(self, pos: int, depth: int) -> tuple[object, int]:
        if depth > MAX_DEPTH:
            raise self._fail(pos, f"nested deeper than {MAX_DEPTH} levels")
        if pos >= len(self.buf):
            raise self._fail(pos, "input ends where a value should start")
        lead = self.buf[pos : pos + 1]
        if lead == b"i":
            return self.integer(pos)
        if lead.isdigit():
            raw, end = self.string(pos)
            return (self._text(raw) if self.text else raw), end
        if lead == b"l":
            items: list[object] = []
            pos += 1
            while True:
                if pos >= len(self.buf):
                    raise self._fail(pos, "list is not closed with 'e'")
                if self.buf[pos : pos + 1] == b"e":
                    return items, pos + 1
                item, pos = self.value(pos, depth + 1)
                items.append(item)
        if lead == b"d":
            result: dict[str, object] = {}
            start = pos
            pos += 1
            while True:
                if pos >= len(self.buf):
                    raise self._fail(start, "dictionary is not closed with 'e'")
                if self.buf[pos : pos + 1] == b"e":
                    return result, pos + 1
                if not self.buf[pos : pos + 1].isdigit():
                    raise self._fail(pos, "dictionary key is not a byte string")
                raw_key, pos = self.string(pos)
                key = self._text(raw_key)
                if key in result:
                    raise self._fail(pos, f"duplicate dictionary key {key!r}")
                result[key], pos = self.value(pos, depth + 1)
        raise self._fail(pos, f"unexpected byte {lead!r} (expected i, l, d or a digit)")

    def integer(self, pos: int) -> tuple[int, int]:
        end = self.buf.find(b"e", pos + 1)
        if end < 0:
            raise self._fail(pos, "integer is not closed with 'e'")
        digits = self.buf[pos + 1 : end]
        body = digits[1:] if digits.startswith(b"-") else digits
        if not body or not body.isdigit():
            raise self._fail(pos, f"integer {digits!r} is not a decimal number")
        if body.startswith(b"0") and (len(body) > 1 or digits.startswith(b"-")):
            raise self._fail(pos, f"integer {digits!r} has a leading zero or is -0")
        return int(digits), end + 1

    def string(self, pos: int) -> tuple[bytes, int]:
        colon = self.buf.find(b":", pos)
        if colon < 0:
            raise self._fail(pos, "string length is not followed by ':'")
        length = self.buf[pos:colon]
        if not length.isdigit():
            raise self._fail(pos, f"string length {length!r} is not a decimal number")
        if length.startswith(b"0") and len(length) > 1:
            raise self._fail(pos, f"string length {length!r} has a leading zero")
        start = colon + 1
        end = start + int(length)
        if end > len(self.buf):
            raise self._fail(pos, f"string of {int(length)} bytes runs past the end of the input")
        return self.buf[start:end], end

    @staticmethod
    def _text(raw: bytes) -> str:
        return raw.decode("utf-8", errors="surrogateescape")
