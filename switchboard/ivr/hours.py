"""Business hours and holidays: is a time inside the opening hours?

Opening hours are wall-clock ranges in the flow's time zone. The instant comes
in as POSIX seconds and is converted with :mod:`zoneinfo` (the IANA database:
pure computation, no clock is read), so daylight-saving changes need no care
from the flow's author: 08:00-18:00 means 08:00 to 18:00 local time on both
sides of a change, and an instant in the repeated hour of an autumn change
maps to the one local time it really is.

A step may carry its hours inline or name a :class:`Calendar` (``calendar:``):
the administration's business hours and holidays, which the shell loads from
the store and hands to the session when the call starts, so a change made
there applies to the next call without saving the flow again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.ivr.model import Hours, Intervals

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True, kw_only=True)
class Calendar:
    """Named opening hours kept outside a flow: weekly ranges (Monday = 0) and
    holidays (a date with no ranges is closed all day), in ``timezone``."""

    timezone: str
    weekly: Mapping[int, Intervals] = field(default_factory=dict)
    holidays: Mapping[date, Intervals] = field(default_factory=dict)


_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_range(text: str) -> tuple[int, int]:
    """``"08:30-12:00"`` to minutes from midnight ``(510, 720)``; ``24:00`` may
    end a range. Raises ValueError with a reason."""
    m = _RANGE.match(text)
    if m is None:
        raise ValueError(f"{text!r} is not a range like 08:30-12:00")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise ValueError(f"{text!r} is not a valid time of day")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts; split a range that passes "
                         "midnight over two days")
    return start, end


def merge(ranges: list[tuple[int, int]]) -> Intervals:
    """Sorted, with overlapping or touching ranges joined."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone; raises ValueError for an unknown name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         "Europe/Rome)") from None


def local_time(step: Hours | Calendar, now: float) -> tuple[date, int, int]:
    """The local date, weekday (Monday = 0) and minute of the day at ``now``."""
    local = datetime.fromtimestamp(now, tz=UTC).astimezone(zone(step.timezone))
    return local.date(), local.weekday(), local.hour * 60 + local.minute


def status(step: Hours | Calendar, now: float) -> str:
    """``open``, ``closed`` or ``holiday`` (a holiday date with no opening hours,
    or outside that date's special hours)."""
    day, weekday, minute = local_time(step, now)
    if day in step.holidays:
        ranges = step.holidays[day]
        if any(start <= minute < end for start, end in ranges):
            return "open"
        return "holiday"
    if any(start <= minute < end for start, end in step.weekly.get(weekday, ())):
        return "open"
    return "closed"
