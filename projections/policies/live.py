"""The live server's situation as a dispatch policy reads it: stations, available units,
demand points in named zones, and which points each station covers in time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from najda.domain.dispatch.targets import Targets
from najda.domain.values import Priority, UnitKind
from najda.geo.area import Area
from najda.geo.distance import geodesic_many_m
from najda.geo.roads import RoadNetwork
from najda.geo.speed import SpeedModel
from najda.projections.dispatch.read_model_changes import UnitRow
from najda.projections.dispatch.stations_hospitals import Place
from najda.projections.policies.dispatch import SimView
from najda.projections.policies.view import SimUnit

#: Kinds a coverage policy keeps spread over the area (the ones calls wait for).
AMBULANCES = frozenset({UnitKind.ALS, UnitKind.BLS})
#: Seconds on the live clock count from here (a policy only takes differences).
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: Addresses are grouped into cells of this many degrees of latitude (about 330 m).
CELL_DEG = 0.003
#: Expected fraction of time a unit is busy (the coverage model's q).
BUSY_FRACTION = 0.5


def seconds(at: datetime) -> float:
    """An instant as seconds on the live policy clock."""
    return (at - EPOCH).total_seconds()


@dataclass(frozen=True)
class LiveSite:
    """A station (no limit on the units it holds)."""

    id: UUID
    code: str
    name: str
    lat: float
    lon: float
    capacity: int = 0


@dataclass(frozen=True)
class LiveUnitSpec:
    """A unit's home station (its own, else the nearest)."""

    station: int


@dataclass(frozen=True)
class LivePriority:
    """A Najda priority with its on-scene target and the coverage time policies protect."""

    priority: Priority
    target_s: float
    travel_mode: int
    coverage_s: float


@dataclass(frozen=True)
class LiveCall:
    """An open call as a policy sees it."""

    at_s: float
    priority: str


@dataclass
class LiveUnit:
    """An available ambulance and the station it waits at (the nearest one)."""

    index: int
    unit_id: UUID
    call_sign: str
    station: int


@dataclass(frozen=True)
class Zones:
    """Demand points (weights) and the named zone each belongs to."""

    lats: np.ndarray
    lons: np.ndarray
    weights: np.ndarray
    zone: np.ndarray  # index into names, per point
    names: tuple[str, ...]


def zones_from_area(area: Area) -> Zones | None:
    """Addresses grouped into small cells, weighted by their count, each cell in the
    municipality most of its addresses name (None when the area has no addresses)."""
    cells: dict[tuple[int, int], list[tuple[float, float, str]]] = {}
    for a in area.addresses:
        key = (int(np.floor(a.lat / CELL_DEG)), int(np.floor(a.lon / CELL_DEG)))
        cells.setdefault(key, []).append((a.lat, a.lon, a.municipality or area.name))
    if not cells:
        return None
    names: list[str] = []
    lats, lons, weights, zone = [], [], [], []
    for key in sorted(cells):
        points = cells[key]
        lats.append(sum(p[0] for p in points) / len(points))
        lons.append(sum(p[1] for p in points) / len(points))
        weights.append(float(len(points)))
        name = Counter(p[2] for p in points).most_common(1)[0][0]
        if name not in names:
            names.append(name)
        zone.append(names.index(name))
    w = np.array(weights)
    return Zones(np.array(lats), np.array(lons), w / w.sum(), np.array(zone), tuple(names))


def zones_around(stations: Sequence[LiveSite], radius_m: float = 6_000.0) -> Zones:
    """Without addresses: a grid of points around the stations, equal weights, each in
    the first-due area of its nearest station."""
    lat0 = float(np.mean([s.lat for s in stations]))
    dlat = radius_m / 111_320.0
    dlon = dlat / max(0.2, float(np.cos(np.radians(lat0))))
    grid_lats, grid_lons = [], []
    for s in stations:
        for i in np.linspace(-1, 1, 7):
            for j in np.linspace(-1, 1, 7):
                grid_lats.append(round(s.lat + i * dlat, 5))
                grid_lons.append(round(s.lon + j * dlon, 5))
    points = sorted(set(zip(grid_lats, grid_lons, strict=True)))
    lats = np.array([p[0] for p in points])
    lons = np.array([p[1] for p in points])
    distances = np.array([geodesic_many_m(s.lat, s.lon, lats, lons) for s in stations])
    zone = np.argmin(distances, axis=0)
    names = tuple(f"{s.name} first-due area" for s in stations)
    return Zones(lats, lons, np.full(len(points), 1.0 / len(points)), zone, names)


@dataclass(frozen=True)
class LiveScenario:
    """Stations, the ambulance roster, priorities with targets, and demand."""

    stations: tuple[LiveSite, ...]
    units: tuple[LiveUnitSpec, ...]
    priorities: dict[str, LivePriority]
    demand: Zones
    busy_fraction: float = BUSY_FRACTION

    def priority_order(self) -> list[str]:
        """Priority names, most urgent first."""
        return sorted(self.priorities, key=lambda n: -self.priorities[n].priority.rank)

    @property
    def coverage_s(self) -> float:
        """The coverage time: the most urgent priority's on-scene target."""
        return self.priorities[self.priority_order()[0]].coverage_s


