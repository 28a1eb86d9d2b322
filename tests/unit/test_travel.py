"""Road travel of simulated units: a unit returning to its station, on the tiny scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from najda.simulations.jemss import load_jemss
from najda.simulations.travel import Point, RoadTravel, StraightTravel
from tests.unit.jemss_fixture import NODES, write_scenario


def walk(travel: RoadTravel, a: Point, station: int, mode: int, elapsed_s: float) -> Point:
    """Reference: step down the station's return tree one hop at a time."""
    snap = travel.net.snap(*a)
    left = elapsed_s - float(travel.net.off_road_s(snap.off_road_m, mode))
    if left <= 0:
        return a
    times, nxt = travel._return_tree(station, mode)
    node = snap.node
    while nxt[node] >= 0 and times[snap.node] - times[nxt[node]] <= left:
        node = int(nxt[node])
    if nxt[node] < 0:
        s = travel.stations[station]
        if elapsed_s >= travel.to_station_s(a, station, mode):
            return (s.lat, s.lon)
    return (float(travel.net.lats[node]), float(travel.net.lons[node]))


def test_a_returning_unit_is_where_a_walk_down_the_return_tree_puts_it(tmp_path: Path) -> None:
    scenario = load_jemss(write_scenario(tmp_path))
    assert scenario.network is not None
    travel = RoadTravel(scenario, scenario.network)
    starts = [(lat, lon) for lat, lon, _ in NODES.values()] + [(40.7015, -74.0005)]
    between = 0
    for a in starts:
        for station in range(len(scenario.stations)):
            for mode in scenario.network.modes:
                for elapsed_s in np.arange(0.0, 400.0, 2.5):
                    here = travel.returning_at(a, station, mode, float(elapsed_s))
                    assert here == walk(travel, a, station, mode, float(elapsed_s))
                    site = scenario.stations[station]
                    between += here not in (a, (site.lat, site.lon))
                    # Asked again (the path is remembered now): the same answer.
                    assert travel.returning_at(a, station, mode, float(elapsed_s)) == here
    # Some answers are nodes on the way, neither the start nor the station.
    assert between > 0


def test_a_driving_unit_follows_its_road_route_not_the_straight_line(tmp_path: Path) -> None:
    """Node 1 to node 5 by road is 1 -> 2 -> 3 -> 5 (60 + 60 + 40 s in mode 1; the direct
    1 -> 3 arc takes 200 s): 90 s after leaving, the unit is at node 2, which is not on the
    straight line from node 1 to node 5."""
    scenario = load_jemss(write_scenario(tmp_path))
    assert scenario.network is not None
    travel = RoadTravel(scenario, scenario.network)
    node = {i: (lat, lon) for i, (lat, lon, _) in NODES.items()}
    a, b = node[1], node[5]
    total = travel.time_s(a, b, 1)
    off_road = float(travel.net.off_road_s(travel.net.snap(*a).off_road_m, 1))
    assert travel.driving_at(a, b, 1, 0.0) == a
    assert travel.driving_at(a, b, 1, off_road + 90.0) == node[2]
    assert travel.driving_at(a, b, 1, off_road + 130.0) == node[3]
    assert travel.driving_at(a, b, 1, total) == b
    line = StraightTravel(scenario)
    halfway = line.driving_at(a, b, 1, line.time_s(a, b, 1) / 2)
    assert halfway not in node.values()  # the straight line passes by no node
    # Every answer on the way is a node of the route, in the route's order.
    seen = [travel.driving_at(a, b, 1, float(s)) for s in np.arange(0.0, total, 2.5)]
    order = [a, node[2], node[3], node[5]]
    assert [order.index(p) for p in seen] == sorted(order.index(p) for p in seen)
    assert set(seen) == set(order[:-1])


def test_a_straight_line_drive_moves_in_proportion_to_the_time(tmp_path: Path) -> None:
    scenario = load_jemss(write_scenario(tmp_path))
    travel = StraightTravel(scenario)
    a, b = (40.700, -74.000), (40.704, -74.004)
    total = travel.time_s(a, b, 1)
    assert travel.driving_at(a, b, 1, 0.0) == a
    assert travel.driving_at(a, b, 1, total * 2) == b
    lat, lon = travel.driving_at(a, b, 1, total / 4)
    assert abs(lat - 40.701) < 1e-12 and abs(lon + 74.001) < 1e-12


def test_drives_to_every_station_at_once_are_each_drive_to_one_to_the_bit(tmp_path: Path) -> None:
    scenario = load_jemss(write_scenario(tmp_path))
    assert scenario.network is not None
    starts = [(lat, lon) for lat, lon, _ in NODES.values()] + [(40.7015, -74.0005)]
    for travel in (RoadTravel(scenario, scenario.network), StraightTravel(scenario)):
        for a in starts:
            for mode in scenario.network.modes:
                stations = range(len(scenario.stations))
                one_by_one = [travel.to_station_s(a, s, mode) for s in stations]
                at_once = travel.to_stations_s(a, mode)
                assert at_once == one_by_one
                assert all(type(x) is float for x in at_once)
