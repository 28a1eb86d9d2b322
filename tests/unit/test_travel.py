"""Road travel of simulated units: a unit returning to its station, on the tiny scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from najda.simulations.jemss import load_jemss
from najda.simulations.travel import Point, RoadTravel
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
