"""The flow model: a :class:`Flow` is a name, a start step and a table of steps.

Steps are frozen dataclasses, one class per step type (see docs/ivr.md). They
are built by :mod:`switchboard.ivr.loader` from checked data, so they hold no
validation of their own; ``targets()`` lists the steps a step can lead to,
which is all the graph checks and the interpreter need to know of the shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, ClassVar

LANGUAGES = ("en", "it", "fr", "zh")
DIGITS = "0123456789*#"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Prompt:
    """What to play: TTS text per language (``texts``), or an audio ``file``.

    Text and file names may hold ``{attribute}`` placeholders."""

    texts: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    file: str | None = None


@dataclass(frozen=True, slots=True)
class Check:
    """A check on collected digits: ``luhn``, ``regex`` (full match) or ``range``."""

    kind: str
    pattern: str | None = None
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a ``branch`` step: ``op`` is equals, not_equals, in, above,
    below, exists or missing, applied to attribute ``attr``."""

    attr: str
    op: str
    value: Any
    next: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """Base of every step: its id and the line where it is defined."""

    type: ClassVar[str] = "step"
    terminal: ClassVar[bool] = False
    instant: ClassVar[bool] = False  # runs without waiting for the caller or data

    id: str
    line: int | None = None

    def targets(self) -> tuple[tuple[str, str], ...]:
        """``(field, step id)`` for every step this one can lead to."""
        return ()


def _edges(step: Step, *names: str) -> tuple[tuple[str, str], ...]:
    out = []
    for name in names:
        target = getattr(step, name)
        if target is not None:
            out.append((name, target))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask(Step):
    """A step that waits for keys, with re-prompts and a fallback."""

    prompt: Prompt
    timeout_s: float = 5.0
    retries: int = 2
    invalid: Prompt | None = None
    no_input: Prompt | None = None
    barge_in: bool = True
    fallback: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Play(Step):
    type: ClassVar[str] = "play"
    prompt: Prompt
    barge_in: bool = False
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "next")


@dataclass(frozen=True, slots=True, kw_only=True)
class Menu(Ask):
    type: ClassVar[str] = "menu"
    options: Mapping[str, str]

    def targets(self) -> tuple[tuple[str, str], ...]:
        return tuple((f"options.{k}", v) for k, v in self.options.items()) \
            + _edges(self, "fallback")


@dataclass(frozen=True, slots=True, kw_only=True)
class Collect(Ask):
    type: ClassVar[str] = "collect"
    into: str
    min_length: int = 1
    max_length: int = 20
    terminator: str | None = "#"
    inter_digit_timeout_s: float = 4.0
    checks: tuple[Check, ...] = ()
    sensitive: bool = False
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "next", "fallback")


@dataclass(frozen=True, slots=True, kw_only=True)
class Callback(Ask):
    type: ClassVar[str] = "callback"
    queue: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    accept_key: str = "1"
    decline_key: str = "2"
    phone: str = "{caller}"
    accepted: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return (("fallback", self.fallback), ("accepted", self.accepted))


@dataclass(frozen=True, slots=True, kw_only=True)
class Survey(Ask):
    type: ClassVar[str] = "survey"
    survey: str = "csat"
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "next", "fallback")


Intervals = tuple[tuple[int, int], ...]  # minutes from local midnight, [start, end)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hours(Step):
    type: ClassVar[str] = "hours"
    instant: ClassVar[bool] = True
    timezone: str = ""  # empty with ``calendar``
    weekly: Mapping[int, Intervals] = field(default_factory=dict)  # Monday = 0
    holidays: Mapping[date, Intervals] = field(default_factory=dict)  # () = closed all day
    open: str
    closed: str
    holiday: str | None = None
    calendar: str | None = None  # a named calendar (business hours) instead of the above

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "open", "closed", "holiday")


@dataclass(frozen=True, slots=True, kw_only=True)
class SetAttributes(Step):
    type: ClassVar[str] = "set"
    instant: ClassVar[bool] = True
    values: Mapping[str, Any]
    next: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "next")


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch(Step):
    type: ClassVar[str] = "branch"
    instant: ClassVar[bool] = True
    rules: tuple[Rule, ...]
    default: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return tuple((f"rules[{i}].next", r.next) for i, r in enumerate(self.rules)) \
            + _edges(self, "default")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lookup(Step):
    type: ClassVar[str] = "lookup"
    source: str  # webhook | contacts
    url: str | None = None
    method: str = "GET"
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    timeout_s: float = 3.0
    into: str
    next: str
    fallback: str

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "next", "fallback")


@dataclass(frozen=True, slots=True, kw_only=True)
class Enqueue(Step):
    type: ClassVar[str] = "enqueue"
    terminal: ClassVar[bool] = True
    queue: str
    priority: int | None = None
    skills: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    attributes: tuple[str, ...] | None = None  # None: all of them
    preferred_agent: str | None = None
    after_call: str | None = None
    if_refused: str | None = None

    def targets(self) -> tuple[tuple[str, str], ...]:
        return _edges(self, "after_call", "if_refused")


@dataclass(frozen=True, slots=True, kw_only=True)
class Voicemail(Step):
    type: ClassVar[str] = "voicemail"
    terminal: ClassVar[bool] = True
    queue: str
    greeting: Prompt | None = None
    max_s: float = 120.0
    beep: bool = True
    terminator: str | None = "#"


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer(Step):
    type: ClassVar[str] = "transfer"
    terminal: ClassVar[bool] = True
    number: str
    caller_id: str | None = None
    ring_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Hangup(Step):
    type: ClassVar[str] = "hangup"
    terminal: ClassVar[bool] = True
    reason: str = "normal"


STEP_TYPES: Mapping[str, type[Step]] = MappingProxyType({
    cls.type: cls for cls in (Play, Menu, Collect, Hours, SetAttributes, Branch, Lookup,
                              Enqueue, Callback, Voicemail, Transfer, Survey, Hangup)
})


@dataclass(frozen=True, slots=True, kw_only=True)
class Flow:
    """A validated flow. ``digest`` is the SHA-256 of its canonical content (the
    same flow written differently has the same digest); ``version`` is given
    by a :class:`~switchboard.ivr.registry.FlowRegistry` when it is saved
    (``None`` before)."""

    name: str
    start: str
    language: str
    steps: Mapping[str, Step]
    max_prompt_s: float = 300.0
    digest: str
    version: int | None = None
    description: str = ""

    def step(self, step_id: str) -> Step:
        """The step with this id (the flow was validated, so every target exists)."""
        return self.steps[step_id]
