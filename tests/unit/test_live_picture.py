"""The live floor as a dispatch policy reads it: zones, units at their stations, the words."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np

from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.domain.values import UnitKind, UnitStatus
from najda.geo.distance import geodesic_many_m
from najda.projections.dispatch.read_model_changes import UnitRow
from najda.projections.dispatch.stations_hospitals import Place
from najda.projections.policies.live import (
    LiveSite,
    LiveTravel,
    LiveView,
    live_scenario,
    zones_around,
)
from najda.projections.policies.recommender import CoverageImpact

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
PLACES = [
    Place(uuid.uuid5(uuid.NAMESPACE_DNS, code), code, name, lat, lon, AT)
    for code, name, lat, lon in (
        ("S1", "North", 47.20, 9.50), ("S2", "South", 47.05, 9.50), ("S3", "East", 47.12, 9.62)
    )
]


def _row(sign: str, lat: float, lon: float, status: UnitStatus = UnitStatus.AVAILABLE) -> UnitRow:
    return UnitRow(uuid.uuid5(uuid.NAMESPACE_DNS, sign), sign, UnitKind.ALS, (), None, status,
                   None, lat, lon, AT, AT)


def test_without_addresses_each_grid_point_is_in_its_nearest_stations_area() -> None:
    sites = [LiveSite(p.id, p.code, p.name, p.lat, p.lon) for p in PLACES]
    zones = zones_around(sites)
    assert np.isclose(zones.weights.sum(), 1.0)
    distances = np.array([geodesic_many_m(s.lat, s.lon, zones.lats, zones.lons) for s in sites])
    assert (zones.zone == np.argmin(distances, axis=0)).all()
    assert zones.names == ("North first-due area", "South first-due area", "East first-due area")


def test_a_moved_up_unit_waits_at_its_post_and_the_others_at_their_nearest_station() -> None:
    rows = [_row("A1", 47.199, 9.501), _row("A2", 47.051, 9.499),
            _row("A3", 47.121, 9.619, UnitStatus.EN_ROUTE)]
    scenario = live_scenario(PLACES, rows, DEFAULT_TARGETS, None, 1)
    travel = LiveTravel(scenario.stations, scenario.demand)
    plain = LiveView(scenario, travel, rows, lambda: AT)
    assert [(u.call_sign, scenario.stations[u.station].code) for u in plain.idle_units()] == [
        ("A1", "S1"), ("A2", "S2")
    ]
    moved = LiveView(scenario, travel, rows, lambda: AT, {rows[1].unit_id: PLACES[2].id})
    assert [scenario.stations[u.station].code for u in moved.idle_units()] == ["S1", "S3"]
    assert [u.call_sign for u in moved.all_units()] == ["A1", "A2", "A3"]
    assert scenario.coverage_s == DEFAULT_TARGETS[max(DEFAULT_TARGETS, key=lambda p: p.rank)
                                                  ].on_scene_s


def test_the_words_a_dispatcher_reads_beside_a_unit() -> None:
    unit = uuid.uuid4()
    emptied = CoverageImpact(unit, "A1", 0.8, 0.5, ("Triesenberg", "Planken"), ("Vaduz",), 8)
    assert emptied.text == "leaves Triesenberg and Planken with no unit within 8 min"
    thinned = CoverageImpact(unit, "A1", 0.8, 0.7, (), ("Vaduz",), 8)
    assert thinned.text == "thins cover of Vaduz within 8 min"
    kept = CoverageImpact(unit, "A1", 0.8, 0.8, (), (), 8)
    assert kept.text == "keeps every zone's cover within 8 min"

