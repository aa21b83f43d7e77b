"""G.711 tables checked against values of ITU-T G.711 Tables 1 and 2, and
against Python's audioop where it still exists (removed in 3.13)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from switchboard.media import g711


def test_table_values() -> None:
    # µ-law: code 0xFF is +0, 0x7F is -0; 0x80 and 0x00 are the largest (8031 at
    # 14 bits: 32124 at 16), per G.711 Table 2b.
    assert g711.ULAW_DECODE[0xFF] == 0
    assert g711.ULAW_DECODE[0x7F] == 0
    assert g711.ULAW_DECODE[0x80] == 32124
    assert g711.ULAW_DECODE[0x00] == -32124
    # A-law: 0xD5 is the smallest positive (1 at 12 bits: 8 at 16), 0xAA the
    # largest (4032 at 13 bits: 32256 at 16), per G.711 Table 1b.
    assert g711.ALAW_DECODE[0xD5] == 8
    assert g711.ALAW_DECODE[0x55] == -8
    assert g711.ALAW_DECODE[0xAA] == 32256
    assert g711.ALAW_DECODE[0x2A] == -32256
    assert g711.ULAW_SILENCE == 0xFF
    assert g711.ALAW_SILENCE == 0xD5


def test_decode_encode_is_identity_on_codes() -> None:
    codes = bytes(range(256))
    # both zero codes of µ-law decode to 0, which encodes as +0 (0xFF)
    ulaw = g711.encode_ulaw(g711.decode_ulaw(codes))
    assert ulaw == bytes(0xFF if c == 0x7F else c for c in codes)
    assert g711.encode_alaw(g711.decode_alaw(codes)) == codes


def test_error_is_within_half_a_step() -> None:
    x = np.arange(-32768, 32768, dtype=np.int64)
    for enc, dec in ((g711.encode_ulaw, g711.decode_ulaw), (g711.encode_alaw, g711.decode_alaw)):
        back = dec(enc(x)).astype(np.int64)
        rel = np.abs(back - x)[np.abs(x) > 256] / np.abs(x)[np.abs(x) > 256]
        assert rel.max() < 0.07  # 4 mantissa bits: at most ~1/32 plus clipping at the top
    assert g711.encode_ulaw([40000, -40000]) == g711.encode_ulaw([32767, -32768])


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="audioop was removed in Python 3.13")
def test_same_as_audioop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    x = np.arange(-32768, 32768, dtype=np.int16)
    assert g711.encode_ulaw(x) == audioop.lin2ulaw(x.tobytes(), 2)
    assert g711.encode_alaw(x) == audioop.lin2alaw(x.tobytes(), 2)
    codes = bytes(range(256))
    assert g711.decode_ulaw(codes).tobytes() == audioop.ulaw2lin(codes, 2)
    assert g711.decode_alaw(codes).tobytes() == audioop.alaw2lin(codes, 2)
