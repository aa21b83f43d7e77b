"""Prompts: text to speech with espeak-ng, and uploaded audio, as files rtpengine plays.

Every prompt ends up as WAV, 8 kHz, mono, 16-bit PCM (:data:`PROMPT_FORMAT`):
rtpengine's ``play media`` decodes it with ffmpeg and encodes to the leg's
codec, and at 8 kHz nothing is resampled for G.711 legs.

Text is rendered once: the file name is the SHA-256 of (text, language,
voice, format, renderer version), so a second request for the same prompt is a
cache hit that runs nothing. espeak-ng (Debian ``espeak-ng``) speaks English
(``en``), Italian (``it``), French (``fr``) and Mandarin Chinese (``cmn``;
``zh`` is accepted as an alias); sox (Debian ``sox``) resamples its 22.05 kHz
output and converts uploads. Files are written under a temporary name and
renamed, so a reader never sees half a prompt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from switchboard.media.errors import PromptError

#: espeak-ng voice for each language Switchboard speaks.
LANGUAGES: dict[str, str] = {"en": "en", "it": "it", "fr": "fr", "cmn": "cmn", "zh": "cmn"}

#: Bumped when rendering changes, so cached files are rendered again.
RENDERER_VERSION = 1

MAX_TEXT = 2000
_VOICE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+\-]{0,63}$")


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """A PCM WAV format: sample rate (Hz), channels, bits per sample."""

    rate: int = 8000
    channels: int = 1
    bits: int = 16

    @property
    def key(self) -> str:
        return f"wav-{self.rate}-{self.channels}-{self.bits}"


#: What rtpengine plays safely: WAV 8 kHz mono 16-bit.
PROMPT_FORMAT = AudioFormat()


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt file ready for :meth:`RtpengineClient.play_media`."""

    path: Path
    duration: float  # seconds
    cached: bool  # True when it was there already (nothing rendered)


