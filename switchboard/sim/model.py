"""What a simulation runs: demand streams, agents with shifts, and the routing.

A :class:`Scenario` is built either from a YAML file (see
:mod:`switchboard.sim.scenario`) or from the command line's single-queue flags
(:func:`single_queue`). Times inside a day are seconds from the day's start.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from switchboard.domain.enums import Channel
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig, check_levels
from switchboard.sim.dists import Distribution, Exponential

SL_FORMULAS = ("default", "answered", "ignore_short", "abandons_met")
# 2024-01-01T00:00:00Z: the default first simulated day (event-log time stamps).
DEFAULT_START = 1704067200.0


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_hour`` Poisson arrivals from ``start_s`` to ``end_s`` of the day."""

    start_s: float
    end_s: float
    per_hour: float


@dataclass(frozen=True, slots=True)
class PoissonArrivals:
    """A Poisson process whose rate is constant within each interval (a
    non-homogeneous process with a piecewise-constant rate). Intervals may
    leave gaps (no arrivals) but must not overlap."""

    rates: tuple[Rate, ...]

    def times(self, rng: random.Random, window_s: float) -> Iterator[float]:
        """Arrival offsets (seconds from the day's start) before ``window_s``.
        The exponential gap restarts at each interval boundary, which is exact
        because the exponential law is memoryless."""
        expo = rng.expovariate
        for r in self.rates:
            if r.per_hour <= 0:
                continue
            end = min(r.end_s, window_s)
            rate = r.per_hour / 3600.0
            t = r.start_s + expo(rate)
            while t < end:
                yield t
                t += expo(rate)


@dataclass(frozen=True, slots=True)
class ReplayArrivals:
    """The arrivals of a CDR file, replayed at the same offsets every day."""

    offsets: tuple[float, ...]

    def times(self, rng: random.Random, window_s: float) -> Iterator[float]:
        for t in self.offsets:
            if t >= window_s:
                return
            yield t


Arrivals = PoissonArrivals | ReplayArrivals


@dataclass(frozen=True, slots=True)
class Stream:
    """One kind of demand: contacts that arrive, wait for ``queue`` and are handled.

    ``wrapup`` None: the queue's fixed ``wrapup_s`` applies (the engine's
    timer); otherwise the simulated agent ends wrap-up after a sampled time.
    ``patience`` None: customers never abandon. ``callback_accept``: the share
    of customers who take a callback when the queue offers one.
    """

    name: str
    queue: str
    arrivals: Arrivals
    aht: Distribution
    patience: Distribution | None = None
    wrapup: Distribution | None = None
    channel: Channel = Channel.VOICE
    priority: int = 0
    skills: Mapping[str, int] = field(default_factory=dict)
    callback_accept: float = 0.0

    def __post_init__(self) -> None:
        # Checked here once: the runner builds its commands from these values
        # without checking them again for every contact.
        try:
            object.__setattr__(self, "channel", Channel(self.channel))
        except ValueError:
            raise ValidationError(f"unknown channel {self.channel!r}; use one of "
                                  f"{', '.join(Channel)}", field="channel") from None
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise ValidationError("must be a whole number", field="priority")
        object.__setattr__(self, "skills", check_levels(self.skills, "skills"))


@dataclass(frozen=True, slots=True)
class Break:
    start_s: float
    duration_s: float
    reason: str = "break"


