"""Duration distributions: handle time, wrap-up and patience.

Each distribution draws from a ``random.Random`` passed in, so a run is
reproducible from its seed. ``mean`` is the theoretical (or sample) mean, in
seconds; validation tests compare it with the Erlang inputs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.domain.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Exponential:
    """Exponential with the given mean (the M of M/M/n)."""

    mean: float

    def __post_init__(self) -> None:
        _positive(self.mean, "mean")

    def sample(self, rng: random.Random) -> float:
        return rng.expovariate(1.0 / self.mean)


@dataclass(frozen=True, slots=True)
class LogNormal:
    """Lognormal given by its own mean and standard deviation (seconds), not
    by the underlying normal's: sigma^2 = ln(1 + sd^2/mean^2),
    mu = ln(mean) - sigma^2/2 (the moments of the lognormal law)."""

    mean: float
    sd: float

    def __post_init__(self) -> None:
        _positive(self.mean, "mean")
        _positive(self.sd, "sd")

    @property
    def params(self) -> tuple[float, float]:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2.0, math.sqrt(sigma2)

    def sample(self, rng: random.Random) -> float:
        mu, sigma = self.params
        return rng.lognormvariate(mu, sigma)


@dataclass(frozen=True, slots=True)
class Constant:
    """Always the same value (deterministic service: the D of M/D/n)."""

    value: float

    def __post_init__(self) -> None:
        if not math.isfinite(self.value) or self.value < 0:
            raise ValidationError(f"must be a number >= 0, got {self.value!r}", field="value")

    @property
    def mean(self) -> float:
        return self.value

    def sample(self, rng: random.Random) -> float:
        return self.value


@dataclass(frozen=True, slots=True)
class Empirical:
    """Resamples observed values (from a CDR file) uniformly with replacement."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValidationError("needs at least one observed value", field="values")
        for v in self.values:
            if not math.isfinite(v) or v < 0:
                raise ValidationError(f"observed values must be >= 0, got {v!r}", field="values")

    @classmethod
    def of(cls, values: Sequence[float]) -> Empirical:
        return cls(tuple(float(v) for v in values))

    @property
    def mean(self) -> float:
        return math.fsum(self.values) / len(self.values)

    def sample(self, rng: random.Random) -> float:
        return self.values[int(rng.random() * len(self.values))]


Distribution = Exponential | LogNormal | Constant | Empirical


def _positive(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise ValidationError(f"must be a number > 0, got {value!r}", field=name)
