"""Business hours in a time zone, across daylight-saving changes, with holidays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.ivr import effects as fx
from switchboard.ivr import model as m
from switchboard.ivr.hours import merge, parse_range, status
from tests.ivr.conftest import flow, only, session

FLOW = """\
name: t
start: hours
steps:
  hours:
    type: hours
    timezone: Europe/Rome
    weekly:
      mon: ["08:00-12:00", "11:00-18:00"]
      tue: ["08:00-18:00"]
      fri: ["08:00-18:00"]
      sat: ["08:00-18:00"]
      sun: ["02:00-03:00"]
    holidays:
      - 2025-12-25
      - {date: 2025-12-24, hours: ["09:00-12:00"]}
    open: open
    closed: closed
    holiday: holiday
  open: {type: enqueue, queue: q}
  closed: {type: hangup, reason: closed}
  holiday: {type: hangup, reason: holiday}
"""


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def step() -> m.Hours:
    h = flow(FLOW).step("hours")
    assert isinstance(h, m.Hours)
    return h


@pytest.mark.parametrize(("when", "expected"), [
    # Rome is UTC+1 in winter (CET) and UTC+2 in summer (CEST, from 2025-03-30 02:00).
    (utc(2025, 3, 28, 6, 59), "closed"),   # Fri 07:59 CET
    (utc(2025, 3, 28, 7, 0), "open"),      # Fri 08:00 CET
    (utc(2025, 3, 29, 16, 59), "open"),    # Sat 17:59 CET
    (utc(2025, 3, 29, 17, 0), "closed"),   # Sat 18:00 CET
    (utc(2025, 3, 30, 0, 59), "closed"),   # Sun 01:59 CET: the next minute is 03:00 CEST
    (utc(2025, 3, 30, 1, 0), "closed"),    # Sun 03:00 CEST: 02:00-03:00 never happened
    (utc(2025, 3, 31, 5, 59), "closed"),   # Mon 07:59 CEST
    (utc(2025, 3, 31, 6, 0), "open"),      # Mon 08:00 CEST, an hour earlier in UTC
    (utc(2025, 3, 31, 15, 59), "open"),    # Mon 17:59 CEST (overlapping ranges merged)
    (utc(2025, 3, 31, 16, 0), "closed"),   # Mon 18:00 CEST
    (utc(2025, 10, 26, 0, 30), "open"),    # Sun 02:30 CEST, first time
    (utc(2025, 10, 26, 1, 30), "open"),    # Sun 02:30 CET, the repeated hour
    (utc(2025, 10, 26, 2, 0), "closed"),   # Sun 03:00 CET
    (utc(2025, 10, 28, 6, 59), "closed"),  # Tue 07:59 CET again
    (utc(2025, 10, 28, 7, 0), "open"),     # Tue 08:00 CET
    (utc(2025, 12, 24, 8, 0), "open"),     # Wed 09:00: special hours on the 24th
    (utc(2025, 12, 24, 11, 0), "holiday"),  # Wed 12:00: after the special hours
    (utc(2025, 12, 24, 23, 30), "holiday"),  # already the 25th in Rome (00:30)
    (utc(2025, 12, 25, 10, 0), "holiday"),
    (utc(2025, 12, 26, 10, 0), "open"),    # Fri 11:00, the day after the holiday
])
def test_status_at_local_wall_clock_time(when: float, expected: str) -> None:
    assert status(step(), when) == expected


def test_the_session_takes_the_branch_for_open_closed_and_holiday() -> None:
    for when, target in ((utc(2025, 3, 31, 6, 0), "open"), (utc(2025, 3, 31, 16, 0), "closed"),
                         (utc(2025, 12, 25, 10, 0), "holiday")):
        s = session(FLOW, now=when)
        out = s.start(when)
        assert [e.step for e in out if isinstance(e, fx.Enqueue | fx.HangUp)] == [target]
    no_holiday_branch = FLOW.replace("    holiday: holiday\n", "").replace(
        "  holiday: {type: hangup, reason: holiday}\n", "")
    s = session(no_holiday_branch)
    out = s.start(utc(2025, 12, 25, 10, 0))
    assert only(out, fx.HangUp)[0].step == "closed"


def test_ranges() -> None:
    assert parse_range("8:30-12:00") == (510, 720)
    assert parse_range("00:00-24:00") == (0, 1440)
    for bad in ("8-12", "12:00-08:00", "10:00-10:00", "24:30-25:00", "08:60-09:00"):
        with pytest.raises(ValueError):
            parse_range(bad)
    assert merge([(600, 700), (480, 600), (800, 900), (850, 860)]) == ((480, 700), (800, 900))
