"""Keys from the caller: menus, collect (CED), callback offers, surveys, barge-in
and type-ahead, retries and fallbacks. A mixin of the interpreter."""

from __future__ import annotations

from switchboard.ivr import effects as fx
from switchboard.ivr import model as m
from switchboard.ivr.state import SessionState
from switchboard.ivr.values import mask, passes, render

MAX_TYPEAHEAD = 32


class KeyHandling(SessionState):
    """What a key (or its absence) does at each kind of step."""

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

    def _prompt_done(self) -> None:
        self._playing = None
        step = self._step
        if isinstance(step, m.Play):
            self._go(step.next)
        elif isinstance(step, m.Ask):
            self._set_wait("input", step.timeout_s)
