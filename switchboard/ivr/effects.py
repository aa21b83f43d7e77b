"""What the interpreter asks the telephony shell to do: frozen dataclasses.

An :class:`~switchboard.ivr.session.IvrSession` returns a tuple of effects from
every input. The shell performs them in order: media effects go to the media
plane (rtpengine), :class:`LookupRequest` to the HTTP client or the contacts
store, and :meth:`Effect.commands` gives the routing engine's commands
(:mod:`switchboard.domain.commands`) that an effect stands for. The terminal
effects (:data:`TERMINAL`) hand the call over: to a queue, a voice mailbox, an
external number, or the end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from switchboard.domain import commands as c
from switchboard.domain.events import SurveyAnswered

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class Effect:
    """Base of every effect; ``step`` is the id of the step that produced it."""

    step: str | None = None

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        """The routing engine's commands for this effect (none for media effects)."""
        return ()


@dataclass(frozen=True, slots=True)
class PromptPart:
    """One resolved prompt: speak ``text`` in ``lang`` (espeak-ng), or play
    ``file``; with both, the file, and the text when the file is missing."""

    text: str | None = None
    lang: str | None = None
    file: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayPrompt(Effect):
    """Play ``parts`` one after the other, replacing whatever plays now; call
    ``prompt_finished(now, play_id)`` when the last part has played. With
    ``barge_in`` a key stops it (the session then emits :class:`StopPrompt`)."""

    play_id: int
    parts: tuple[PromptPart, ...]
    barge_in: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPrompt(Effect):
    """Stop prompt ``play_id`` now (the caller barged in)."""

    play_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StartTimer(Effect):
    """The session's deadline moved to ``at``: call ``advance(now)`` then. There
    is one timer per session; a later StartTimer replaces an earlier one, and
    ``next_deadline()`` is always the authority (``None``: no timer)."""

    at: float
    purpose: str  # prompt (safety limit), input, lookup


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectDigits(Effect):
    """The session now listens for keys (DTMF): up to ``max_digits``, ended by
    ``terminator``. Informational: every key goes to ``digit(d, now)``."""

    max_digits: int
    terminator: str | None = None
    timeout_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupRequest(Effect):
    """Fetch data: ``source`` ``webhook`` (``method`` ``url`` with ``params``) or
    ``contacts`` (look up a contact by ``params``). Answer with
    ``lookup_result(data or None, now, request_id)``; past ``timeout_s`` the
    session has moved on by itself and ignores the answer."""

    request_id: int
    source: str
    url: str | None = None
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    timeout_s: float = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class InputRecorded(Effect):
    """What the caller keyed at a step, or attributes the flow set, with its
    ``outcome`` (selected, collected, invalid, no_input, set, lookup,
    lookup_failed, lookup_timeout, accepted, declined, answered). Sensitive
    input is masked. Maps onto :class:`~switchboard.domain.commands.IvrStep`
    (the engine logs ``ivr_input``) while the contact is in the engine's IVR
    (``to_engine``); after it left (a callback, a post-call survey) it is not sent."""

    digits: str = ""
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    outcome: str = "selected"
    to_engine: bool = True

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        if not self.to_engine:
            return ()
        return (c.IvrStep(interaction_id=interaction_id, digits=self.digits, step=self.step,
                          attributes=dict(self.attributes)),)


def _routing(interaction_id: str, step: str | None, queue_id: str, priority: int | None,
             skills: Mapping[str, int], attributes: Mapping[str, Any],
             preferred_agent: str | None = None) -> tuple[c.Command, ...]:
    out: list[c.Command] = []
    if attributes:
        out.append(c.IvrStep(interaction_id=interaction_id, step=step,
                             attributes=dict(attributes)))
    out.append(c.Enqueue(interaction_id=interaction_id, queue_id=queue_id, priority=priority,
                         skills=dict(skills), preferred_agent=preferred_agent))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueue(Effect):
    """Terminal: put the contact in ``queue_id``. Commands: ``IvrStep`` with the
    attributes (when there are any), then ``Enqueue``."""

    queue_id: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    preferred_agent: str | None = None

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        return _routing(interaction_id, self.step, self.queue_id, self.priority, self.skills,
                        self.attributes, self.preferred_agent)


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferCallback(Effect):
    """A callback into ``queue_id`` is being offered (for the take-rate report)."""

    queue_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCallback(Effect):
    """The caller accepted a callback: the contact takes its place in
    ``queue_id`` and leaves the line (virtual hold); ``phone`` is the number to
    call (``None``: the customer's). Commands: ``IvrStep`` (attributes),
    ``Enqueue``, ``RequestCallback``."""

    queue_id: str
    phone: str | None = None
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        return (*_routing(interaction_id, self.step, self.queue_id, self.priority, self.skills,
                          self.attributes),
                c.RequestCallback(interaction_id=interaction_id, phone=self.phone))


@dataclass(frozen=True, slots=True, kw_only=True)
class StartVoicemail(Effect):
    """Terminal: play ``greeting`` (if any), a beep, then record up to ``max_s``
    seconds (``terminator`` ends early); the message becomes a contact in
    ``queue_id`` once stored, which the shell does (no engine command here)."""

    queue_id: str
    greeting: PromptPart | None = None
    max_s: float = 120.0
    beep: bool = True
    terminator: str | None = "#"
    attributes: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferExternal(Effect):
    """Terminal: connect the caller to ``number`` outside Switchboard. The
    contact leaves routing: ``Hangup(by="system")`` (self-service in IVR),
    unless routing no longer owns it (``ends_contact`` false, as for HangUp)."""

    number: str
    caller_id: str | None = None
    ring_timeout_s: float = 30.0
    ends_contact: bool = True

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        if not self.ends_contact:
            return ()
        return (c.Hangup(interaction_id=interaction_id, by="system"),)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordSurvey(Effect):
    """The caller scored the survey: log :meth:`event` (``survey_answered``)."""

    survey: str = "csat"
    score: int

    def event(self, interaction_id: str, at: float) -> SurveyAnswered:
        """The ``survey_answered`` event to append to the log."""
        return SurveyAnswered(at=at, interaction_id=interaction_id, survey=self.survey,
                              score=self.score)


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUp(Effect):
    """Terminal: release the call. ``ends_contact``: the contact is still in the
    engine's IVR and ends with it (``Hangup(by="system")``); false after a
    callback request or a post-call survey, when routing owns it no more."""

    reason: str = "normal"
    ends_contact: bool = True

    def commands(self, interaction_id: str) -> tuple[c.Command, ...]:
        if not self.ends_contact:
            return ()
        return (c.Hangup(interaction_id=interaction_id, by="system"),)


TERMINAL = (Enqueue, StartVoicemail, TransferExternal, HangUp)


def engine_commands(effects: tuple[Effect, ...], interaction_id: str) -> list[c.Command]:
    """All the routing commands of a batch of effects, in order."""
    return [cmd for effect in effects for cmd in effect.commands(interaction_id)]
