"""Why a flow was refused: one :class:`FlowError` subclass per kind of mistake.

Every error is a :class:`~switchboard.domain.errors.ValidationError` (so the API
answers 422 and the CLI prints one line), with ``field`` naming the step's path
(``steps.main_menu.options.3``), ``step`` the step's id where there is one and
``line`` the line of the flow's text where it is known. ``str(error)`` reads
``support.yaml:14: steps.main_menu.options.3: unknown step 'billing'; ...``.

The graph checks find every problem at once: the error raised is the first
one, and ``errors`` holds all of them (the first included).
"""

from __future__ import annotations

from switchboard.domain.errors import ValidationError


class FlowError(ValidationError):
    """Base of every flow error."""

    code = "invalid_flow"

    def __init__(self, message: str, *, field: str | None = None, step: str | None = None,
                 line: int | None = None, source: str = "flow") -> None:
        super().__init__(message, field=field)
        self.step = step
        self.line = line
        self.source = source
        self.errors: tuple[FlowError, ...] = (self,)

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}: " if self.line is not None else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class FlowSyntaxError(FlowError):
    """The text is not valid YAML or JSON, or is not a mapping."""

    code = "flow_syntax"


class BadValue(FlowError):
    """A field is missing, unknown, of the wrong type or out of range (a
    language, a regular expression, a time, a time zone, a number)."""

    code = "flow_bad_value"


class UnknownStepType(FlowError):
    """A step's ``type`` is not one of the step types."""

    code = "flow_unknown_step_type"


class UnknownTarget(FlowError):
    """A step points (``next``, an option, a fallback) at a step that does not exist."""

    code = "flow_unknown_target"


class MissingFallback(FlowError):
    """A step that waits for the caller or for data has no way out when the
    caller keys nothing valid or the data does not come (menu without
    ``fallback``, lookup without ``fallback``, hours without ``closed``...)."""

    code = "flow_missing_fallback"


class UnreachableStep(FlowError):
    """No path leads from ``start`` to this step."""

    code = "flow_unreachable_step"


class LoopWithoutExit(FlowError):
    """A cycle from which no terminal step (enqueue, voicemail, transfer,
    hang-up) can be reached, or a cycle that never waits for the caller and
    so would spin forever."""

    code = "flow_loop_without_exit"


class MisplacedStep(FlowError):
    """A step where routing no longer owns the contact: after a callback was
    accepted (the contact waits in its queue) or after the call with an agent
    (the contact has ended), a flow may not enqueue or offer a callback again."""

    code = "flow_misplaced_step"
