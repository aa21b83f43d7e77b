"""One error tree with stable, machine-readable codes.

Every error Switchboard raises on purpose is a :class:`SwitchboardError`. Its
``code`` is part of the API contract (never renamed); ``http_status`` is the
hint the API layer turns into a response status; ``field`` names the input
that must change, where there is one. Bad input is a 4xx; a 5xx is a bug.
"""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every deliberate Switchboard error."""

    code: str = "error"
    http_status: int = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out

    def __str__(self) -> str:
        if self.field:
            return f"{self.field}: {self.message}"
        return self.message


class ValidationError(SwitchboardError, ValueError):
    """An input value is malformed or out of range."""

    code = "invalid"
    http_status = 422


class ConfigError(ValidationError):
    """A routing configuration (queue, agent, skill, step) is inconsistent."""

    code = "invalid_config"


class NotFound(SwitchboardError, LookupError):
    """The named object (agent, queue, interaction) does not exist."""

    code = "not_found"
    http_status = 404


class Conflict(SwitchboardError):
    """The request is valid but the object's current state does not allow it."""

    code = "conflict"
    http_status = 409


class InvalidTransition(Conflict):
    """A state machine was asked for a transition its table does not allow.

    The machine is left exactly as it was.
    """

    code = "invalid_transition"


class AgentUnavailable(Conflict):
    """The target agent cannot take this contact now (status, capacity)."""

    code = "agent_unavailable"
