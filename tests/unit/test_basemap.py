"""The base map: zones are the stations' first-due areas, roads are merged, nothing is lost."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from uuid import uuid4

from shapely.geometry import Point, shape
from shapely.ops import unary_union

from najda.api.basemap import base_map, road_lines
from najda.api.demo import HOSPITALS, STATIONS
from najda.geo.roads import RoadNetwork
from najda.projections.dispatch.stations_hospitals import Place
from najda.projections.reports.response_times import Zones

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _place(code: str, lat: float, lon: float, services: tuple[str, ...] = ()) -> Place:
    return Place(uuid4(), code, f"Place {code}", lat, lon, AT, services)


STATION_PLACES = [_place(s.code, s.lat, s.lon) for s in STATIONS]
HOSPITAL_PLACES = [_place(h.code, h.lat, h.lon, h.services) for h in HOSPITALS]


def _of(features: list[dict[str, object]], kind: str) -> list[dict[str, object]]:
    return [f for f in features if f["properties"]["kind"] == kind]  # type: ignore[index]


def test_each_point_of_the_area_lies_in_the_zone_of_its_nearest_station() -> None:
    data = base_map(STATION_PLACES, HOSPITAL_PLACES, [])
    zones = {f["properties"]["code"]: shape(f["geometry"]) for f in _of(data["features"], "zone")}
    area = shape(_of(data["features"], "area")[0]["geometry"])
    assert set(zones) == {s.code for s in STATIONS}
    nearest = Zones((s.code, s.lat, s.lon) for s in STATIONS)  # as the reports count zones
    west, south, east, north = data["bbox"]
    draw = random.Random(7)
    checked = 0
    while checked < 300:
        lon, lat = draw.uniform(west, east), draw.uniform(south, north)
        point = Point(lon, lat)
        if not area.contains(point):
            continue
        owner = nearest.of(lat, lon)
        # Points within metres of a border may fall either side once rounded.
        assert zones[owner].buffer(1e-4).contains(point), (lat, lon, owner)
        checked += 1


def test_the_zones_tile_the_operating_area_which_holds_every_place() -> None:
    data = base_map(STATION_PLACES, HOSPITAL_PLACES, [(36.6, 3.4)])
    area = shape(_of(data["features"], "area")[0]["geometry"])
    zones = [shape(f["geometry"]) for f in _of(data["features"], "zone")]
    union = unary_union(zones)
    assert abs(union.area - area.area) / area.area < 1e-3
    assert sum(z.area for z in zones) - union.area < 1e-3 * area.area  # no overlaps
    for place in (*STATION_PLACES, *HOSPITAL_PLACES):
        assert area.contains(Point(place.lon, place.lat)), place.code
    assert area.contains(Point(3.4, 36.6))  # a unit's position widens the area
    assert len(_of(data["features"], "station")) == len(STATIONS)
    hospitals = _of(data["features"], "hospital")
    assert [h["properties"]["code"] for h in hospitals] == [h.code for h in HOSPITALS]
    west, south, east, north = data["bbox"]
    assert (west, south, east, north) == tuple(round(b, 5) for b in area.bounds)


def test_nothing_known_gives_an_empty_map_and_one_station_one_zone() -> None:
    assert base_map([], [], []) == {"type": "FeatureCollection", "bbox": None, "features": []}
    single = base_map([STATION_PLACES[0]], [], [])
    (zone,) = _of(single["features"], "zone")
    area = _of(single["features"], "area")[0]
    assert shape(zone["geometry"]).symmetric_difference(shape(area["geometry"])).area < 1e-9


def test_roads_are_merged_into_lines_with_both_directions_drawn_once() -> None:
    # A chain 0-1-2-3 (both directions) and a spur 1-4: three lines meeting at node 1.
    lats = [36.70, 36.71, 36.72, 36.73, 36.71]
    lons = [3.00, 3.00, 3.01, 3.01, 3.03]
    src = [0, 1, 1, 2, 2, 3, 1]
    dst = [1, 0, 2, 1, 3, 2, 4]
    network = RoadNetwork(lats, lons, src, dst, {1: [10.0] * len(src)}, {1: 5.0})
    (roads,) = road_lines(network)
    lines = list(roads.geoms)
    assert len(lines) == 3
    drawn = sum(len(line.coords) - 1 for line in lines)
    assert drawn == 4  # four road segments, each drawn once
    data = base_map(STATION_PLACES[:2], [], [], network)
    assert len(_of(data["features"], "roads")) == 1
