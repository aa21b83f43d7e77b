"""An hours step that names a calendar (the administration's business hours)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from switchboard.ivr import CallInfo, FlowError, IvrSession
from switchboard.ivr import effects as fx
from switchboard.ivr.hours import Calendar
from tests.ivr.conftest import flow, only

FLOW = """\
name: t
start: hours
steps:
  hours: {type: hours, calendar: support, open: open, closed: closed, holiday: holiday}
  open: {type: enqueue, queue: q}
  closed: {type: hangup, reason: closed}
  holiday: {type: hangup, reason: holiday}
"""

SUPPORT = Calendar(timezone="Europe/Rome", weekly={1: ((8 * 60, 18 * 60),)},
                   holidays={date(2025, 3, 11): ()})


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def route(when: float, calendars: dict[str, Calendar] | None) -> str:
    s = IvrSession(flow(FLOW), CallInfo(interaction_id="c1"), when, calendars=calendars)
    out = s.start(when)
    if only(out, fx.Enqueue):
        return "open"
    (hang,) = only(out, fx.HangUp)
    return str(hang.reason)


@pytest.mark.parametrize(("when", "expected"), [
    (utc(2025, 3, 4, 6, 59), "closed"),   # Tue 07:59 CET
    (utc(2025, 3, 4, 7, 0), "open"),      # Tue 08:00 CET
    (utc(2025, 3, 5, 9, 0), "closed"),    # Wednesday: not in the calendar
    (utc(2025, 3, 11, 9, 0), "holiday"),  # a Tuesday that is a holiday
])
def test_the_step_follows_the_calendar_given_at_the_start(when: float, expected: str) -> None:
    assert route(when, {"support": SUPPORT}) == expected


def test_a_changed_calendar_applies_to_the_next_call_without_saving_the_flow() -> None:
    when = utc(2025, 3, 5, 9, 0)  # a Wednesday
    wednesdays = Calendar(timezone="Europe/Rome", weekly={2: ((0, 24 * 60),)})
    assert route(when, {"support": SUPPORT}) == "closed"
    assert route(when, {"support": wednesdays}) == "open"


def test_a_calendar_missing_at_call_time_routes_to_closed() -> None:
    assert route(utc(2025, 3, 4, 9, 0), {}) == "closed"
    assert route(utc(2025, 3, 4, 9, 0), None) == "closed"


def test_known_calendars_are_checked_and_inline_hours_refused_beside_one() -> None:
    flow(FLOW, known_calendars={"support"})
    with pytest.raises(FlowError) as exc:
        flow(FLOW, known_calendars={"sales"})
    assert exc.value.field == "steps.hours.calendar"
    assert "unknown calendar 'support'" in exc.value.message
    both = FLOW.replace("calendar: support,", "calendar: support, timezone: UTC,")
    with pytest.raises(FlowError) as exc:
        flow(both)
    assert exc.value.field == "steps.hours.timezone"
