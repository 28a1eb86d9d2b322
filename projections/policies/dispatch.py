"""Dispatch policies: which idle unit goes to a call, and where a freed unit waits next."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from uuid import UUID

import numpy as np

from najda.projections.dispatch.locator import Candidate
from najda.projections.policies.coverage_memo import CoverageMemo
from najda.projections.policies.redeploy import drive_table, match_posts, matched_drive_s
from najda.projections.policies.view import Call, Scenario, SimUnit, Travel


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

    def seconds_to_station(self, unit: SimUnit, station: int) -> float:
        """How long an idle unit takes from where it is now to a station."""
        ...

    def seconds_to_stations(self, unit: SimUnit) -> Sequence[float]:
        """How long an idle unit takes from where it is now to each station, in their order."""
        return [self.seconds_to_station(unit, s) for s in range(len(self.scenario.stations))]


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

    def relocations(
        self, sim: SimView, freed: SimUnit | None = None
    ) -> list[tuple[SimUnit, int]]:
        """Idle units to move to another station (move-up), if any: asked after a dispatch,
        and after `freed` has become free (and been given its station)."""
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

    def relocations(
        self, sim: SimView, freed: SimUnit | None = None
    ) -> list[tuple[SimUnit, int]]:
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
    much) is moved there. With `reserve` (or `reserve_share` of the ambulances, rounded
    down, if more), a lower-priority call also waits while no more than that many are idle.
    Move-up: a freed unit goes to the station (with room) adding the most expected coverage.
    With `redeploy` (a compliance table), after each dispatch and each freed unit every
    idle unit is matched to the posts the idle count should hold (`CoverageMemo.posts`: each next
    unit where it adds most expected coverage), with the least total driving (a change of
    post counting `move_penalty_s` more), and moved there; with `refill`, the unit a call
    takes is the one whose absence the others make good with the least driving.
    Coverage is judged by road (or straight-line) time from each unit's station to each
    demand point within the most urgent priority's coverage time.

    Everything the policy weighs depends only on how many idle units each station holds
    (the "load"), and the same few loads recur all day: each figure is computed once per
    load and remembered (`CoverageMemo`), which leaves the decisions exactly as computed afresh.
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
        reserve_share: float = 0.0,
        redeploy: bool = False,
        refill: bool = False,
        move_penalty_s: float = 0.0,
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
        self.reserve_share = reserve_share
        self.redeploy = redeploy
        self.refill = refill
        self.move_penalty_s = move_penalty_s
        self._full: float | None = None
        self._memo: CoverageMemo | None = None

    def _q(self, sim: SimView) -> float:
        return self.busy_fraction if self.busy_fraction is not None else sim.scenario.busy_fraction

    def _cover(self, sim: SimView, station: int) -> np.ndarray:
        top = sim.scenario.priorities[sim.scenario.priority_order()[0]]
        return sim.travel.station_cover(station, top.travel_mode, top.coverage_s)

    def _picture(self, sim: SimView) -> CoverageMemo:
        """The memo for this simulation's scenario, travel and q (a new one if they changed)."""
        memo = self._memo
        if memo is None or not memo.serves(sim, self._q(sim)):
            stations = range(len(sim.scenario.stations))
            memo = CoverageMemo(sim, self._q(sim), [self._cover(sim, s) for s in stations])
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
        if self.refill:
            refill = self._refill_s(sim)
            return min(in_time, key=lambda c: (round(refill(c), 6), c.eta_s, c.call_sign))
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
        if len(idle) <= self.reserve_of(sim):
            return True
        if self.hold_below is None:
            return False
        if self._full is None:  # every unit idle at its home station
            homes = [replace(u, station=sim.scenario.units[u.index].station)
                     for u in sim.all_units()]
            self._full = self.expected_coverage(sim, homes)
        best = self._picture(sim).best_kept(self._load(sim, idle))
        return best < self.hold_below * self._full

    def reserve_of(self, sim: SimView) -> int:
        """How many idle ambulances a lower-priority call leaves for the most urgent."""
        share = math.floor(self.reserve_share * len(sim.all_units()) + 1e-9)
        return max(self.reserve, share)

    def station_for(self, unit: SimUnit, sim: SimView) -> int:
        home = sim.scenario.units[unit.index].station
        if not self.move_up:
            return home
        if self.redeploy:
            return self._plan(sim).get(unit.unit_id, home)
        return self._best_station(unit, sim, home)[0]

    def relocations(
        self, sim: SimView, freed: SimUnit | None = None
    ) -> list[tuple[SimUnit, int]]:
        """With `redeploy`, every idle unit whose post in the plan is not where it waits
        (after a dispatch and after a unit frees); else, with `rebalance`, after a dispatch,
        the one idle unit whose move adds most coverage (if enough)."""
        if self.redeploy:
            plan = self._plan(sim)
            return [(u, plan[u.unit_id]) for u in sim.idle_units()
                    if u.unit_id in plan and plan[u.unit_id] != u.station]
        if self.rebalance is None or freed is not None:
            return []
        best: tuple[float, int, SimUnit | None, int] = (self.rebalance, 0, None, 0)
        for unit in sim.idle_units():
            station, gain, current = self._best_station(unit, sim, unit.station)
            if station != unit.station and (gain - current, -unit.index) > best[:2]:
                best = (gain - current, -unit.index, unit, station)
        return [] if best[2] is None else [(best[2], best[3])]

    def redeploy_posts(self, sim: SimView) -> tuple[int, ...]:
        """The stations the idle units should hold (nested MEXCLP: one entry a unit, each
        next where it adds most expected coverage), the posts `relocations` fills."""
        return self._picture(sim).posts(len(sim.idle_units()))

    def _plan(self, sim: SimView) -> dict[UUID, int]:
        """Where each idle unit should wait: the posts the idle count holds (nested MEXCLP),
        each taken by the unit that makes the total drive to them least."""
        idle = sim.idle_units()
        posts = self.redeploy_posts(sim)
        chosen = match_posts(self._drives(sim, idle), range(len(idle)), posts)
        return {u.unit_id: s for u, s in zip(idle, chosen, strict=True) if s is not None}

    def _drives(self, sim: SimView, idle: Sequence[SimUnit]) -> list[list[float]]:
        """The drive table of the idle units to the stations (unit × station): a unit's drive
        to a station, and `move_penalty_s` more unless it is heading there (its drives to the
        stations asked at once)."""
        rows = [sim.seconds_to_stations(unit) for unit in idle]
        return drive_table(rows, [unit.station for unit in idle], self.move_penalty_s)

    def _refill_s(self, sim: SimView) -> Callable[[Candidate], float]:
        """For each candidate, the least total drive the idle units left behind need to hold
        the posts of their number (a unit diverted from another call leaves them all)."""
        idle = sim.idle_units()
        memo = self._picture(sim)
        posts = memo.posts(len(idle))
        drive = self._drives(sim, idle)
        row = {u.unit_id: i for i, u in enumerate(idle)}
        everyone = list(range(len(idle)))

        def refill(c: Candidate) -> float:
            if c.unit_id not in row:
                return matched_drive_s(drive, everyone, posts)
            rest = [i for i in everyone if i != row[c.unit_id]]
            return matched_drive_s(drive, rest, memo.posts(len(rest)))

        return refill

    def _best_station(self, unit: SimUnit, sim: SimView, prefer: int) -> tuple[int, float, float]:
        """The station adding most expected coverage for this unit given the other idle
        units (ties to `prefer`), its gain, and the gain where the unit is heading now."""
        others = self._load(sim, [u for u in sim.idle_units() if u.unit_id != unit.unit_id])
        return self._picture(sim).best_station(others, prefer, unit.station)


