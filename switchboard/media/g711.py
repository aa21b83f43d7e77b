"""G.711 µ-law (PCMU) and A-law (PCMA) for 16-bit linear PCM.

Written from ITU-T Recommendation G.711 (11/1988), "Pulse code modulation
(PCM) of voice frequencies": Tables 1a/1b (A-law: 13 segments over a 13-bit
magnitude, character bits inverted at even positions, i.e. XOR 0x55, sign bit 1
for positive values) and Tables 2a/2b (µ-law: 8 segments over a 14-bit
magnitude with a bias of 33 (132 at 16-bit scale), all character bits
inverted). Decoded values are the tables' decision-interval midpoints, scaled
to 16 bits. (``audioop`` did this until Python 3.13 removed it.)

All four directions are lookup tables built once with numpy: 256 entries to
decode, 65,536 (one per 16-bit sample) to encode.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

_ULAW_BIAS = 0x84  # 33 at 14-bit scale, times 4: G.711 Table 2a's offset
_ULAW_CLIP = 32635  # largest magnitude that stays in segment 7 after the bias


def _highest_bit(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Index of the highest set bit of each positive value."""
    out = np.zeros_like(values)
    v = values.copy()
    for shift in (8, 4, 2, 1):
        big = v >= (1 << shift)
        out[big] += shift
        v[big] >>= shift
    return out


def _build_ulaw_decode() -> npt.NDArray[np.int16]:
    code = ~np.arange(256, dtype=np.int64) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _build_alaw_decode() -> npt.NDArray[np.int16]:
    code = np.arange(256, dtype=np.int64) ^ 0x55
    positive = (code & 0x80) != 0
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    return np.where(positive, magnitude, -magnitude).astype(np.int16)


def _build_ulaw_encode() -> npt.NDArray[np.uint8]:
    # G.711 µ-law takes a 14-bit sample: drop the 2 low bits first (two's
    # complement, so negative values round down), then bias by 33.
    x = np.arange(-32768, 32768, dtype=np.int64) >> 2
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), _ULAW_CLIP >> 2) + (_ULAW_BIAS >> 2)
    exponent = _highest_bit(magnitude) - 5
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    out: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return out


def _build_alaw_encode() -> npt.NDArray[np.uint8]:
    x = np.arange(-32768, 32768, dtype=np.int64)
    positive = x >= 0
    magnitude = np.where(positive, x, -x - 1) >> 3  # 13-bit magnitude, 0..4095
    high = _highest_bit(np.maximum(magnitude, 1))
    exponent = np.where(magnitude < 32, 0, high - 4)
    mantissa = np.where(
        magnitude < 32, magnitude >> 1, (magnitude >> np.maximum(exponent, 0)) & 0x0F
    )
    code = np.where(positive, 0x80, 0) | (exponent << 4) | mantissa
    out: npt.NDArray[np.uint8] = (code ^ 0x55).astype(np.uint8)
    return out


ULAW_DECODE = _build_ulaw_decode()
ALAW_DECODE = _build_alaw_decode()
_ULAW_ENCODE = _build_ulaw_encode()
_ALAW_ENCODE = _build_alaw_encode()


def decode_ulaw(data: bytes) -> npt.NDArray[np.int16]:
    """PCMU bytes to 16-bit samples."""
    return ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def decode_alaw(data: bytes) -> npt.NDArray[np.int16]:
    """PCMA bytes to 16-bit samples."""
    return ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def _as_index(samples: Iterable[int] | npt.NDArray[np.int16]) -> npt.NDArray[np.int64]:
    arr = np.asarray(samples if isinstance(samples, np.ndarray) else list(samples), dtype=np.int64)
    return np.clip(arr, -32768, 32767) + 32768


def encode_ulaw(samples: Iterable[int] | npt.NDArray[np.int16]) -> bytes:
    """16-bit samples (values outside the range are clipped) to PCMU bytes."""
    return bytes(_ULAW_ENCODE[_as_index(samples)])


def encode_alaw(samples: Iterable[int] | npt.NDArray[np.int16]) -> bytes:
    """16-bit samples (values outside the range are clipped) to PCMA bytes."""
    return bytes(_ALAW_ENCODE[_as_index(samples)])


#: µ-law and A-law silence (the code for a zero sample).
ULAW_SILENCE = int(_ULAW_ENCODE[32768])
ALAW_SILENCE = int(_ALAW_ENCODE[32768])
