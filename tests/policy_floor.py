"""A live floor handed to a dispatch policy the simulator's way: the simulator's own scenario,
unit records and road travel, built by hand from what a server shows (stations, ambulances and
where each waits), so a test asks the policy's redeploy plan without the server's live adapter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import numpy as np

from najda.domain.dispatch.targets import Targets
from najda.domain.values import Priority, UnitKind, UnitStatus
from najda.geo.distance import geodesic_many_m
from najda.geo.roads import RoadNetwork
from najda.geo.speed import SpeedModel
from najda.projections.dispatch.read_model_changes import UnitRow
from najda.projections.policies import POLICIES
from najda.projections.policies.live import LiveSite, LiveTravel, Zones
from najda.simulations.engine import SimUnit
from najda.simulations.scenario import Demand, PriorityClass, Scenario, Site, UnitSpec
from najda.simulations.travel import RoadTravel


@dataclass(frozen=True)
class Station:
    """A station as GET /stations shows it."""

    id: UUID
    code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Ambulance:
    """An ambulance as GET /units shows it, and the station it was moved up to (if any)."""

    unit_id: UUID
    call_sign: str
    lat: float
    lon: float
    available: bool
    post: UUID | None = None


def unit_row(ambulance: Ambulance, at: datetime) -> UnitRow:
    """The ambulance as the locator holds it (an ALS; on a call when not available)."""
    a = ambulance
    status = UnitStatus.AVAILABLE if a.available else UnitStatus.EN_ROUTE
    return UnitRow(
        a.unit_id, a.call_sign, UnitKind.ALS, (), None, status, None, a.lat, a.lon, at, at
    )


@dataclass
class FloorSim:
    """What a policy reads of a simulation (the SimView protocol), for one floor."""

    scenario: Scenario
    travel: LiveTravel
    units: list[SimUnit]
    roads: RoadTravel | None = None
    speed: SpeedModel = field(default_factory=SpeedModel)
    now_s: float = 0.0

    def idle_units(self) -> list[SimUnit]:
        return [u for u in self.units if not u.busy]

    def all_units(self) -> list[SimUnit]:
        return list(self.units)

    def seconds_to_station(self, unit: SimUnit, station: int) -> float:
        """From where the unit is to the station: the simulator's road drive (its return mode
        set to the server's mode) when the floor has roads, else the straight-line ETA."""
        if self.roads is not None:
            return self.roads.to_station_s(unit.origin, station, self.scenario.return_mode)
        site = self.scenario.stations[station]
        here = unit.origin
        metres = geodesic_many_m(here[0], here[1], np.array([site.lat]), np.array([site.lon]))
        return self.speed.eta_s(float(metres[0]))

    def seconds_to_stations(self, unit: SimUnit) -> list[float]:
        return [self.seconds_to_station(unit, s) for s in range(len(self.scenario.stations))]


def floor_sim(
    stations: Sequence[Station],
    ambulances: Sequence[Ambulance],
    zones: Zones,
    targets: Mapping[Priority, Targets],
    *,
    network: RoadNetwork | None = None,
    mode: int = 1,
) -> FloorSim:
    """The floor as a simulation: stations by code, ambulances by call sign, each waiting at
    its post, else at the station nearest to it; demand and its cover in time as given; drives
    to stations over the network in `mode` when there is one."""
    ordered = sorted(stations, key=lambda s: s.code)
    sites = [Site(s.code, s.name, s.lat, s.lon) for s in ordered]
    top = max(targets, key=lambda p: p.rank)
    priorities = {
        p.value: PriorityClass(p.value, p, t.on_scene_s, mode, targets[top].on_scene_s)
        for p, t in targets.items()
    }
    lats, lons = np.array([s.lat for s in ordered]), np.array([s.lon for s in ordered])
    index = {s.id: i for i, s in enumerate(ordered)}
    units: list[SimUnit] = []
    for i, a in enumerate(sorted(ambulances, key=lambda a: a.call_sign)):
        nearest = int(np.argmin(geodesic_many_m(a.lat, a.lon, lats, lons)))
        station = index.get(a.post, nearest) if a.post is not None else nearest
        units.append(
            SimUnit(i, a.unit_id, a.call_sign, station, (a.lat, a.lon), busy=not a.available)
        )
    scenario = Scenario(
        name="floor",
        stations=sites,
        hospitals=[],
        units=[UnitSpec(u.call_sign, u.station) for u in units],
        priorities=priorities,
        calls=None,  # type: ignore[arg-type]  # no calls are generated here
        demand=Demand(zones.lats, zones.lons, zones.weights),
        network=network,
        return_mode=mode,
    )
    live_sites = [LiveSite(s.id, s.code, s.name, s.lat, s.lon) for s in ordered]
    travel = LiveTravel(live_sites, zones, network=network, mode=mode)
    roads = RoadTravel(scenario, network) if network is not None else None
    return FloorSim(scenario, travel, units, roads)


def planned_moves(policy_name: str, sim: FloorSim) -> list[tuple[str, str]]:
    """(call sign, station code) of every move a fresh policy's plan makes on this floor."""
    policy = POLICIES[policy_name]()
    moves = policy.relocations(sim)
    return sorted((u.call_sign, sim.scenario.stations[s].code) for u, s in moves)
