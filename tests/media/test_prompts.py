"""Prompts rendered by the real espeak-ng and converted by the real sox."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from switchboard.media.errors import PromptError
from switchboard.media.prompts import PROMPT_FORMAT, PromptStore

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="Debian espeak-ng and sox are not installed (sh scripts/test-deps.sh)",
)

SENTENCES = {
    "en": "Thank you for calling. Press one for sales.",
    "it": "Grazie per aver chiamato. Premere uno per le vendite.",
    "fr": "Merci de votre appel. Tapez un pour le service commercial.",
    "cmn": "感谢您的来电。销售请按一。",
}


def read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    return params, pcm


def write_wav(path: Path, seconds: float, rate: int = 16000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16).tobytes())


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_each_language_speaks(tmp_path: Path, language: str) -> None:
    store = PromptStore(tmp_path)
    prompt = store.speak(SENTENCES[language], language)
    assert not prompt.cached and store.renders == 1
    params, pcm = read_wav(prompt.path)
    assert (params.framerate, params.nchannels, params.sampwidth) == (8000, 1, 2)
    # a short sentence spoken: between 1.5 and 8 seconds, and not silence
    assert 1.5 < prompt.duration < 8, prompt.duration
    assert abs(len(pcm) / 8000 - prompt.duration) < 1e-6
    assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 500
    # speech, not a constant tone: loudness varies across 100 ms windows
    windows = pcm[: len(pcm) // 800 * 800].reshape(-1, 800).astype(np.float64)
    rms = np.sqrt(np.mean(windows**2, axis=1))
    assert (rms < 200).sum() >= 1 and (rms > 1000).sum() >= 5


def test_languages_differ_and_zh_is_cmn(tmp_path: Path) -> None:
    store = PromptStore(tmp_path)
    en = store.speak("one two three", "en")
    it = store.speak("one two three", "it")
    assert en.path != it.path
    assert en.path.read_bytes() != it.path.read_bytes()
    assert store.speak(SENTENCES["cmn"], "zh").path == store.speak(SENTENCES["cmn"], "cmn").path


def test_cache_hit_does_not_render_again(tmp_path: Path) -> None:
    store = PromptStore(tmp_path)
    first = store.speak("Your call is important to us.", "en")
    mtime = first.path.stat().st_mtime_ns
    again = store.speak("Your call is important to us.", "en")
    assert again.cached and again.path == first.path and store.renders == 1
    assert first.path.stat().st_mtime_ns == mtime
    # a new store over the same directory finds it too (the cache is on disk)
    other = PromptStore(tmp_path)
    assert other.speak("Your call is important to us.", "en").cached and other.renders == 0
    # another voice is another prompt
    assert not store.speak("Your call is important to us.", "en", voice="en-us").cached
    assert store.renders == 2


@pytest.mark.parametrize(
    ("text", "language", "voice", "field"),
    [
        ("", "en", None, "text"),
        ("   ", "en", None, "text"),
        ("x" * 2001, "en", None, "text"),
        ("hello", "de", None, "language"),
        ("hello", "en", "--help", "voice"),
        ("hello", "en", "nosuchvoice", "voice"),
    ],
)
def test_bad_speech_requests(
    tmp_path: Path, text: str, language: str, voice: str | None, field: str
) -> None:
    store = PromptStore(tmp_path)
    with pytest.raises(PromptError) as info:
        store.speak(text, language, voice)
    assert info.value.field == field and info.value.http_status == 422
    assert not list((tmp_path / "tts").glob("*.wav")) if (tmp_path / "tts").exists() else True


def test_text_starting_with_a_dash_is_spoken_not_an_option(tmp_path: Path) -> None:
    prompt = PromptStore(tmp_path).speak("-w /tmp/x --version", "en")
    assert prompt.duration > 1


def test_upload_converted(tmp_path: Path) -> None:
    src = tmp_path / "in.wav"
    write_wav(src, 2.0, rate=16000)
    flac = tmp_path / "in.flac"
    subprocess.run(["sox", str(src), str(flac)], check=True)
    store = PromptStore(tmp_path / "prompts")
    for path in (src, flac):
        prompt = store.import_audio(path.read_bytes(), filename=path.name)
        params, pcm = read_wav(prompt.path)
        assert (params.framerate, params.nchannels, params.sampwidth) == (
            PROMPT_FORMAT.rate,
            PROMPT_FORMAT.channels,
            PROMPT_FORMAT.bits // 8,
        )
        assert abs(prompt.duration - 2.0) < 0.01
        assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 5000
    again = store.import_audio(src.read_bytes(), filename="other-name.wav")
    assert again.cached


def test_bad_uploads_refused(tmp_path: Path) -> None:
    store = PromptStore(tmp_path / "prompts", max_upload_seconds=2.0, max_upload_bytes=200_000)
    long = tmp_path / "long.wav"
    write_wav(long, 3.0, rate=8000)
    cases = [
        (b"", "empty"),
        (b"this is not audio at all" * 10, "not an audio file sox can read"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "not an audio file sox can read"),
        (long.read_bytes(), "at most 2 s"),
        (b"\x00" * 200_001, "at most 200000"),
    ]
    for data, needle in cases:
        with pytest.raises(PromptError, match=needle) as info:
            store.import_audio(data, filename="x.wav")
        assert info.value.field == "file"
    uploads = tmp_path / "prompts" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing stored, no temp left
