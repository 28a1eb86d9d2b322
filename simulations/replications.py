"""Independent replications: derived seeds and 95 % t-intervals for every reported figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

import numpy as np
from scipy import stats

#: Confidence level of every interval reported.
LEVEL = 0.95


def rep_seeds(seed: int, reps: int) -> list[int]:
    """The seeds of `reps` independent replications derived from `seed` (the first is
    `seed` itself, so one replication runs exactly as a single seeded run)."""
    if reps < 1:
        raise ValueError("reps must be at least 1")
    derived = np.random.SeedSequence(seed).spawn(reps - 1)
    return [seed] + [int(s.generate_state(1, dtype=np.uint32)[0]) for s in derived]


@dataclass(frozen=True)
class Interval:
    """A mean over replications and the half-width of its 95 % t-interval (nan for n < 2)."""

    mean: float
    half: float
    n: int

    @property
    def low(self) -> float:
        """Lower end of the interval."""
        return self.mean - self.half

    @property
    def high(self) -> float:
        """Upper end of the interval."""
        return self.mean + self.half

    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of 0."""
        return self.n >= 2 and (self.low > 0 or self.high < 0)

    def text(self, scale: float = 1.0, digits: int = 3) -> str:
        """`mean ± half` (scaled), or the mean alone with a single replication."""
        if math.isnan(self.mean):
            return "n/a"
        if self.n < 2 or math.isnan(self.half):
            return f"{self.mean * scale:.{digits}f}"
        return f"{self.mean * scale:.{digits}f} ± {self.half * scale:.{digits}f}"


def interval(values: Sequence[float]) -> Interval:
    """Mean and 95 % t-interval half-width of the finite values (one per replication)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if data.size == 0:
        return Interval(math.nan, math.nan, 0)
    if data.size == 1:
        return Interval(float(data[0]), math.nan, 1)
    sem = float(data.std(ddof=1)) / math.sqrt(data.size)
    t = float(stats.t.ppf(0.5 + LEVEL / 2, data.size - 1))
    return Interval(float(data.mean()), t * sem, int(data.size))


def najda_version() -> str:
    """The installed Najda version (or 'unknown' when run from an uninstalled tree)."""
    try:
        return metadata.version("najda")
    except metadata.PackageNotFoundError:
        return "unknown"
