"""What a simulation runs on: sites, units, priority classes, calls and how units travel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from najda.domain.values import Priority, UnitKind
from najda.geo.roads import RoadNetwork


@dataclass(frozen=True)
class Site:
    """A station or a hospital."""

    code: str
    name: str
    lat: float
    lon: float
    capacity: int = 0


@dataclass(frozen=True)
class UnitSpec:
    """An ambulance and its home station (index into the scenario's stations)."""

    call_sign: str
    station: int
    kind: UnitKind = UnitKind.ALS


@dataclass(frozen=True)
class PriorityClass:
    """A call priority: the Najda priority it is reported as, its target and travel mode."""

    name: str
    priority: Priority
    target_s: float
    travel_mode: int
    coverage_s: float


@dataclass(frozen=True)
class FurtherUnit:
    """A further ambulance a call needed: asked for `after_s` seconds after the first one was
    sent, on scene for `on_scene_s`, then free without transport."""

    after_s: float
    on_scene_s: float


@dataclass(frozen=True)
class Call:
    """One call: when (seconds from the start), where, and how its service will go."""

    at_s: float
    lat: float
    lon: float
    priority: str
    dispatch_delay_s: float
    on_scene_s: float
    transport: bool
    handover_s: float
    #: The hospital (index into the scenario's) a transported patient goes to; None: nearest.
    hospital: int | None = None
    #: Further ambulances the call needed (a recorded multi-unit response).
    backups: tuple[FurtherUnit, ...] = ()


class CallSource(Protocol):
    """Makes the calls of a run (seeded: the same generator state gives the same calls)."""

    def calls(self, duration_s: float, rng: np.random.Generator) -> list[Call]:
        """Calls arriving in [0, duration_s), in time order."""
        ...


@dataclass(frozen=True)
class Demand:
    """Where calls come from: points with weights (for coverage-preserving policies)."""

    lats: np.ndarray
    lons: np.ndarray
    weights: np.ndarray


@dataclass(frozen=True)
class Scenario:
    """Everything a run needs except the policy, the seed and the duration."""

    name: str
    stations: Sequence[Site]
    hospitals: Sequence[Site]
    units: Sequence[UnitSpec]
    priorities: dict[str, PriorityClass]
    calls: CallSource
    demand: Demand
    network: RoadNetwork | None = None
    #: Travel mode for transport to hospital and the return to station.
    return_mode: int = 2
    #: Off-network speeds per mode (m/s) used when there is no road network.
    straight_speed_mps: dict[int, float] = field(default_factory=lambda: {1: 11.0, 2: 8.3})
    #: Straight-line to road distance factor when there is no road network.
    detour_factor: float = 1.3
    #: Expected fraction of time a unit is busy (for coverage models).
    busy_fraction: float = 0.5
    #: Time-dependent travel sets: (start in seconds from the start, priority → travel mode),
    #: in time order; each holds from its start to the next (empty: `travel_mode` always).
    travel_schedule: tuple[tuple[float, dict[str, int]], ...] = ()
    #: (from priority, to priority): a unit en route (not yet on scene) to a call of the
    #: first may be diverted to a new call of the second (JEMSS redispatch; empty: never).
    redispatch: frozenset[tuple[str, str]] = frozenset()

    def divertible_from(self, priority: str) -> frozenset[str]:
        """The priorities whose units en route a call of `priority` may take."""
        return frozenset(a for a, b in self.redispatch if b == priority)

    def mode_for(self, priority: str, at_s: float) -> int:
        """The travel mode a response to `priority` uses at `at_s` seconds from the start."""
        mode = self.priorities[priority].travel_mode
        for start_s, modes in self.travel_schedule:
            if start_s > at_s:
                break
            mode = modes.get(priority, mode)
        return mode

    def modes(self) -> set[int]:
        """Every travel mode a response may use."""
        used = {p.travel_mode for p in self.priorities.values()}
        return used | {m for _, modes in self.travel_schedule for m in modes.values()}

    def priority_order(self) -> list[str]:
        """Priority names, most urgent first."""
        return sorted(self.priorities, key=lambda n: -self.priorities[n].priority.rank)
