"""With a road network the live view drives ambulances to stations by road, as the simulator
does, so the coverage policy's redeploy plan sends the unit the roads bring soonest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.geo.roads import RoadNetwork
from najda.projections.dispatch.stations_hospitals import Place
from najda.projections.policies import POLICIES, Coverage
from najda.projections.policies.live import LiveTravel, LiveView, Zones, live_scenario
from najda.projections.policies.move_ups import planned_move_ups
from tests.policy_floor import Ambulance, Station, floor_sim, planned_moves, unit_row

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
MODE = 1
OFF_ROAD_MPS = 5.0
#: Node → (lat, lon): the two stations' nodes, and one beside each ambulance.
NODES = {"S1": (47.00, 9.50), "S2": (47.00, 9.60), "A1": (47.00, 9.53), "A2": (47.00, 9.48)}
#: Roads, both ways, in seconds. A1, the nearer to S2 in a straight line, has a river
#: between: its bridge to S2 is a long way round (1500 s), and through S1 it takes 700 s;
#: A2, west of S1, has a fast road to S2 (300 s). S1 and S2 are 550 s apart: each station
#: alone covers its own demand within the 8-minute target.
ROADS = [("S1", "A1", 150.0), ("S1", "A2", 250.0), ("A2", "S2", 300.0), ("A1", "S2", 1500.0)]
STATIONS = [
    Station(uuid.uuid5(uuid.NAMESPACE_DNS, code), code, name, *NODES[code])
    for code, name in (("S1", "Central"), ("S2", "East"))
]
#: Both ambulances wait at S1 (their nearest station), each 0.0005° north of its node.
AMBULANCES = [
    Ambulance(
        uuid.uuid5(uuid.NAMESPACE_DNS, sign), sign, NODES[sign][0] + 0.0005, NODES[sign][1], True
    )
    for sign in ("A1", "A2")
]


def _network() -> RoadNetwork:
    names = list(NODES)
    arcs = [(a, b, s) for a, b, s in ROADS] + [(b, a, s) for a, b, s in ROADS]
    return RoadNetwork(
        [NODES[n][0] for n in names],
        [NODES[n][1] for n in names],
        [names.index(a) for a, _, _ in arcs],
        [names.index(b) for _, b, _ in arcs],
        {MODE: [s for _, _, s in arcs]},
        {MODE: OFF_ROAD_MPS},
    )


def _zones() -> Zones:
    """Half the demand at each station."""
    lats = np.array([s.lat for s in STATIONS])
    lons = np.array([s.lon for s in STATIONS])
    return Zones(lats, lons, np.array([0.5, 0.5]), np.array([0, 1]), ("Centre", "East side"))


def _view(network: RoadNetwork | None) -> LiveView:
    places = [Place(s.id, s.code, s.name, s.lat, s.lon, AT) for s in STATIONS]
    rows = [unit_row(a, AT) for a in AMBULANCES]
    scenario = live_scenario(places, rows, DEFAULT_TARGETS, _zones(), MODE)
    travel = LiveTravel(scenario.stations, scenario.demand, network=network, mode=MODE)
    return LiveView(scenario, travel, rows, lambda: AT)


class CountingTravel(LiveTravel):
    """Live travel that counts the points it is asked to drive from."""

    asked = 0

    def to_stations_s(self, lat: float, lon: float) -> list[float]:
        self.asked += 1
        return super().to_stations_s(lat, lon)


def _coverage() -> Coverage:
    policy = POLICIES["coverage"]()
    assert isinstance(policy, Coverage)
    return policy


def _moves(view: LiveView) -> list[tuple[str, str]]:
    return [(m.call_sign, m.to_station) for m in planned_move_ups(_coverage(), view)]


def test_drives_to_stations_are_the_networks_travel_times_from_the_last_known_position() -> None:
    network = _network()
    view = _view(network)
    for unit, ambulance in zip(view.idle_units(), AMBULANCES, strict=True):
        here = (ambulance.lat, ambulance.lon)
        expected = [network.travel_s(here, (s.lat, s.lon), MODE) for s in STATIONS]
        assert view.seconds_to_stations(unit) == pytest.approx(expected, rel=1e-12)
        assert [view.seconds_to_station(unit, s) for s in range(2)] == list(
            view.seconds_to_stations(unit)
        )
    # The off-road leg (about 56 m at 5 m/s) and the roads: A1 is 700 s from S2, A2 300 s.
    a1, a2 = view.idle_units()
    assert view.seconds_to_station(a1, 1) == pytest.approx(700.0 + 55.6 / OFF_ROAD_MPS, abs=0.1)
    assert view.seconds_to_station(a2, 1) == pytest.approx(300.0 + 55.6 / OFF_ROAD_MPS, abs=0.1)


def test_the_redeploy_plan_sends_the_unit_the_roads_bring_soonest_not_the_nearest() -> None:
    by_road = _view(_network())
    assert [by_road.scenario.stations[u.station].code for u in by_road.idle_units()] == ["S1", "S1"]
    assert _coverage().redeploy_posts(by_road) == (0, 1)  # one post at each station
    assert _moves(by_road) == [("A2", "S2")]
    # In a straight line A1 is the nearer to S2: without roads the plan sends it instead.
    assert _moves(_view(None)) == [("A1", "S2")]


def test_the_live_plan_is_the_plan_the_simulator_makes_on_the_same_roads() -> None:
    network = _network()
    sim = floor_sim(STATIONS, AMBULANCES, _zones(), DEFAULT_TARGETS, network=network, mode=MODE)
    assert planned_moves("coverage", sim) == sorted(_moves(_view(network))) == [("A2", "S2")]
    # The simulator's drives (its return trees) are the live view's, number for number.
    view = _view(network)
    for unit, sim_unit in zip(view.idle_units(), sim.idle_units(), strict=True):
        assert list(view.seconds_to_stations(unit)) == sim.seconds_to_stations(sim_unit)


def test_a_view_asks_each_units_drives_once() -> None:
    network = _network()
    view = _view(network)
    counting = CountingTravel(view.travel.stations, view.travel.demand, network=network, mode=MODE)
    view.travel = counting
    _coverage().relocations(view)
    _coverage().relocations(view)
    assert counting.asked == 2  # two idle ambulances, each asked once