POLICIES: dict[str, Callable[[], Policy]] = {
    "closest-straight": lambda: ClosestIdle("closest-straight", "straight"),
    "closest-road": lambda: ClosestIdle("closest-road", "road"),
    # Tuned on Manhattan (3 days x 4 replications, seed 1; see simulations/results/README.md):
    # every idle unit redeployed to the posts of their number (nested MEXCLP, q = 0.1) after
    # each dispatch and each freed unit, the unit sent being the one whose absence is refilled
    # with the least driving, a lower-priority call held (up to 30 min) while 3 or fewer are
    # idle (a quarter of the ambulances), a change of post costing 4 min more than the drive
    # when matching units to posts.
    "coverage": lambda: Coverage(
        "coverage", "road", busy_fraction=0.1, reserve_share=0.25, max_hold_s=1800.0,
        redeploy=True, refill=True, move_penalty_s=240.0,
    ),
    # coverage, holding lower priorities while a third of the ambulances (4 of 12) or fewer
    # are idle
    "coverage-reserve4": lambda: Coverage(
        "coverage-reserve4", "road", busy_fraction=0.1, reserve_share=1 / 3, max_hold_s=1800.0,
        redeploy=True, refill=True, move_penalty_s=240.0,
    ),
    # The coverage of the first tuning: q = 0.3, lower priorities held up to 30 min while
    # sending would leave under half the fleet's coverage, one idle unit rebalanced after
    # each dispatch, a freed unit sent to the station adding most coverage.
    "coverage-one-move": lambda: Coverage(
        "coverage-one-move", "road", busy_fraction=0.3, hold_below=0.5, max_hold_s=1800.0,
        rebalance=0.01,
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
