"""How simulated units move: by road over a network, or in straight lines without one."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Protocol, TypeVar

import numpy as np

from najda.geo.distance import geodesic_many_m, great_circle_m
from najda.geo.roads import RoadNetwork
from najda.simulations.scenario import Scenario, Site

Point = tuple[float, float]
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def remembered(table: dict[K, V], key: K, limit: int, compute: Callable[[], V]) -> V:
    """`table[key]`, computed and kept on a miss (the table emptied first when it holds
    `limit` entries: a bound on memory over very long runs)."""
    found = table.get(key)
    if found is None:
        if len(table) >= limit:
            table.clear()
        found = table[key] = compute()
    return found


class Travel(Protocol):
    """Travel times between points, positions of units returning to a station, coverage."""

    def time_s(self, a: Point, b: Point, mode: int) -> float:
        """Seconds from a to b in this mode."""
        ...

    def to_station_s(self, a: Point, station: int, mode: int) -> float:
        """Seconds from a to a station."""
        ...

    def to_stations_s(self, a: Point, mode: int) -> list[float]:
        """Seconds from a to each station, in their order (each `to_station_s`)."""
        ...

    def returning_at(self, a: Point, station: int, mode: int, elapsed_s: float) -> Point:
        """Where a unit that left `a` for a station `elapsed_s` ago is now."""
        ...

    def driving_at(self, a: Point, b: Point, mode: int, elapsed_s: float) -> Point:
        """Where a unit that left `a` for `b` `elapsed_s` ago is now (along its route)."""
        ...

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        """Which demand points a unit idle at the station reaches within `limit_s`."""
        ...


class StraightTravel:
    """Straight lines at a fixed speed per mode, stretched by a detour factor."""

    def __init__(self, scenario: Scenario) -> None:
        self.stations = list(scenario.stations)
        self.speed = scenario.straight_speed_mps
        self.detour = scenario.detour_factor
        self.demand = scenario.demand
        self._cover: dict[tuple[int, int, float], np.ndarray] = {}

    def time_s(self, a: Point, b: Point, mode: int) -> float:
        return great_circle_m(a[0], a[1], b[0], b[1]) * self.detour / self.speed[mode]

    def to_station_s(self, a: Point, station: int, mode: int) -> float:
        s = self.stations[station]
        return self.time_s(a, (s.lat, s.lon), mode)

    def to_stations_s(self, a: Point, mode: int) -> list[float]:
        return [self.to_station_s(a, s, mode) for s in range(len(self.stations))]

    def returning_at(self, a: Point, station: int, mode: int, elapsed_s: float) -> Point:
        s = self.stations[station]
        total = self.to_station_s(a, station, mode)
        f = 1.0 if total <= 0 else min(1.0, max(0.0, elapsed_s / total))
        return (a[0] + (s.lat - a[0]) * f, a[1] + (s.lon - a[1]) * f)

    def driving_at(self, a: Point, b: Point, mode: int, elapsed_s: float) -> Point:
        total = self.time_s(a, b, mode)
        f = 1.0 if total <= 0 else min(1.0, max(0.0, elapsed_s / total))
        return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        key = (station, mode, limit_s)
        if key not in self._cover:
            s = self.stations[station]
            d = geodesic_many_m(s.lat, s.lon, self.demand.lats, self.demand.lons)
            self._cover[key] = d * self.detour / self.speed[mode] <= limit_s
        return self._cover[key]


class RoadTravel:
    """Shortest paths over the scenario's road network; trees at stations are precomputed."""

    def __init__(self, scenario: Scenario, network: RoadNetwork) -> None:
        self.net = network
        self.stations: list[Site] = list(scenario.stations)
        self.station_nodes = [network.snap(s.lat, s.lon) for s in self.stations]
        hospital_nodes = [network.snap(h.lat, h.lon).node for h in scenario.hospitals]
        self._routes: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray]] = {}
        for mode in network.modes:
            network.pin_trees_from([s.node for s in self.station_nodes] + hospital_nodes, mode)
            # trees to stations too: with both ways pinned they bound the ranking's searches
            network.pin_trees_to([s.node for s in self.station_nodes] + hospital_nodes, mode)
        self.demand_nodes, demand_off_m = network.snap_many(
            scenario.demand.lats, scenario.demand.lons
        )
        self._demand_off_m = demand_off_m
        self._cover: dict[tuple[int, int, float], np.ndarray] = {}
        self._to_stations: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def time_s(self, a: Point, b: Point, mode: int) -> float:
        return self.net.travel_s(a, b, mode)

    def _return_tree(self, station: int, mode: int) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from every node to the station, and each node's next hop towards it (kept
        by the network, so later runs on it reuse them)."""
        return self.net.next_hops_to(self.station_nodes[station].node, mode)

    def to_station_s(self, a: Point, station: int, mode: int) -> float:
        snap = self.net.snap(*a)
        times, _ = self._return_tree(station, mode)
        end = self.station_nodes[station]
        return float(
            self.net.off_road_s(snap.off_road_m, mode)
            + times[snap.node]
            + self.net.off_road_s(end.off_road_m, mode)
        )

    def to_stations_s(self, a: Point, mode: int) -> list[float]:
        """`to_station_s` to every station in one step: the same sums, element by element."""
        by_node, end_s = self._station_table(mode)
        snap = self.net.snap(*a)
        off_s = self.net.off_road_s(snap.off_road_m, mode)
        return list((off_s + by_node[snap.node] + end_s).tolist())

    def _station_table(self, mode: int) -> tuple[np.ndarray, np.ndarray]:
        """Seconds from every node to each station (node × station, from the return trees),
        and each station's off-road leg."""
        held = self._to_stations.get(mode)
        if held is None:
            trees = [self._return_tree(s, mode)[0] for s in range(len(self.stations))]
            by_node = np.ascontiguousarray(np.vstack(trees).T)
            ends = np.array([self.net.off_road_s(e.off_road_m, mode) for e in self.station_nodes])
            held = self._to_stations[mode] = (by_node, ends)
        return held

    def returning_at(self, a: Point, station: int, mode: int, elapsed_s: float) -> Point:
        snap = self.net.snap(*a)
        left = elapsed_s - float(self.net.off_road_s(snap.off_road_m, mode))
        if left <= 0:
            return a
        node, at_end = self._last_reached(snap.node, station, mode, left)
        if at_end:
            s = self.stations[station]
            total = self.to_station_s(a, station, mode)
            if elapsed_s >= total:
                return (s.lat, s.lon)
        return (float(self.net.lats[node]), float(self.net.lons[node]))

    def driving_at(self, a: Point, b: Point, mode: int, elapsed_s: float) -> Point:
        """The last node of the shortest route from `a` to `b` reached by now (`a` until the
        unit is on the road, `b` once the whole drive's time has passed)."""
        total = self.time_s(a, b, mode)
        if elapsed_s >= total:
            return b
        start, end = self.net.snap(*a), self.net.snap(*b)
        left = elapsed_s - float(self.net.off_road_s(start.off_road_m, mode))
        if left <= 0 or not np.isfinite(total):
            return a
        path, reached_s = self._route(start.node, end.node, mode)
        node = int(path[int(np.searchsorted(reached_s, left, side="right")) - 1])
        return (float(self.net.lats[node]), float(self.net.lons[node]))

    def _route(self, start: int, end: int, mode: int) -> tuple[np.ndarray, np.ndarray]:
        """The shortest route's nodes and the seconds at which each is reached (remembered:
        a diverted unit's drive is asked about again as other calls come in)."""
        return remembered(
            self._routes, (start, end, mode), 1_000, lambda: self.net.route(start, end, mode)
        )

    def _last_reached(self, node: int, station: int, mode: int, left_s: float) -> tuple[int, bool]:
        """The last node of the return path from `node` (down the station's return tree)
        reached `left_s` seconds on, and whether it ends the path.

        A node is reached when the seconds from `node` to it, `times[node] - times[it]`,
        are at most `left_s`; they never decrease along the path, so the reached nodes are
        its start, found by hops of 2^k nodes from the longest down.
        """
        times, _ = self._return_tree(station, mode)
        levels = self.net.hops_to(self.station_nodes[station].node, mode)
        start_s, here = times[node], node
        for hops in reversed(levels):
            ahead = int(hops[here])
            if ahead >= 0 and start_s - times[ahead] <= left_s:
                here = ahead
        return here, bool(levels[0][here] < 0)

    def station_cover(self, station: int, mode: int, limit_s: float) -> np.ndarray:
        key = (station, mode, limit_s)
        if key not in self._cover:
            start = self.station_nodes[station]
            tree = self.net.tree_from(start.node, mode)
            total = (
                self.net.off_road_s(start.off_road_m, mode)
                + tree[self.demand_nodes]
                + self.net.off_road_s(self._demand_off_m, mode)
            )
            self._cover[key] = np.asarray(total <= limit_s)
        return self._cover[key]


def travel_for(scenario: Scenario) -> Travel:
    """Road travel when the scenario has a network, else straight lines."""
    if scenario.network is not None:
        return RoadTravel(scenario, scenario.network)
    return StraightTravel(scenario)