class PromptStore:
    """Prompts under ``directory`` (``tts/`` for speech, ``uploads/`` for files).

    ``max_upload_seconds``/``max_upload_bytes`` bound what an upload may be.
    ``espeak``/``sox``: the executables. :attr:`renders` counts the espeak-ng
    runs (a cache hit does not add one).
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_upload_seconds: float = 600.0,
        max_upload_bytes: int = 50 * 1024 * 1024,
        espeak: str = "espeak-ng",
        sox: str = "sox",
    ) -> None:
        self.directory = Path(directory)
        self.max_upload_seconds = max_upload_seconds
        self.max_upload_bytes = max_upload_bytes
        self.espeak = espeak
        self.sox = sox
        self.renders = 0
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}

    # ------------------------------------------------------------------ speech

    def cache_key(
        self, text: str, language: str, voice: str | None = None, fmt: AudioFormat = PROMPT_FORMAT
    ) -> str:
        """The cache key (hex SHA-256) of a spoken prompt."""
        spec = [RENDERER_VERSION, text, _language(language), voice or "", fmt.key]
        return hashlib.sha256(json.dumps(spec, ensure_ascii=False).encode()).hexdigest()

    def speak(
        self,
        text: str,
        language: str = "en",
        voice: str | None = None,
        fmt: AudioFormat = PROMPT_FORMAT,
    ) -> Prompt:
        """The prompt for ``text`` spoken in ``language`` (``en``, ``it``, ``fr``,
        ``cmn``/``zh``), rendered now or found in the cache.

        ``voice``: an espeak-ng voice name to use instead of the language's
        default (e.g. ``en-us``, ``en+f3``). Raises :class:`PromptError` for
        empty or overlong text, an unknown language or voice, or a failed render.
        """
        if not isinstance(text, str) or not text.strip():
            raise PromptError("prompt text is empty: give the words to speak", field="text")
        if len(text) > MAX_TEXT:
            raise PromptError(
                f"prompt text has {len(text)} characters; at most {MAX_TEXT}", field="text"
            )
        if "\x00" in text:
            raise PromptError("prompt text contains a NUL character", field="text")
        espeak_voice = voice if voice is not None else LANGUAGES.get(language)
        lang = _language(language)
        if voice is not None and not _VOICE_RE.match(voice):
            raise PromptError(f"voice {voice!r} is not an espeak-ng voice name", field="voice")
        assert espeak_voice is not None
        key = self.cache_key(text, lang, voice, fmt)
        target = self.directory / "tts" / f"{key}.wav"
        with self._key_lock(key):
            if target.exists():
                return Prompt(target, wav_duration(target), True)
            self._need(self.espeak, "espeak-ng")
            self._need(self.sox, "sox")
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".render-") as tmp:
                raw = Path(tmp) / "espeak.wav"
                done = subprocess.run(
                    [self.espeak, "-v", espeak_voice, "-w", str(raw), "--stdin"],
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
                self.renders += 1
                if done.returncode != 0 or not raw.exists():
                    why = (
                        done.stderr.decode("utf-8", "replace").strip()
                        or f"status {done.returncode}"
                    )
                    raise PromptError(
                        f"espeak-ng could not speak in voice {espeak_voice!r}: {why}",
                        field="voice" if voice else "language",
                    )
                self._convert(raw, target, fmt, Path(tmp))
            return Prompt(target, wav_duration(target), False)

    # ----------------------------------------------------------------- uploads

    def import_audio(self, data: bytes, *, filename: str = "upload") -> Prompt:
        """Convert an uploaded audio file (anything sox reads: WAV, FLAC, Ogg,
        AIFF, AU, ...) to :data:`PROMPT_FORMAT`, stored by content hash.

        Raises :class:`PromptError` (and stores nothing) when the data is
        empty, too large, not audio sox can read, silent-length (no samples)
        or longer than ``max_upload_seconds``.
        """
        if not data:
            raise PromptError("the uploaded file is empty", field="file")
        if len(data) > self.max_upload_bytes:
            raise PromptError(
                f"the uploaded file has {len(data)} bytes; at most {self.max_upload_bytes}",
                field="file",
            )
        key = hashlib.sha256(data).hexdigest()
        target = self.directory / "uploads" / f"{key}.wav"
        with self._key_lock("upload-" + key):
            if target.exists():
                return Prompt(target, wav_duration(target), True)
            self._need(self.sox, "sox")
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".upload-") as tmp:
                suffix = Path(filename).suffix.lower()
                if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
                    suffix = ""
                source = Path(tmp) / f"source{suffix}"
                source.write_bytes(data)
                duration = self._probe_duration(source, filename)
                if duration <= 0:
                    raise PromptError(f"{filename!r} holds no audio samples", field="file")
                if duration > self.max_upload_seconds:
                    raise PromptError(
                        f"{filename!r} lasts {duration:.1f} s; a prompt may last at most "
                        f"{self.max_upload_seconds:g} s",
                        field="file",
                    )
                self._convert(source, target, PROMPT_FORMAT, Path(tmp))
            return Prompt(target, wav_duration(target), False)

    # ----------------------------------------------------------------- helpers

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    @staticmethod
    def _need(exe: str, package: str) -> None:
        if shutil.which(exe) is None:
            raise PromptError(
                f"{exe!r} is not installed: install Debian's {package} (sh scripts/test-deps.sh)"
            )

    def _probe_duration(self, source: Path, filename: str) -> float:
        done = subprocess.run(
            [self.sox, "--info", "-D", str(source)], capture_output=True, timeout=30, check=False
        )
        if done.returncode != 0:
            why = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = why[-1] if why else f"status {done.returncode}"
            raise PromptError(
                f"{filename!r} is not an audio file sox can read ({reason}); "
                "upload WAV, FLAC, Ogg Vorbis, AIFF or AU",
                field="file",
            )
        try:
            return float(done.stdout.decode().strip())
        except ValueError:
            raise PromptError(
                f"sox cannot tell how long {filename!r} lasts", field="file"
            ) from None

    def _convert(self, source: Path, target: Path, fmt: AudioFormat, tmp: Path) -> None:
        out = tmp / "converted.wav"
        done = subprocess.run(
            [
                self.sox, str(source),
                "-r", str(fmt.rate), "-c", str(fmt.channels), "-b", str(fmt.bits),
                "-e", "signed-integer", str(out),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )  # fmt: skip
        if done.returncode != 0 or not out.exists():
            why = done.stderr.decode("utf-8", "replace").strip() or f"status {done.returncode}"
            raise PromptError(f"sox could not convert the audio: {why}", field="file")
        os.replace(out, target)


def _language(language: str) -> str:
    voice = LANGUAGES.get(language)
    if voice is None:
        known = ", ".join(sorted(LANGUAGES))
        raise PromptError(
            f"language {language!r} is not spoken; use one of {known}", field="language"
        )
    return voice


def wav_duration(path: Path) -> float:
    """Length of a PCM WAV file in seconds."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()
