"""Generated sounds, written once as 8 kHz WAV files: the default music on hold
and the voicemail beep.

The music is used when the configuration names no music file: eight seconds
of a slow arpeggio (A major: 440, 554.37, 659.25 Hz, equal temperament) with
gentle attack and decay, at about -18 dBFS, then silence; rtpengine loops it.
The beep is 1 kHz for 400 ms.
"""

from __future__ import annotations

import math
import os
import tempfile
import wave
from pathlib import Path

RATE = 8000
NOTES_HZ = (440.0, 554.37, 659.25, 554.37)
NOTE_S = 1.2
GAP_S = 0.8
PEAK = 0.125  # of full scale: about -18 dBFS


def chime_samples() -> list[int]:
    """The 16-bit samples of one cycle of the chime."""
    out: list[int] = []
    for hz in NOTES_HZ:
        n = int(NOTE_S * RATE)
        for i in range(n):
            t = i / RATE
            envelope = min(1.0, t / 0.05) * math.exp(-3.0 * t / NOTE_S)
            out.append(round(32767 * PEAK * envelope * math.sin(2 * math.pi * hz * t)))
        out.extend([0] * int(GAP_S * RATE))
    return out


def beep_samples(hz: float = 1000.0, seconds: float = 0.4) -> list[int]:
    n = int(seconds * RATE)
    return [round(32767 * 0.3 * math.sin(2 * math.pi * hz * i / RATE)) for i in range(n)]


def write_beep(path: Path) -> Path:
    """Write the voicemail beep to ``path`` unless it is there; return it."""
    return _write(path, beep_samples())


def write_hold_music(path: Path) -> Path:
    """Write the chime to ``path`` (atomically) unless it is there; return it."""
    return _write(path, chime_samples())


def _write(path: Path, samples: list[int]) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".music-", suffix=".wav")
    os.close(fd)
    try:
        with wave.open(tmp, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
