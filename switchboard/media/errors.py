"""Errors of the media plane, in Switchboard's one error tree.

``MediaError`` is the base; each subclass carries a stable ``code``.
"""

from __future__ import annotations

from switchboard.domain.errors import Conflict, NotFound, SwitchboardError, ValidationError


class MediaError(SwitchboardError):
    """Base of the media plane's errors (rtpengine, prompts, recordings)."""

    code = "media_error"
    http_status = 502


class BencodeError(MediaError, ValueError):
    """Bytes that are not strict bencode, or a value bencode cannot hold."""

    code = "bencode_invalid"
    http_status = 502


class RtpengineError(MediaError):
    """rtpengine answered ``result: error``; ``reason`` is its ``error-reason``."""

    code = "rtpengine_error"
    http_status = 502

    def __init__(self, command: str, reason: str) -> None:
        super().__init__(f"rtpengine refused {command!r}: {reason}")
        self.command = command
        self.reason = reason


class RtpengineUnavailable(MediaError):
    """No answer from rtpengine's ng port after every retry (or it is not running)."""

    code = "rtpengine_unavailable"
    http_status = 503


class PromptError(MediaError, ValidationError):
    """A prompt could not be rendered, or an uploaded audio file is refused."""

    code = "prompt_invalid"
    http_status = 422


class RecordingNotFound(MediaError, NotFound):
    """No recording (or voicemail) with that id in this tenant, or its file is gone."""

    code = "recording_not_found"
    http_status = 404


class NoActiveCall(MediaError, Conflict):
    """The interaction has no live call whose media can be controlled."""

    code = "no_active_call"
    http_status = 409


class RecordingStateError(MediaError, Conflict):
    """The recording cannot do that now (pause while paused, resume while
    recording, anything once finished)."""

    code = "recording_state"
    http_status = 409
