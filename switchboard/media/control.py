"""What the API asks of a live call's media, and who answers.

The API (``switchboard/server/routes_media.py``) pauses and resumes a call's
recording by interaction; the call controller (``switchboard.voice``) knows
which call that is. :class:`CallMediaControl` is the interface between them,
:class:`ControlSlot` the place where the controller registers its
implementation (the app keeps one in ``app.state.media_control``). Until
something is registered, every request is a 409 ``no_active_call``.

:class:`RecordingControl` is a ready implementation for recordings: the
controller ``track()``s each :class:`~switchboard.media.recording.ActiveRecording`
it starts and ``untrack()``s it when the call ends::

    control = RecordingControl()
    app.state.media_control.register(control)
    rec = recorder.start(...); control.track(rec)
    ...; control.untrack(rec); rec.finish()

Methods are blocking (an ng request and a database write); the API calls them
from a worker thread.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from switchboard.media.errors import NoActiveCall
from switchboard.media.recording import ActiveRecording


@runtime_checkable
class CallMediaControl(Protocol):
    """Media actions on the live call of an interaction.

    Each returns the recording's state (``recording_id``, ``status``,
    ``paused``: the spans so far) and raises
    :class:`~switchboard.media.errors.NoActiveCall` when the interaction has
    no live recorded call, or
    :class:`~switchboard.media.errors.RecordingStateError` when the recording
    cannot do it now (pausing a paused one).
    """

    def pause_recording(self, tenant_id: str, interaction_id: str) -> dict[str, Any]: ...

    def resume_recording(self, tenant_id: str, interaction_id: str) -> dict[str, Any]: ...


class ControlSlot:
    """Holds the registered :class:`CallMediaControl` (at most one)."""

    def __init__(self) -> None:
        self._impl: CallMediaControl | None = None
        self._lock = threading.Lock()

    def register(self, impl: CallMediaControl) -> None:
        if not isinstance(impl, CallMediaControl):
            raise TypeError(f"{impl!r} does not implement CallMediaControl")
        with self._lock:
            self._impl = impl

    def unregister(self, impl: CallMediaControl | None = None) -> None:
        """Remove the implementation (only ``impl``, when given)."""
        with self._lock:
            if impl is None or self._impl is impl:
                self._impl = None

    def current(self) -> CallMediaControl:
        """The registered implementation; :class:`NoActiveCall` when there is none
        (no voice service runs, so no interaction has a live call)."""
        impl = self._impl
        if impl is None:
            raise NoActiveCall(
                "no active call: the voice service is not running", field="interaction_id"
            )
        return impl


def recording_view(rec: ActiveRecording) -> dict[str, Any]:
    return {
        "recording_id": rec.id,
        "interaction_id": rec.interaction_id,
        "status": "paused" if rec.is_paused else "recording",
        "paused": [list(span) for span in rec.paused],
    }


class RecordingControl:
    """:class:`CallMediaControl` over the recordings the controller tracks."""

    def __init__(self) -> None:
        self._live: dict[tuple[str, str], ActiveRecording] = {}
        self._lock = threading.Lock()

    def track(self, rec: ActiveRecording) -> None:
        with self._lock:
            self._live[(rec.tenant_id, rec.interaction_id)] = rec

    def untrack(self, rec: ActiveRecording) -> None:
        with self._lock:
            key = (rec.tenant_id, rec.interaction_id)
            if self._live.get(key) is rec:
                del self._live[key]

    def _find(self, tenant_id: str, interaction_id: str) -> ActiveRecording:
        with self._lock:
            rec = self._live.get((tenant_id, interaction_id))
        if rec is None or rec.finished:
            raise NoActiveCall(
                f"interaction {interaction_id!r} has no active recorded call",
                field="interaction_id",
            )
        return rec

    def pause_recording(self, tenant_id: str, interaction_id: str) -> dict[str, Any]:
        rec = self._find(tenant_id, interaction_id)
        rec.pause()
        return recording_view(rec)

    def resume_recording(self, tenant_id: str, interaction_id: str) -> dict[str, Any]:
        rec = self._find(tenant_id, interaction_id)
        rec.resume()
        return recording_view(rec)