@dataclass(frozen=True, slots=True)
class Shift:
    """Logged in from ``start_s`` to ``end_s``. An agent whose shift ends while
    the day still takes arrivals leaves after the contact in hand; a shift that
    ends with the arrival window (or later) stays until every contact is done."""

    start_s: float
    end_s: float
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentPlan:
    config: AgentConfig
    shifts: tuple[Shift, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one simulation run needs. ``hours``: the arrival window of
    each day; ``answer_s``: the agents' ring-to-answer time (None: at once)."""

    routing: RoutingConfig
    agents: tuple[AgentPlan, ...]
    streams: tuple[Stream, ...]
    hours: float = 8.0
    days: int = 1
    seed: int = 1
    sl_threshold_s: float = 20.0
    sl_formula: str = "default"
    short_abandon_s: float = 5.0
    answer_s: Distribution | None = None
    start: float = DEFAULT_START

    def __post_init__(self) -> None:
        check_run(self.hours, self.days, self.sl_threshold_s, self.sl_formula)
        queues = {q.id for q in self.routing.queues}
        for i, s in enumerate(self.streams):
            if s.queue not in queues:
                raise ValidationError(f"unknown queue {s.queue!r}", field=f"demand[{i}].queue")
            self.routing.check_skills(s.skills, f"demand[{i}].skills")

    @property
    def window_s(self) -> float:
        return self.hours * 3600.0

    @property
    def day_span_s(self) -> float:
        """Seconds between the starts of two simulated days: whole days."""
        return 86400.0 * max(1, math.ceil(self.hours / 24.0))


def check_run(hours: float, days: int, sl_threshold_s: float, sl_formula: str) -> None:
    """Validate the run-wide settings shared by the flags and the YAML file."""
    if isinstance(hours, bool) or not isinstance(hours, int | float) \
            or not math.isfinite(hours) or hours <= 0:
        raise ValidationError(f"must be a number of hours > 0, got {hours!r}", field="hours")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"must be a whole number >= 1, got {days!r}", field="days")
    if isinstance(sl_threshold_s, bool) or not isinstance(sl_threshold_s, int | float) \
            or not math.isfinite(sl_threshold_s) or sl_threshold_s < 0:
        raise ValidationError(f"must be seconds >= 0, got {sl_threshold_s!r}",
                              field="sl_threshold")
    if sl_formula not in SL_FORMULAS:
        raise ValidationError(
            f"unknown formula {sl_formula!r}; use one of {', '.join(SL_FORMULAS)}",
            field="sl_formula")


def single_queue(*, arrivals_per_hour: float, aht_s: float, agents: int,
                 patience_s: float | None = None, hours: float = 8.0, days: int = 1,
                 seed: int = 1, sl_threshold_s: float = 20.0,
                 sl_formula: str = "default") -> Scenario:
    """M/M/n (or M/M/n+M with ``patience_s``): one queue, longest-idle routing,
    Poisson arrivals, exponential handle time and patience, no wrap-up, and
    ``agents`` agents logged in for the whole day."""
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise ValidationError(f"must be a whole number >= 1, got {agents!r}", field="agents")
    if isinstance(arrivals_per_hour, bool) or not isinstance(arrivals_per_hour, int | float) \
            or not math.isfinite(arrivals_per_hour) or arrivals_per_hour < 0:
        raise ValidationError(f"must be a number >= 0, got {arrivals_per_hour!r}",
                              field="arrivals_per_hour")
    check_run(hours, days, sl_threshold_s, sl_formula)
    width = len(str(agents))
    configs = tuple(AgentConfig(id=f"agent-{i:0{width}d}") for i in range(1, agents + 1))
    routing = RoutingConfig(queues=(QueueConfig(id="main", sl_threshold_s=sl_threshold_s),),
                            agents=configs)
    end = hours * 3600.0
    stream = Stream(
        name="main", queue="main",
        arrivals=PoissonArrivals((Rate(0.0, end, float(arrivals_per_hour)),)),
        aht=_exp(aht_s, "aht"),
        patience=None if patience_s is None else _exp(patience_s, "patience"),
    )
    return Scenario(routing=routing,
                    agents=tuple(AgentPlan(a, (Shift(0.0, end),)) for a in configs),
                    streams=(stream,), hours=hours, days=days, seed=seed,
                    sl_threshold_s=sl_threshold_s, sl_formula=sl_formula)


def _exp(mean: float, name: str) -> Exponential:
    try:
        return Exponential(mean)
    except ValidationError as exc:
        raise ValidationError(exc.message, field=name) from None