class LiveTravel:
    """Which demand points a unit at a station reaches in time, and how long a unit drives
    to each station: by road over the network when there is one (its mode), else by the
    locator's straight-line speed model."""

    def __init__(
        self,
        stations: Sequence[LiveSite],
        demand: Zones,
        *,
        network: RoadNetwork | None = None,
        mode: int = 1,
        speed: SpeedModel | None = None,
    ) -> None:
        self.stations = list(stations)
        self.demand = demand
        self.network = network
        self.mode = mode
        self.speed = speed or SpeedModel()
        self._cover: dict[tuple[int, float], np.ndarray] = {}
        self._lats = np.array([s.lat for s in self.stations])
        self._lons = np.array([s.lon for s in self.stations])
        if network is not None:
            self._station_snaps = [network.snap(s.lat, s.lon) for s in self.stations]
            self._demand_nodes, self._demand_off_m = network.snap_many(demand.lats, demand.lons)

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        """Demand points a unit at the station reaches within `limit_s` (the network's
        own mode is used whatever `mode` a priority names)."""
        key = (station, limit_s)
        if key not in self._cover:
            s = self.stations[station]
            if self.network is not None:
                start = self._station_snaps[station]
                tree = self.network.tree_from(start.node, self.mode)
                total = (
                    self.network.off_road_s(start.off_road_m, self.mode)
                    + tree[self._demand_nodes]
                    + self.network.off_road_s(self._demand_off_m, self.mode)
                )
            else:
                d = geodesic_many_m(s.lat, s.lon, self.demand.lats, self.demand.lons)
                total = np.array([self.speed.eta_s(float(m)) for m in d])
            self._cover[key] = np.asarray(total <= limit_s)
        return self._cover[key]

    def to_stations_s(self, lat: float, lon: float) -> list[float]:
        """Seconds from a point to each station, in their order. By road as the simulator
        drives a unit to a station: the off-road leg to the point's snapped node, the path
        read from the shortest-path tree towards the station's node (one per station, kept by
        the network) and the station's off-road leg; else the straight-line estimate."""
        if self.network is None:
            metres = geodesic_many_m(lat, lon, self._lats, self._lons)
            return [self.speed.eta_s(float(m)) for m in metres]
        net, mode = self.network, self.mode
        here = net.snap(lat, lon)
        leave_s = net.off_road_s(here.off_road_m, mode)
        return [
            float(
                leave_s
                + net.tree_to(end.node, mode)[here.node]
                + net.off_road_s(end.off_road_m, mode)
            )
            for end in self._station_snaps
        ]


class LiveView(SimView):
    """What a policy reads of the floor now: the scenario, travel, the clock and the
    available ambulances (each at the station it was moved up to, else its nearest)."""

    def __init__(
        self,
        scenario: LiveScenario,
        travel: LiveTravel,
        rows: Sequence[UnitRow],
        now: Callable[[], datetime],
        posts: Mapping[UUID, UUID] | None = None,
    ) -> None:
        self.scenario: LiveScenario = scenario
        self.travel: LiveTravel = travel
        self._now = now
        sites = scenario.stations
        lats = np.array([s.lat for s in sites])
        lons = np.array([s.lon for s in sites])
        self._all: list[LiveUnit] = []
        self._idle: list[LiveUnit] = []
        self._where: dict[int, tuple[float, float]] = {}
        self._drives: dict[int, tuple[float, ...]] = {}
        index = {s.id: i for i, s in enumerate(sites)}
        for i, row in enumerate(rows):
            post = (posts or {}).get(row.unit_id)
            if post is not None and post in index:  # moved up: it waits there (or is on its way)
                station = index[post]
            else:
                station = int(np.argmin(geodesic_many_m(row.lat, row.lon, lats, lons)))
            unit = LiveUnit(i, row.unit_id, row.call_sign, station)
            self._where[i] = (row.lat, row.lon)
            self._all.append(unit)
            if row.available:
                self._idle.append(unit)

    @property
    def now_s(self) -> float:
        """Seconds on the live policy clock."""
        return seconds(self._now())

    def idle_units(self) -> list[LiveUnit]:
        """Available ambulances, in roster order."""
        return list(self._idle)

    def all_units(self) -> list[LiveUnit]:
        """Every ambulance, in roster order."""
        return list(self._all)

    def seconds_to_stations(self, unit: SimUnit) -> tuple[float, ...]:
        """The unit's drives from its last known position to every station (`LiveTravel`:
        by road when the server has a network), asked once per unit of this view."""
        drives = self._drives.get(unit.index)
        if drives is None:
            drives = tuple(self.travel.to_stations_s(*self._where[unit.index]))
            self._drives[unit.index] = drives
        return drives

    def seconds_to_station(self, unit: SimUnit, station: int) -> float:
        """The unit's drive from its last known position to a station."""
        return self.seconds_to_stations(unit)[station]


def live_scenario(
    places: Sequence[Place],
    rows: Sequence[UnitRow],
    targets: dict[Priority, Targets],
    zones: Zones | None,
    mode: int,
) -> LiveScenario:
    """The scenario for these stations and ambulances (sorted by code and call sign)."""
    stations = tuple(
        LiveSite(p.id, p.code, p.name, p.lat, p.lon) for p in sorted(places, key=lambda p: p.code)
    )
    index = {s.id: i for i, s in enumerate(stations)}
    top = max(targets, key=lambda p: p.rank)
    priorities = {
        p.value: LivePriority(p, t.on_scene_s, mode, targets[top].on_scene_s)
        for p, t in targets.items()
    }
    units = tuple(LiveUnitSpec(index.get(r.station_id, 0) if r.station_id else 0) for r in rows)
    return LiveScenario(stations, units, priorities, zones or zones_around(stations))
