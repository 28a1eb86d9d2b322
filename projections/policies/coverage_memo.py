"""What a coverage policy weighs, computed once per idle load and remembered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from najda.projections.policies.redeploy import nested_posts

if TYPE_CHECKING:
    from najda.projections.policies.dispatch import SimView

K = TypeVar("K")
V = TypeVar("V")


class CoverageMemo:
    """Coverage figures of one scenario, travel and q, each computed once per idle load.

    `load[s]` is the number of idle units at station s; the units covering each demand point
    are load · C (C: station × demand 0/1 matrix), exact small integers as float, so every
    figure is the same number a fresh computation gives.
    """

    LIMIT = 100_000  #: entries kept per table before it starts afresh

    def __init__(self, sim: SimView, q: float, covers: Sequence[np.ndarray]) -> None:
        self.scenario, self.travel, self.q = sim.scenario, sim.travel, q
        self.weights = sim.scenario.demand.weights
        self.capacity = [site.capacity for site in sim.scenario.stations]
        self.covers = list(covers)
        self.matrix = np.array(self.covers, dtype=float)
        # The covered points of each station as indices: picking them out of a per-point
        # array gives the same values in the same order as the 0/1 mask does, faster.
        self.points = [np.flatnonzero(cover) for cover in self.covers]
        self._losses: dict[tuple[tuple[int, ...], int], float] = {}
        self._kept: dict[tuple[int, ...], float] = {}
        self._stations: dict[tuple[tuple[int, ...], int, int], tuple[int, float, float]] = {}
        self._posts: dict[int, tuple[int, ...]] = {}
        self._gains: dict[tuple[int, ...], list[float]] = {}

    def serves(self, sim: SimView, q: float) -> bool:
        """True when built for this very scenario, travel and q."""
        return sim.scenario is self.scenario and sim.travel is self.travel and q == self.q

    def counts(self, load: tuple[int, ...]) -> np.ndarray:
        """Idle units covering each demand point."""
        return np.asarray(np.asarray(load, dtype=float) @ self.matrix)

    def loss(self, load: tuple[int, ...], station: int) -> float:
        """Expected coverage lost when a unit idle at `station` leaves the idle `load`."""
        key = (load, station)
        if key not in self._losses:
            counts, q = self.counts(load), self.q
            # Marginal value of the last unit covering a point with k units: (1-q)q^(k-1).
            marginal = self.weights * (1 - q) * np.power(q, np.maximum(counts - 1, 0))
            _room(self._losses)[key] = float(marginal[self.points[station]].sum())
        return self._losses[key]

    def best_kept(self, load: tuple[int, ...]) -> float:
        """The most expected coverage left after sending one unit of the idle `load`."""
        if load not in self._kept:
            counts, q = self.counts(load), self.q
            _room(self._kept)[load] = max(
                float((self.weights * (1 - np.power(q, counts - self.covers[s]))).sum())
                for s, n in enumerate(load) if n
            )
        return self._kept[load]

    def best_station(
        self, others: tuple[int, ...], prefer: int, current: int
    ) -> tuple[int, float, float]:
        """The station with room adding most expected coverage to the idle `others` (ties to
        `prefer`), its gain, and the gain at `current`."""
        key = (others, prefer, current)
        if key not in self._stations:
            gains = self.gains(others)
            best, best_key = prefer, (-1.0, 0.0)
            for s, gain in enumerate(gains):
                if self.capacity[s] and others[s] >= self.capacity[s]:
                    continue
                rank = (round(gain, 12), -float(s != prefer))
                if rank > best_key:
                    best, best_key = s, rank
            _room(self._stations)[key] = (best, best_key[0], gains[current])
        return self._stations[key]

    def gains(self, others: tuple[int, ...]) -> list[float]:
        """Expected coverage a unit would add at each station to the idle `others` (the same
        load recurs with other preferred and current stations: computed once per load)."""
        if others not in self._gains:
            counts, q = self.counts(others), self.q
            gain_per_point = self.weights * (1 - q) * np.power(q, counts)
            _room(self._gains)[others] = [
                float(gain_per_point[points].sum()) for points in self.points
            ]
        return self._gains[others]

    def posts(self, k: int) -> tuple[int, ...]:
        """The stations k idle units hold (nested greedy MEXCLP)."""
        if k not in self._posts:
            self._posts[k] = nested_posts(self.weights, self.points, self.capacity, self.q, k)
        return self._posts[k]


def _room(table: dict[K, V]) -> dict[K, V]:
    """The table, emptied first when full (a bound on memory over very long runs)."""
    if len(table) >= CoverageMemo.LIMIT:
        table.clear()
    return table
