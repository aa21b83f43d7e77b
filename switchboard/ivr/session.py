"""The IVR interpreter: one :class:`IvrSession` per call, sans-I/O.

Theory of operation. A session walks its flow's steps. Instant steps (set,
branch, hours) run at once; the others wait, and a session waits for exactly
one thing at a time (``_wait``):

* ``prompt``: a prompt plays; ``prompt_finished`` (or the flow's
  ``max_prompt_s`` safety limit) ends it;
* ``input``: a menu, collect, callback or survey step waits for keys until
  its deadline (``timeout_s``, then ``inter_digit_timeout_s`` between keys);
* ``lookup``: a lookup waits for ``lookup_result`` until ``timeout_s``;
* ``queue``: an enqueue step with ``after_call`` or ``if_refused`` handed the
  call to routing and may be resumed by ``after_call`` / ``queue_refused``.

Every input takes the time ``now`` (never earlier than the last one) and
returns the effects (:mod:`switchboard.ivr.effects`). There is at most one
deadline (:meth:`next_deadline`); the shell calls :meth:`advance` when it comes.
Keys pressed while the session is not waiting for keys are kept (type-ahead,
up to 32) for the next menu or collect, except while a prompt without
barge-in plays: those are dropped. The session holds the flow it was started
with, so saving a new version never changes a running call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from switchboard.domain import commands as c
from switchboard.domain.errors import InvalidTransition, ValidationError
from switchboard.domain.model import Customer
from switchboard.ivr import effects as fx
from switchboard.ivr import model as m
from switchboard.ivr.hours import status as hours_status
from switchboard.ivr.logic import flatten, matches
from switchboard.ivr.values import mask, passes, render

MAX_TYPEAHEAD = 32
MAX_CHAIN = 1000  # steps in a row without a wait: a guard; validation forbids such loops


class Status(StrEnum):
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


class IvrSession:
    """Runs one call through a flow. See the module docstring."""

    def __init__(self, flow: m.Flow, call: CallInfo, now: float) -> None:
        self.flow = flow
        self.call = call
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

    # ---------------------------------------------------------------- queries
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

    # ----------------------------------------------------------------- inputs
    def start(self, now: float) -> tuple[fx.Effect, ...]:
        """Enter the flow's start step. Raises InvalidTransition if already started."""
        if self.status is not Status.NEW:
            raise InvalidTransition(f"the session is {self.status.value}, not new")
        return self._input(now, self._start, starting=True)

    def digit(self, d: str, now: float) -> tuple[fx.Effect, ...]:
        """One key (0-9, * or #) from the caller."""
        if not isinstance(d, str) or len(d) != 1 or d not in m.DIGITS:
            raise ValidationError(f"must be one of 0-9, * or #, got {d!r}", field="digit")
        return self._input(now, lambda: self._on_digit(d))

    def advance(self, now: float) -> tuple[fx.Effect, ...]:
        """Fire the deadline if it has come (nothing happens otherwise)."""
        return self._input(now, self._on_time)

    timeout = advance  # the shell's timer fired: the same thing

    def prompt_finished(self, now: float, play_id: int | None = None) -> tuple[fx.Effect, ...]:
        """The prompt has played to its end (an old ``play_id`` is ignored)."""
        def run() -> None:
            if self._wait == "prompt" and play_id in (None, self._playing):
                self._prompt_done()
        return self._input(now, run)

    def lookup_result(self, data: Mapping[str, Any] | None, now: float,
                      request_id: int | None = None) -> tuple[fx.Effect, ...]:
        """The data a :class:`LookupRequest` asked for, or None (not found, an
        error). Late answers (after the timeout, another request) are ignored."""
        if data is not None and not isinstance(data, Mapping):
            raise ValidationError("must be a mapping or None", field="data")
        return self._input(now, lambda: self._on_lookup(data, request_id))

    def queue_refused(self, now: float) -> tuple[fx.Effect, ...]:
        """The engine refused the Enqueue (queue full, no agents)."""
        return self._input(now, lambda: self._on_queue_end("if_refused"))

    def after_call(self, now: float) -> tuple[fx.Effect, ...]:
        """The agent's part ended and the caller is still on the line."""
        return self._input(now, lambda: self._on_queue_end("after_call"))

    def hangup(self, now: float) -> tuple[fx.Effect, ...]:
        """The caller hung up: the session ends (the shell tells the engine)."""
        def run() -> None:
            self._end()
        return self._input(now, run)

    # ------------------------------------------------------------- machinery
    def _input(self, now: float, action: Callable[[], None], *,
               starting: bool = False) -> tuple[fx.Effect, ...]:
        if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
            raise ValidationError(f"must be a time in seconds, got {now!r}", field="now")
        if now < self._now:
            raise ValidationError(f"time went backwards ({now} < {self._now})", field="now")
        if self.status is Status.ENDED:
            return ()
        if self.status is Status.NEW and not starting:
            raise InvalidTransition("the session has not started: call start(now) first")
        self._now = now
        before = self._deadline
        self._out = []
        action()
        out = self._out
        if self._deadline is not None and self._deadline != before:
            out.append(fx.StartTimer(step=self.step, at=self._deadline,
                                     purpose=self._wait or "input"))
        self._out = []
        return tuple(out)

    def _emit(self, effect: fx.Effect) -> None:
        self._out.append(effect)

    def _start(self) -> None:
        self.status = Status.RUNNING
        self._go(self.flow.start)

    def _set_wait(self, wait: str | None, seconds: float | None) -> None:
        self._wait = wait
        self._deadline = None if seconds is None else self._now + seconds

    def _end(self) -> None:
        self.status = Status.ENDED
        self._set_wait(None, None)
        self._playing = None

    def _go(self, step_id: str) -> None:
        """Enter steps until one waits or the call is handed over."""
        next_id: str | None = step_id
        for _ in range(MAX_CHAIN):
            assert next_id is not None
            step = self.flow.step(next_id)
            self._step = step
            self._set_wait(None, None)
            next_id = self._enter(step)
            if next_id is None:
                return
        self._emit(fx.HangUp(step=self.step, reason="loop", ends_contact=self._to_engine))
        self._end()

    def _enter(self, step: m.Step) -> str | None:
        if isinstance(step, m.Play):
            if step.barge_in and self._typeahead:
                return step.next
            self._play([step.prompt], step.barge_in)
            return None
        if isinstance(step, m.Ask):
            self._failures = 0
            self._digits = ""
            if isinstance(step, m.Callback):
                self._emit(fx.OfferCallback(step=step.id, queue_id=step.queue))
            self._emit(fx.CollectDigits(
                step=step.id, max_digits=step.max_length if isinstance(step, m.Collect) else 1,
                terminator=step.terminator if isinstance(step, m.Collect) else None,
                timeout_s=step.timeout_s))
            if self._typeahead and step.barge_in:
                self._set_wait("input", step.timeout_s)
                self._drain_typeahead()
                return None
            self._typeahead = ""
            self._play([step.prompt], step.barge_in)
            return None
        return self._run_other(step)

    def _run_other(self, step: m.Step) -> str | None:
        if isinstance(step, m.SetAttributes):
            done: dict[str, Any] = {}
            for name, value in step.values.items():
                value = render(value, self._attrs) if isinstance(value, str) else value
                self._sensitive.discard(name)
                if value is None:
                    self._attrs.pop(name, None)
                else:
                    self._attrs[name] = value
                done[name] = value
            self._record("", done, "set")
            return step.next
        if isinstance(step, m.Branch):
            for rule in step.rules:
                if matches(rule, self._attrs.get(rule.attr)):
                    return rule.next
            return step.default
        if isinstance(step, m.Hours):
            state = hours_status(step, self._now)
            if state == "open":
                return step.open
            return step.holiday if state == "holiday" and step.holiday else step.closed
        if isinstance(step, m.Lookup):
            self._request_id += 1
            self._emit(fx.LookupRequest(
                step=step.id, request_id=self._request_id, source=step.source,
                url=render(step.url, self._attrs) if step.url else None, method=step.method,
                params={k: render(v, self._attrs) for k, v in step.params.items()},
                timeout_s=step.timeout_s))
            self._set_wait("lookup", step.timeout_s)
            return None
        self._terminal(step)
        return None

    def _terminal(self, step: m.Step) -> None:
        if isinstance(step, m.Enqueue):
            agent = render(step.preferred_agent, self._attrs) if step.preferred_agent else ""
            self._emit(fx.Enqueue(step=step.id, queue_id=step.queue, priority=step.priority,
                                  skills=self._skills(step.skills),
                                  attributes=self._export(step.attributes),
                                  preferred_agent=agent or None))
            self._to_engine = False
            if step.after_call or step.if_refused:
                self.status = Status.QUEUED
                self._set_wait("queue", None)
                return
        elif isinstance(step, m.Voicemail):
            self._emit(fx.StartVoicemail(
                step=step.id, queue_id=step.queue,
                greeting=self._part(step.greeting) if step.greeting else None,
                max_s=step.max_s, beep=step.beep, terminator=step.terminator,
                attributes=self._export(None)))
        elif isinstance(step, m.Transfer):
            self._emit(fx.TransferExternal(step=step.id, number=step.number,
                                           caller_id=step.caller_id,
                                           ring_timeout_s=step.ring_timeout_s,
                                           ends_contact=self._to_engine))
        elif isinstance(step, m.Hangup):
            self._emit(fx.HangUp(step=step.id, reason=step.reason,
                                 ends_contact=self._to_engine))
        else:  # pragma: no cover - every step type is handled above
            raise TypeError(f"unknown step {step!r}")
        self._end()

    # ---------------------------------------------------------------- prompts
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

    def _prompt_done(self) -> None:
        self._playing = None
        step = self._step
        if isinstance(step, m.Play):
            self._go(step.next)
        elif isinstance(step, m.Ask):
            self._set_wait("input", step.timeout_s)

    # ------------------------------------------------------------------ input
    def _on_digit(self, d: str) -> None:
        step = self._step
        if self._wait == "input":
            self._ask_digit(d)
        elif self._wait == "prompt" and isinstance(step, m.Ask | m.Play):
            if not step.barge_in:
                return
            self._stop_prompt()
            if isinstance(step, m.Ask):
                self._set_wait("input", step.timeout_s)
                self._ask_digit(d)
            else:
                self._keep(d)
                self._go(step.next)
        elif self._wait == "lookup":
            self._keep(d)

    def _keep(self, d: str) -> None:
        if len(self._typeahead) < MAX_TYPEAHEAD:
            self._typeahead += d

    def _drain_typeahead(self) -> None:
        step = self._step
        while self._typeahead and self._wait == "input" and self._step is step:
            d, self._typeahead = self._typeahead[0], self._typeahead[1:]
            self._ask_digit(d)

    def _ask_digit(self, d: str) -> None:
        step = self._step
        if isinstance(step, m.Menu):
            if d in step.options:
                self._record(d, {}, "selected")
                self._go(step.options[d])
            else:
                self._failure(d, "invalid")
        elif isinstance(step, m.Callback):
            if d == step.accept_key:
                self._record(d, {}, "accepted")
                phone = render(step.phone, self._attrs)
                self._emit(fx.RequestCallback(
                    step=step.id, queue_id=step.queue, phone=phone or None,
                    priority=step.priority, skills=self._skills(step.skills),
                    attributes=self._export(None)))
                self._to_engine = False
                self._go(step.accepted)
            elif d == step.decline_key:
                self._record(d, {}, "declined")
                self._go(step.fallback)
            else:
                self._failure(d, "invalid")
        elif isinstance(step, m.Survey):
            if d in "12345":
                self._record(d, {}, "answered")
                self._emit(fx.RecordSurvey(step=step.id, survey=step.survey, score=int(d)))
                self._go(step.next)
            else:
                self._failure(d, "invalid")
        elif isinstance(step, m.Collect):
            if d == step.terminator:
                if len(self._digits) >= step.min_length:
                    self._collected(step)
                else:
                    self._failure(self._digits + d, "invalid")
                return
            self._digits += d
            if len(self._digits) >= step.max_length:
                self._collected(step)
            else:
                self._set_wait("input", step.inter_digit_timeout_s)

    def _collected(self, step: m.Collect) -> None:
        value = self._digits
        if not all(passes(check, value) for check in step.checks):
            self._failure(value, "invalid")
            return
        self._attrs[step.into] = value
        if step.sensitive:
            self._sensitive.add(step.into)
        else:
            self._sensitive.discard(step.into)
        shown = mask(value) if step.sensitive else value
        self._record(shown, {step.into: shown}, "collected")
        self._go(step.next)

    def _failure(self, keyed: str, outcome: str) -> None:
        step = self._step
        assert isinstance(step, m.Ask)
        sensitive = isinstance(step, m.Collect) and step.sensitive
        self._record(mask(keyed) if sensitive else keyed, {}, outcome)
        self._failures += 1
        self._digits = ""
        self._typeahead = ""
        if self._failures > step.retries:
            self._go(step.fallback)
            return
        extra = step.invalid if outcome == "invalid" else step.no_input
        self._play([p for p in (extra, step.prompt) if p is not None], step.barge_in)

    # ------------------------------------------------------------ time, data
    def _on_time(self) -> None:
        if self._deadline is None or self._now < self._deadline:
            return
        step = self._step
        if self._wait == "prompt":
            self._prompt_done()
        elif self._wait == "input" and isinstance(step, m.Ask):
            if isinstance(step, m.Collect) and self._digits:
                if len(self._digits) >= step.min_length:
                    self._collected(step)
                else:
                    self._failure(self._digits, "invalid")
            else:
                self._failure("", "no_input")
        elif self._wait == "lookup" and isinstance(step, m.Lookup):
            self._record("", {}, "lookup_timeout")
            self._go(step.fallback)

    def _on_lookup(self, data: Mapping[str, Any] | None, request_id: int | None) -> None:
        step = self._step
        if self._wait != "lookup" or not isinstance(step, m.Lookup) \
                or request_id not in (None, self._request_id):
            return
        if data is None:
            self._record("", {}, "lookup_failed")
            self._go(step.fallback)
            return
        found = flatten(data, step.into)
        for key in [k for k in self._attrs if k.startswith(step.into + ".")]:
            del self._attrs[key]
        self._attrs.update(found)
        self._record("", found, "lookup")
        self._go(step.next)

    def _on_queue_end(self, which: str) -> None:
        step = self._step
        if self.status is not Status.QUEUED or not isinstance(step, m.Enqueue):
            return
        target = step.if_refused if which == "if_refused" else step.after_call
        if target is None:
            if which == "if_refused":
                self._to_engine = True  # the engine kept the contact in IVR
                self._emit(fx.HangUp(step=step.id, reason="queue_refused"))
            self._end()
            return
        self.status = Status.RUNNING
        self._to_engine = which == "if_refused"
        self._go(target)

    # ---------------------------------------------------------------- helpers
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
