"""A session's state and the helpers every part of the interpreter shares.

:class:`SessionState` holds what one call has reached in its flow (the step,
what it waits for and until when, the attributes, the prompt playing, the
type-ahead keys) and builds the effects that several steps emit (prompts,
records of input, attributes handed to routing). The inputs live in
:class:`~switchboard.ivr.session.IvrSession`; key handling in
:mod:`switchboard.ivr.keys`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from switchboard.domain import commands as c
from switchboard.domain.model import Customer
from switchboard.ivr import effects as fx
from switchboard.ivr import model as m
from switchboard.ivr.hours import Calendar
from switchboard.ivr.values import mask, render


class Status(StrEnum):
    """Where a session is: not started, running the flow, handed to routing, ended."""

    NEW = "new"
    RUNNING = "running"
    QUEUED = "queued"  # handed to routing, may come back (after_call, if_refused)
    ENDED = "ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class CallInfo:
    """The call the session serves: its interaction id, the caller's number
    (ANI), the number dialled (DNIS) and starting attributes."""

    interaction_id: str
    caller: str | None = None
    called: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def arrive(self) -> c.Arrive:
        """The engine command that opens this contact in IVR."""
        attrs = dict(self.attributes)
        if self.called:
            attrs["called"] = self.called
        return c.Arrive(interaction_id=self.interaction_id,
                        customer=Customer(phone=self.caller), attributes=attrs)


class SessionState:
    """The state of one call in its flow; see :class:`~switchboard.ivr.session.IvrSession`."""

    # Enter steps from a step id until one waits: the interpreter's loop, defined
    # by IvrSession and called by the key-handling mixin.
    _go: Callable[[str], None]

    def __init__(self, flow: m.Flow, call: CallInfo, now: float, *,
                 calendars: Mapping[str, Calendar] | None = None) -> None:
        self.flow = flow
        self.call = call
        # the named calendars hours steps may use, as the shell loaded them at the start
        self.calendars: Mapping[str, Calendar] = MappingProxyType(dict(calendars or {}))
        self.started_at = now
        self.status = Status.NEW
        self._now = now
        attrs: dict[str, Any] = dict(call.attributes)
        attrs.update(caller=call.caller, called=call.called,
                     interaction_id=call.interaction_id)
        if attrs.get("language") not in m.LANGUAGES:
            attrs["language"] = flow.language
        self._attrs = attrs
        self._sensitive: set[str] = set()
        self._step: m.Step | None = None
        self._wait: str | None = None
        self._deadline: float | None = None
        self._play_id = 0
        self._playing: int | None = None
        self._failures = 0
        self._digits = ""
        self._typeahead = ""
        self._request_id = 0
        self._to_engine = True  # the contact is in the engine's IVR
        self._out: list[fx.Effect] = []

    @property
    def version(self) -> int | None:
        """The version of the flow this call runs (pinned at creation)."""
        return self.flow.version

    @property
    def step(self) -> str | None:
        """The id of the current step."""
        return self._step.id if self._step is not None else None

    @property
    def attributes(self) -> Mapping[str, Any]:
        """The call's attributes now (read-only view; sensitive values unmasked)."""
        return MappingProxyType(self._attrs)

    @property
    def waiting_for(self) -> str | None:
        """prompt, input, lookup, queue, or None (not started or ended)."""
        return self._wait

    def next_deadline(self) -> float | None:
        """When :meth:`advance` must be called next; None while nothing is timed."""
        return self._deadline

    def _emit(self, effect: fx.Effect) -> None:
        self._out.append(effect)

    def _set_wait(self, wait: str | None, seconds: float | None) -> None:
        self._wait = wait
        self._deadline = None if seconds is None else self._now + seconds

    def _end(self) -> None:
        self.status = Status.ENDED
        self._set_wait(None, None)
        self._playing = None

    def _part(self, prompt: m.Prompt) -> fx.PromptPart:
        text = lang = None
        if prompt.texts:
            want = str(self._attrs.get("language"))
            chosen = want if want in prompt.texts else \
                self.flow.language if self.flow.language in prompt.texts else \
                next(iter(prompt.texts))
            lang = chosen
            text = render(prompt.texts[chosen], self._attrs).strip()
        file = render(prompt.file, self._attrs) if prompt.file else None
        return fx.PromptPart(text=text, lang=lang, file=file)

    def _play(self, prompts: list[m.Prompt], barge_in: bool) -> None:
        self._play_id += 1
        self._playing = self._play_id
        self._emit(fx.PlayPrompt(step=self.step, play_id=self._play_id,
                                 parts=tuple(self._part(p) for p in prompts), barge_in=barge_in))
        self._set_wait("prompt", self.flow.max_prompt_s)

    def _stop_prompt(self) -> None:
        if self._playing is not None:
            self._emit(fx.StopPrompt(step=self.step, play_id=self._playing))
            self._playing = None

    def _record(self, digits: str, attributes: Mapping[str, Any], outcome: str) -> None:
        shown = {k: (mask(str(v)) if k in self._sensitive else v) for k, v in attributes.items()}
        self._emit(fx.InputRecorded(step=self.step, digits=digits, attributes=shown,
                                    outcome=outcome, to_engine=self._to_engine))

    def _export(self, names: tuple[str, ...] | None) -> dict[str, Any]:
        """Attributes handed to routing: the named ones (or all but the call's
        own), sensitive ones masked, missing ones left out."""
        keys = names if names is not None else [
            k for k in self._attrs if k not in ("caller", "interaction_id")]
        out = {}
        for k in keys:
            v = self._attrs.get(k)
            if v is not None:
                out[k] = mask(str(v)) if k in self._sensitive else v
        return out

    def _skills(self, skills: Mapping[str, int]) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, level in skills.items():
            resolved = render(name, self._attrs)
            if resolved:
                out[resolved] = max(level, out.get(resolved, 0))
        return out

