"""Time zones for reports: instants, local wall times and group keys.

Every time stamp is held as whole microseconds since the POSIX epoch (UTC).
A naive time stamp is a wall time in the tenant's zone; it is turned into an
instant the way PEP 495 defines for ``fold=0``: an ambiguous wall time (the
repeated hour when clocks go back) is its first occurrence, and a wall time
that does not exist (the hour skipped when clocks go forward) takes the offset
in force before the change. Day and interval keys are the local wall time of
the instant in the tenant's zone, so a daylight-saving day has 23 or 25 hours.

:class:`TzTable` also lists the zone's offset changes, so that the columnar
engine (DuckDB) applies exactly the same rule as this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

from switchboard.metrics.params import US

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_DAY_US = 86400 * US


def us_to_naive(us: int) -> datetime:
    """A naive datetime for a count of microseconds since 1970-01-01T00:00."""
    return _NAIVE_EPOCH + timedelta(microseconds=us)


def naive_to_us(dt: datetime) -> int:
    """Microseconds since 1970-01-01T00:00 of a naive datetime (its wall value)."""
    delta = dt - _NAIVE_EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


@dataclass(frozen=True, slots=True)
class Transition:
    """The zone's offset changes at instant ``at_us`` from ``before_us`` to ``after_us``."""

    at_us: int
    before_us: int
    after_us: int


class TzTable:
    """Offsets of one zone, for instants and for wall times (``fold=0``)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    @property
    def name(self) -> str:
        return str(getattr(self.tz, "key", self.tz))

    def offset_at(self, utc_us: int) -> int:
        """The zone's UTC offset (microseconds) at an instant."""
        dt = (_EPOCH + timedelta(microseconds=utc_us)).astimezone(self.tz)
        off = dt.utcoffset()
        return 0 if off is None else _td_us(off)

    def wall_to_utc(self, wall_us: int) -> int:
        """The instant of a wall time in this zone (PEP 495, ``fold=0``)."""
        off = us_to_naive(wall_us).replace(tzinfo=self.tz).utcoffset()
        return wall_us - (0 if off is None else _td_us(off))

    def local(self, utc_us: int) -> tuple[int, int]:
        """(wall time in microseconds, offset in microseconds) of an instant."""
        off = self.offset_at(utc_us)
        return utc_us + off, off

    def transitions(self, lo_us: int, hi_us: int) -> tuple[int, list[Transition]]:
        """The offset in force at ``lo_us`` and every change in ``[lo_us, hi_us]``.

        The zone is sampled daily and each change is located to the second by
        bisection (no zone changes its offset twice within a day). A fixed
        offset (``datetime.timezone``) has no changes.
        """
        if isinstance(self.tz, timezone):
            return self.offset_at(lo_us), []
        step = 24 * 3600 * US
        lo_us -= lo_us % US  # samples fall on whole seconds, as transitions do
        first = self.offset_at(lo_us)
        out: list[Transition] = []
        prev_t, prev_off = lo_us, first
        t = lo_us
        while t < hi_us:
            t = min(t + step, hi_us + US - hi_us % US)
            off = self.offset_at(t)
            if off != prev_off:
                a, b = prev_t // US, t // US  # offset prev_off at a, off at b (seconds)
                while b - a > 1:
                    mid = (a + b) // 2
                    if self.offset_at(mid * US) == prev_off:
                        a = mid
                    else:
                        b = mid
                out.append(Transition(b * US, prev_off, self.offset_at(b * US)))
                prev_off = out[-1].after_us
            prev_t = t
        return first, out


def _td_us(td: timedelta) -> int:
    return (td.days * 86400 + td.seconds) * US + td.microseconds


def format_offset(off_us: int) -> str:
    """``+HH:MM`` (``+HH:MM:SS`` when seconds are not zero), as ``isoformat``."""
    sign = "-" if off_us < 0 else "+"
    total = abs(off_us) // US
    hh, rest = divmod(total, 3600)
    mm, ss = divmod(rest, 60)
    out = f"{sign}{hh:02d}:{mm:02d}"
    return out + (f":{ss:02d}" if ss else "")


def day_key(local_us: int) -> str:
    """``YYYY-MM-DD`` of a wall time."""
    return (date(1970, 1, 1) + timedelta(days=local_us // _DAY_US)).isoformat()


def interval_start(local_us: int, interval_us: int) -> int:
    """The wall time at which the interval holding ``local_us`` starts."""
    return local_us - local_us % interval_us


def interval_key(start_us: int, off_us: int | None) -> str:
    """ISO 8601 of an interval start, with the offset when one is given."""
    text = us_to_naive(start_us).isoformat(timespec="seconds")
    return text if off_us is None else text + format_offset(off_us)


def fixed_zone(off_us: int) -> tzinfo:
    """A zone with a constant offset (for ``--tz +02:00``)."""
    return timezone(timedelta(microseconds=off_us))
