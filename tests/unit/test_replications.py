"""Replication seeds and 95 % t-intervals."""

from __future__ import annotations

import math

import pytest

from najda.simulations.replications import interval, rep_seeds


def test_replication_seeds_are_derived_deterministically_and_differ() -> None:
    seeds = rep_seeds(7, 5)
    assert seeds[0] == 7  # one replication runs as a single seeded run
    assert seeds == rep_seeds(7, 5)
    assert len(set(seeds)) == 5
    assert rep_seeds(7, 3) == seeds[:3]  # more replications extend, never reshuffle
    assert rep_seeds(8, 5)[1:] != seeds[1:]
    with pytest.raises(ValueError):
        rep_seeds(7, 0)


def test_the_interval_is_the_students_t_interval_of_the_mean() -> None:
    value = interval([1.0, 2.0, 3.0])
    # sd 1, n 3: half-width t(0.975, 2) / sqrt(3) with t(0.975, 2) = 4.302653 (t tables).
    assert value.mean == pytest.approx(2.0)
    assert value.half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert (value.low, value.high) == pytest.approx((2 - value.half, 2 + value.half))
    assert not value.excludes_zero()
    assert interval([1.0, 1.1, 0.9, 1.0]).excludes_zero()
    single = interval([5.0])
    assert single.n == 1 and math.isnan(single.half) and single.text() == "5.000"
    assert interval([math.nan, 2.0, 4.0]).n == 2  # a replication without the figure is left out
