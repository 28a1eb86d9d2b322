"""Dispatch policies: which idle unit goes to a call, and where a freed unit waits next."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np

from najda.projections.dispatch.locator import Candidate
from najda.projections.policies.view import Call, Scenario, SimUnit, Travel

K = TypeVar("K")
V = TypeVar("V")


class SimView(Protocol):
    """What a policy may read of the running simulation."""

    scenario: Scenario
    travel: Travel

    @property
    def now_s(self) -> float:
        """Simulated seconds since the start."""
        ...

    def idle_units(self) -> Sequence[SimUnit]:
        """Units not working a call."""
        ...

    def all_units(self) -> Sequence[SimUnit]:
        """Every unit (for the whole fleet's coverage, each unit at its current station)."""
        ...


class Policy(Protocol):
    """A dispatch policy; `ranking` names the locator its candidates come from."""

    name: str
    ranking: str

    def holds(self, call: Call, sim: SimView) -> bool:
        """True to keep the call waiting although units are idle (asked before ranking)."""
        ...

    def choose(self, call: Call, candidates: Sequence[Candidate], sim: SimView) -> Candidate | None:
        """The unit to send (candidates are idle ambulances, best ETA first), or None to wait."""
        ...

    def station_for(self, unit: SimUnit, sim: SimView) -> int:
        """The station a unit that has just become free goes to."""
        ...

    def relocations(self, sim: SimView) -> list[tuple[SimUnit, int]]:
        """Idle units to move to another station after a dispatch (move-up), if any."""
        ...


@dataclass
class ClosestIdle:
    """Send the idle unit the locator ranks first; freed units return to their home station."""

    name: str
    ranking: str

    def holds(self, call: Call, sim: SimView) -> bool:
        return False

    def choose(self, call: Call, candidates: Sequence[Candidate], sim: SimView) -> Candidate | None:
        return candidates[0] if candidates else None

    def station_for(self, unit: SimUnit, sim: SimView) -> int:
        return sim.scenario.units[unit.index].station

    def relocations(self, sim: SimView) -> list[tuple[SimUnit, int]]:
        return []


class Coverage:
    """DMEXCLP-style: keep the expected coverage of demand high (Jagtenberg et al.).

    Expected coverage of a demand point covered by k idle units is 1 - q^k (q: busy
    fraction). Every priority whose target is the most urgent one's (or shorter) is
    protected alike: never held, and dispatched as the most urgent. Dispatch to such a
    call: among idle units that still reach it within its target, send the one whose
    absence loses the least expected coverage (if none can, the fastest). Calls of lower
    priorities take the unit whose absence loses the least coverage among those arriving
    within `lower_slack` × their target (all idle units when None), so the closest unit
    stays free for urgent calls. With `hold_below`, a lower-priority call waits (up to
    `max_hold_s` from the call) while sending any unit would leave the expected coverage
    under that fraction of the whole fleet's. With `rebalance`, after each dispatch the one
    idle unit whose move to another station adds the most expected coverage (at least that
    much) is moved there.
    Move-up: a freed unit goes to the station (with room) adding the most expected coverage.
    Coverage is judged by road (or straight-line) time from each unit's station to each
    demand point within the most urgent priority's coverage time.

    Everything the policy weighs depends only on how many idle units each station holds
    (the "load"), and the same few loads recur all day: each figure is computed once per
    load and remembered (`_Memo`), which leaves the decisions exactly as computed afresh.
    """

    def __init__(
        self,
        name: str = "coverage",
        ranking: str = "road",
        *,
        dispatch: bool = True,
        move_up: bool = True,
        busy_fraction: float | None = None,
        lower_slack: float | None = 1.0,
        hold_below: float | None = None,
        max_hold_s: float = 600.0,
        rebalance: float | None = None,
        reserve: int = 0,
    ) -> None:
        self.name = name
        self.ranking = ranking
        self.dispatch = dispatch
        self.move_up = move_up
        self.busy_fraction = busy_fraction
        self.lower_slack = lower_slack
        self.hold_below = hold_below
        self.max_hold_s = max_hold_s
        self.rebalance = rebalance
        self.reserve = reserve
        self._full: float | None = None
        self._memo: _Memo | None = None

    def _q(self, sim: SimView) -> float:
        return self.busy_fraction if self.busy_fraction is not None else sim.scenario.busy_fraction

    def _cover(self, sim: SimView, station: int) -> np.ndarray:
        top = sim.scenario.priorities[sim.scenario.priority_order()[0]]
        return sim.travel.station_cover(station, top.travel_mode, top.coverage_s)

    def _picture(self, sim: SimView) -> _Memo:
        """The memo for this simulation's scenario, travel and q (a new one if they changed)."""
        memo = self._memo
        if memo is None or not memo.serves(sim, self._q(sim)):
            stations = range(len(sim.scenario.stations))
            memo = _Memo(sim, self._q(sim), [self._cover(sim, s) for s in stations])
            self._memo = memo
        return memo

    def _load(self, sim: SimView, units: Sequence[SimUnit]) -> tuple[int, ...]:
        """How many of these units each station holds."""
        load = [0] * len(sim.scenario.stations)
        for unit in units:
            load[unit.station] += 1
        return tuple(load)

    def protects(self, call: Call, sim: SimView) -> bool:
        """True for a call whose priority shares the most urgent priority's target: it is
        never held and is served within its target first, as the most urgent are."""
        order = sim.scenario.priority_order()
        top = sim.scenario.priorities[order[0]].target_s
        return sim.scenario.priorities[call.priority].target_s <= top

    def choose(self, call: Call, candidates: Sequence[Candidate], sim: SimView) -> Candidate | None:
        if not candidates:
            return None
        if not self.dispatch:
            return candidates[0]
        elapsed_s = sim.now_s - call.at_s
        limit_s = self._in_time_s(call, sim)
        if limit_s is None:
            in_time = list(candidates)
        else:
            in_time = [c for c in candidates if elapsed_s + c.eta_s <= limit_s]
        if len(in_time) <= 1:
            return candidates[0]
        idle = sim.idle_units()
        station = {u.unit_id: u.station for u in idle}
        memo, load = self._picture(sim), self._load(sim, idle)

        def loss(c: Candidate) -> float:  # a unit diverted from another call leaves none
            return memo.loss(load, station[c.unit_id]) if c.unit_id in station else 0.0

        return min(in_time, key=lambda c: (round(loss(c), 12), c.eta_s, c.call_sign))

    def _in_time_s(self, call: Call, sim: SimView) -> float | None:
        """The time from the call within which `choose` weighs a candidate's arrival (None:
        it weighs every candidate)."""
        pclass = sim.scenario.priorities[call.priority]
        if self.protects(call, sim):
            return pclass.target_s
        if self.lower_slack is None:
            return None
        return pclass.target_s * self.lower_slack

    def eta_horizon_s(self, call: Call, sim: SimView) -> float | None:
        """An ETA beyond which `choose` never looks at a candidate other than the quickest
        (None: it may look at any), so a locator may leave such candidates out. One second
        over the in-time limit, which makes up for the rounding of `elapsed + eta`."""
        if not self.dispatch:
            return 0.0  # only the quickest is sent
        limit_s = self._in_time_s(call, sim)
        return None if limit_s is None else limit_s - (sim.now_s - call.at_s) + 1.0

    def expected_coverage(self, sim: SimView, units: Sequence[SimUnit]) -> float:
        """Sum over demand of weight × (1 - q^k), k = idle units covering the point."""
        counts = self._picture(sim).counts(self._load(sim, units))
        return float((sim.scenario.demand.weights * (1 - np.power(self._q(sim), counts))).sum())

    def holds(self, call: Call, sim: SimView) -> bool:
        """A lower-priority call waits (at most `max_hold_s` from the call) while no more
        than `reserve` units are idle, or while sending any idle unit would leave the expected
        coverage under `hold_below` of the whole fleet's."""
        if sim.now_s - call.at_s >= self.max_hold_s or self.protects(call, sim):
            return False
        idle = sim.idle_units()
        if not idle:
            return False
        if len(idle) <= self.reserve:
            return True
        if self.hold_below is None:
            return False
        if self._full is None:  # every unit idle at its home station
            homes = [replace(u, station=sim.scenario.units[u.index].station)
                     for u in sim.all_units()]
            self._full = self.expected_coverage(sim, homes)
        best = self._picture(sim).best_kept(self._load(sim, idle))
        return best < self.hold_below * self._full

    def station_for(self, unit: SimUnit, sim: SimView) -> int:
        home = sim.scenario.units[unit.index].station
        if not self.move_up:
            return home
        return self._best_station(unit, sim, home)[0]

    def relocations(self, sim: SimView) -> list[tuple[SimUnit, int]]:
        """With `rebalance`, the one idle unit whose move adds most coverage (if enough)."""
        if self.rebalance is None:
            return []
        best: tuple[float, int, SimUnit | None, int] = (self.rebalance, 0, None, 0)
        for unit in sim.idle_units():
            station, gain, current = self._best_station(unit, sim, unit.station)
            if station != unit.station and (gain - current, -unit.index) > best[:2]:
                best = (gain - current, -unit.index, unit, station)
        return [] if best[2] is None else [(best[2], best[3])]

    def _best_station(self, unit: SimUnit, sim: SimView, prefer: int) -> tuple[int, float, float]:
        """The station adding most expected coverage for this unit given the other idle
        units (ties to `prefer`), its gain, and the gain where the unit is heading now."""
        others = self._load(sim, [u for u in sim.idle_units() if u.unit_id != unit.unit_id])
        return self._picture(sim).best_station(others, prefer, unit.station)


class _Memo:
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


def _room(table: dict[K, V]) -> dict[K, V]:
    """The table, emptied first when full (a bound on memory over very long runs)."""
    if len(table) >= _Memo.LIMIT:
        table.clear()
    return table


POLICIES: dict[str, Callable[[], Policy]] = {
    "closest-straight": lambda: ClosestIdle("closest-straight", "straight"),
    "closest-road": lambda: ClosestIdle("closest-road", "road"),
    # Tuned on Manhattan (3 days x 4 replications, seed 1; see simulations/results/README.md):
    # coverage judged with q = 0.3, lower priorities held up to 30 min while sending would
    # leave under half the fleet's coverage, one idle unit rebalanced after each dispatch.
    "coverage": lambda: Coverage(
        "coverage", "road", busy_fraction=0.3, hold_below=0.5, max_hold_s=1800.0, rebalance=0.01
    ),
    "coverage-hold50": lambda: Coverage("coverage-hold50", "road", hold_below=0.5),
    # coverage, and a lower-priority call also waits (up to 60 min) while 3 or fewer are idle
    "coverage-reserve": lambda: Coverage(
        "coverage-reserve", "road", busy_fraction=0.3, hold_below=0.5, max_hold_s=3600.0,
        rebalance=0.01, reserve=3,
    ),
    "coverage-nohold": lambda: Coverage("coverage-nohold", "road"),
    "coverage-rebalance": lambda: Coverage("coverage-rebalance", "road", rebalance=0.01),
    "coverage-hold-rebalance": lambda: Coverage(
        "coverage-hold-rebalance", "road", hold_below=0.4, rebalance=0.01
    ),
    "coverage-dispatch": lambda: Coverage("coverage-dispatch", "road", move_up=False),
    "coverage-moveup": lambda: Coverage("coverage-moveup", "road", dispatch=False),
    "coverage-straight": lambda: Coverage("coverage-straight", "straight", hold_below=0.5),
}
