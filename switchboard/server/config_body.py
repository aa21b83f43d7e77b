"""Request bodies of the administration and their checks: reason codes and
dispositions, business hours and holidays, the tenant's settings, agents and
users. Every refusal is a :class:`ValidationError` naming the body's field
(``weekly.mon[1]``, ``hours[0]``, ``timezone``), so a page can show it next
to that field.

Opening hours use the IVR's own parser (:func:`switchboard.ivr.hours.parse_range`),
so what the administration accepts is exactly what an hours step can run;
unlike a flow file, overlapping ranges are refused here (a form that says
08:00-12:00 and 11:00-13:00 is more likely a typing mistake than a wish).
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from switchboard.domain.enums import Channel
from switchboard.domain.errors import ValidationError
from switchboard.ivr.hours import WEEKDAYS, parse_range
from switchboard.server.inputs import Body, SkillMap

_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_RANGES = 12  # opening ranges in one day


def check_code(value: str, field: str = "code") -> str:
    """A machine code: 1 to 100 letters, digits, ``_ . -``."""
    if not _CODE.match(value):
        raise ValidationError("use 1 to 100 letters, digits, _ . or - (no spaces)", field=field)
    return value


def check_label(value: str, field: str = "label") -> str:
    """Text a person reads: not blank (surrounding spaces are dropped)."""
    value = value.strip()
    if not value:
        raise ValidationError("must not be blank", field=field)
    return value


def check_zone(name: str, field: str = "timezone") -> str:
    """An IANA time zone name that this machine's zone database knows."""
    try:
        if not 0 < len(name) <= 64:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"unknown time zone {name[:64]!r} (use an IANA name such as "
                              "Europe/Rome)", field=field) from None
    return name


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_ranges(ranges: list[str], field: str) -> list[str]:
    """Opening ranges of one day (``["08:00-12:00", "13:00-18:00"]``), sorted and
    written ``HH:MM-HH:MM``; a bad or overlapping range names its index."""
    if len(ranges) > MAX_RANGES:
        raise ValidationError(f"at most {MAX_RANGES} ranges in a day", field=field)
    parsed: list[tuple[int, int, int]] = []
    for i, text in enumerate(ranges):
        try:
            start, end = parse_range(text)
        except ValueError as exc:
            raise ValidationError(str(exc), field=f"{field}[{i}]") from None
        parsed.append((start, end, i))
    parsed.sort()
    for (_, e1, i1), (s2, _, i2) in pairwise(parsed):
        if s2 < e1:
            later = max(i1, i2)
            other = ranges[min(i1, i2)]
            raise ValidationError(f"{ranges[later]} overlaps {other}; join them or make "
                                  "them meet", field=f"{field}[{later}]")
    return [f"{_fmt(s)}-{_fmt(e)}" for s, e, _ in parsed]


def check_weekly(weekly: dict[str, list[str]]) -> dict[str, list[str]]:
    """``{"mon": [ranges], ...}`` checked day by day (days left out are closed)."""
    out: dict[str, list[str]] = {}
    for day, ranges in weekly.items():
        if day not in WEEKDAYS:
            raise ValidationError(f"unknown day {day!r}; use {', '.join(WEEKDAYS)}",
                                  field=f"weekly.{day}")
        out[day] = check_ranges(ranges, f"weekly.{day}")
    return {d: out[d] for d in WEEKDAYS if out.get(d)}


def check_date(value: str, field: str = "date") -> str:
    """A calendar date written ``YYYY-MM-DD``."""
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{value[:40]!r} is not a date like 2025-12-25",
                              field=field) from None
    return value


# ------------------------------------------------------------------ bodies
class CodeIn(Body):
    """A reason code or a disposition."""

    code: str = Field(max_length=100, description="letters, digits, _ . -")
    label: str = Field(max_length=200)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        return check_code(v)

    @field_validator("label")
    @classmethod
    def _label(cls, v: str) -> str:
        return check_label(v)


class CodePatch(Body):
    code: str | None = Field(default=None, max_length=100)
    label: str | None = Field(default=None, max_length=200)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        return None if v is None else check_code(v)

    @field_validator("label")
    @classmethod
    def _label(cls, v: str | None) -> str | None:
        return None if v is None else check_label(v)


Ranges = list[str]


class HoursIn(Body):
    """Weekly opening hours: the tenant's (no ``queue``) or one queue's."""

    name: str = Field(max_length=100, description="the name IVR hours steps use")
    queue: str | None = Field(default=None, max_length=64)
    timezone: str | None = Field(default=None, max_length=64,
                                 description="IANA zone; the tenant's when left out")
    weekly: dict[str, Ranges] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_code(v, "name")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else check_zone(v)

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, v: dict[str, Ranges]) -> dict[str, Ranges]:
        return check_weekly(v)


class HoursPatch(Body):
    name: str | None = Field(default=None, max_length=100)
    queue: str | None = Field(default=None, max_length=64)
    timezone: str | None = Field(default=None, max_length=64)
    weekly: dict[str, Ranges] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_code(v, "name")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else check_zone(v)

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, v: dict[str, Ranges] | None) -> dict[str, Ranges] | None:
        return None if v is None else check_weekly(v)


class HolidayIn(Body):
    """A date with other hours: closed all day (``hours`` empty) or open only in
    ``hours``; for one calendar (``business_hours``) or all of them."""

    date: str = Field(max_length=10, description="YYYY-MM-DD, local to the calendar")
    name: str = Field(max_length=200)
    hours: Ranges = Field(default_factory=list)
    business_hours: str | None = Field(default=None, max_length=64)

    @field_validator("date")
    @classmethod
    def _date(cls, v: str) -> str:
        return check_date(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_label(v, "name")

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: Ranges) -> Ranges:
        return check_ranges(v, "hours")


class HolidayPatch(Body):
    date: str | None = Field(default=None, max_length=10)
    name: str | None = Field(default=None, max_length=200)
    hours: Ranges | None = None
    business_hours: str | None = Field(default=None, max_length=64)

    @field_validator("date")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        return None if v is None else check_date(v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_label(v, "name")

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: Ranges | None) -> Ranges | None:
        return None if v is None else check_ranges(v, "hours")


class TenantPatch(Body):
    name: str | None = Field(default=None, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_label(v, "name")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return None if v is None else check_zone(v)


class AgentPatch(Body):
    """An agent's name, skills (level 1..10) and capacity per channel."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    skills: SkillMap | None = None
    capacity: dict[Channel, int] | None = None


class PasswordIn(Body):
    password: str = Field(min_length=8, max_length=1024)


def not_null(changes: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """Refuse an explicit ``null`` for a field that cannot be cleared."""
    for key, value in changes.items():
        if value is None and key not in allowed:
            raise ValidationError("may not be null", field=key)
