"""Request bodies: unknown fields refused, and no NUL character anywhere.

PostgreSQL text cannot hold a NUL (``\\x00``) character, and no field of this
API has a use for one, so every body refuses it up front (a 422 naming the
field) instead of failing in the database after the engine has run.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from switchboard.domain.errors import ValidationError

#: A skill name as the database stores it (1 to 100 characters).
SkillName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
#: {skill name: level or minimum level}
SkillMap = dict[SkillName, int]


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in ``value`` holding a NUL."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if isinstance(k, str) and "\x00" in k:
                return path or "body"
            found = nul_field(v, sub)
            if found:
                return found
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = nul_field(v, f"{path}[{i}]")
            if found:
                return found
    return None


class Body(BaseModel):
    """Base of every request body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        field = nul_field(data)
        if field is not None:
            raise ValidationError("must not contain a NUL character", field=field)
        return data
