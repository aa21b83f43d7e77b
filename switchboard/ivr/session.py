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
from typing import Any

from switchboard.domain.errors import InvalidTransition, ValidationError
from switchboard.ivr import effects as fx
from switchboard.ivr import model as m
from switchboard.ivr.hours import status as hours_status
from switchboard.ivr.keys import KeyHandling
from switchboard.ivr.logic import flatten, matches
from switchboard.ivr.state import CallInfo, Status
from switchboard.ivr.values import render

__all__ = ["CallInfo", "IvrSession", "Status"]

MAX_CHAIN = 1000  # steps in a row without a wait: a guard; validation forbids such loops


class IvrSession(KeyHandling):
    """Runs one call through a flow. See the module docstring."""

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

    def _start(self) -> None:
        self.status = Status.RUNNING
        self._go(self.flow.start)

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
            if step.calendar is not None:
                calendar = self.calendars.get(step.calendar)
                # a calendar deleted after the flow was saved: the caller is closed
                state = "closed" if calendar is None else hours_status(calendar, self._now)
            else:
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
