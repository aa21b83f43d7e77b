"""Report parameters and the export names of METRICS.md.

Every figure that has industry variants takes its variant from
:class:`ReportParams`, and every report states the variant it used
(``sl_formula``, ``sl_threshold_s`` in each row; the rest in the table caption
and the Parquet metadata).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from switchboard.domain.errors import ValidationError

#: The keys of every JSON, CSV and Parquet report row, in order (METRICS.md,
#: "Names in exports and JSON"), after ``key``.
EXPORT_NAMES: tuple[str, ...] = (
    "contacts", "offered", "answered", "abandoned", "short_abandoned",
    "abandon_rate", "self_service_rate", "asa_s", "ata_s", "max_wait_s",
    "service_level", "sl_threshold_s", "sl_formula", "att_s", "avg_hold_s",
    "hold_rate", "acw_s", "aht_s", "rna", "transfers", "overflows", "callbacks",
    "occupancy", "utilization", "shrinkage", "adherence", "fcr_rate", "csat", "nps",
)

#: Extra keys of ``--by agent`` rows: seconds in each agent state (null when
#: the input has no agent events, as a CDR file has not).
AGENT_TIME_NAMES: tuple[str, ...] = (
    "logged_in_s", "ready_idle_s", "reserved_s", "busy_s", "wrapup_s", "not_ready_s",
)

GROUPINGS: tuple[str, ...] = ("interval", "day", "queue", "agent", "channel")

#: Service-level formulas (METRICS.md "Service level"). With threshold T:
#: default: answered within T / (answered + abandoned)
#: answered: answered within T / answered
#: ignore_short: answered within T / (answered + abandoned after more than T)
#: abandons_met: (answered within T + abandoned within T) / (answered + abandoned)
SL_FORMULAS: tuple[str, ...] = ("default", "answered", "ignore_short", "abandons_met")

INTERVALS_MIN: tuple[int, ...] = (15, 30, 60)

US = 1_000_000  # microseconds in a second: every duration is summed as whole microseconds


def seconds_to_us(value: float) -> int:
    """Seconds (float) to whole microseconds, rounding half away from zero."""
    scaled = abs(value) * US
    whole = math.floor(scaled + 0.5)
    return int(whole if value >= 0 else -whole)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportParams:
    """How a report computes its figures.

    ``tz``: the tenant's zone (intervals and days are local to it).
    ``key_offsets``: interval keys carry the UTC offset (set when the input's
    time stamps had one). ``until``: POSIX seconds at which open agent states
    are closed (default: the last event's time).
    """

    interval_min: int = 30
    sl_threshold_s: float = 20.0
    sl_formula: str = "default"
    short_abandon_s: float = 5.0
    exclude_short_abandons: bool = False
    fcr_window_s: float = 7 * 86400.0
    tz: tzinfo = field(default=UTC)
    key_offsets: bool = False
    until: float | None = None

    def __post_init__(self) -> None:
        if self.interval_min not in INTERVALS_MIN:
            raise ValidationError("must be 15, 30 or 60 minutes", field="interval")
        if self.sl_formula not in SL_FORMULAS:
            raise ValidationError(f"must be one of {', '.join(SL_FORMULAS)}",
                                  field="sl_formula")
        for name in ("sl_threshold_s", "short_abandon_s", "fcr_window_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                raise ValidationError("must be a number of seconds >= 0", field=name)

    @property
    def sl_threshold_us(self) -> int:
        return seconds_to_us(self.sl_threshold_s)

    @property
    def short_abandon_us(self) -> int:
        return seconds_to_us(self.short_abandon_s)

    @property
    def fcr_window_us(self) -> int:
        return seconds_to_us(self.fcr_window_s)

    @property
    def interval_us(self) -> int:
        return self.interval_min * 60 * US

    def describe(self) -> dict[str, object]:
        """The parameters as plain values, for captions and file metadata."""
        return {
            "interval_min": self.interval_min,
            "sl_threshold_s": self.sl_threshold_s,
            "sl_formula": self.sl_formula,
            "short_abandon_s": self.short_abandon_s,
            "exclude_short_abandons": self.exclude_short_abandons,
            "fcr_window_s": self.fcr_window_s,
            "tz": str(getattr(self.tz, "key", self.tz)),
        }
