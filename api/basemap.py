"""The consoles' base map as GeoJSON, drawn from our own data only (no tiles, no internet).

Features, each with a `kind` property: `area` (the operating area: every station, hospital
and unit with a margin), `zone` (each station's first-due area: the points nearer to it than
to any other station, as the response-time reports count zones), `station`, `hospital`, and
`roads` (the loaded road network, merged and simplified) when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiLineString, MultiPoint, Point, mapping
from shapely.geometry.base import BaseGeometry
from shapely.ops import linemerge

from najda.geo.roads import RoadNetwork
from najda.projections.dispatch.stations_hospitals import Place

#: Margin of the operating area around the outermost places, metres.
AREA_MARGIN_M = 2_500.0
#: Roads are simplified to this tolerance (metres) and cut to this many lines at most.
ROAD_TOLERANCE_M = 15.0
MAX_ROAD_LINES = 20_000
#: Decimal places kept in coordinates (5: about a metre).
DIGITS = 5
M_PER_DEGREE = 111_320.0


class LocalMetres:
    """An equirectangular projection around a reference latitude: plenty for a city's map."""

    def __init__(self, lat0: float) -> None:
        self.kx = M_PER_DEGREE * math.cos(math.radians(lat0))
        self.ky = M_PER_DEGREE

    def forward(self, geometry: BaseGeometry) -> BaseGeometry:
        """Degrees (lon, lat) to metres (x, y)."""
        return shapely.transform(geometry, lambda c: c * np.array([self.kx, self.ky]))

    def back(self, geometry: BaseGeometry) -> BaseGeometry:
        """Metres (x, y) to degrees (lon, lat), rounded."""
        degrees = shapely.transform(geometry, lambda c: c / np.array([self.kx, self.ky]))
        return shapely.set_precision(degrees, 10**-DIGITS)


def feature(geometry: BaseGeometry, kind: str, **properties: Any) -> dict[str, Any]:
    """A GeoJSON feature with its kind among the properties."""
    return {
        "type": "Feature",
        "geometry": mapping(geometry),
        "properties": {"kind": kind, **properties},
    }


def base_map(
    stations: Sequence[Place],
    hospitals: Sequence[Place],
    unit_points: Sequence[tuple[float, float]],
    roads: RoadNetwork | None = None,
) -> dict[str, Any]:
    """The base map as a GeoJSON FeatureCollection with a `bbox` (None when nothing is known)."""
    points = [(p.lon, p.lat) for p in (*stations, *hospitals)] + [
        (lon, lat) for lat, lon in unit_points
    ]
    if not points:
        return {"type": "FeatureCollection", "bbox": None, "features": []}
    lat0 = sum(lat for _, lat in points) / len(points)
    local = LocalMetres(lat0)
    area_m = local.forward(MultiPoint(points)).convex_hull.buffer(AREA_MARGIN_M)
    features = [feature(local.back(area_m), "area")]
    features += _zones(stations, area_m, local)
    if roads is not None:
        features += [feature(line, "roads") for line in road_lines(roads)]
    features += [
        feature(
            Point(round(s.lon, DIGITS), round(s.lat, DIGITS)), "station", code=s.code, name=s.name
        )
        for s in stations
    ]
    features += [
        feature(
            Point(round(h.lon, DIGITS), round(h.lat, DIGITS)),
            "hospital",
            code=h.code,
            name=h.name,
            services=list(h.services),
        )
        for h in hospitals
    ]
    bounds = local.back(area_m).bounds
    return {
        "type": "FeatureCollection",
        "bbox": [round(b, DIGITS) for b in bounds],
        "features": features,
    }


def _zones(
    stations: Sequence[Place], area_m: BaseGeometry, local: LocalMetres
) -> list[dict[str, Any]]:
    """Each station's first-due area within the operating area."""
    if not stations:
        return []
    sites = {(round(s.lon, 7), round(s.lat, 7)): s for s in sorted(stations, key=lambda s: s.code)}
    placed = [(local.forward(Point(xy)), station) for xy, station in sites.items()]
    if len(placed) == 1:
        cells = [area_m]
    else:
        diagram = shapely.voronoi_polygons(MultiPoint([p for p, _ in placed]), extend_to=area_m)
        cells = list(diagram.geoms)
    zones = []
    for cell in cells:
        owner = next((station for point, station in placed if cell.covers(point)), None)
        if owner is None:
            continue
        shape = cell.intersection(area_m)
        if not shape.is_empty:
            zones.append(feature(local.back(shape), "zone", code=owner.code, name=owner.name))
    return sorted(zones, key=lambda f: str(f["properties"]["code"]))


@lru_cache(maxsize=4)
def road_lines(network: RoadNetwork) -> tuple[BaseGeometry, ...]:
    """The network's roads, both directions as one, merged into lines and simplified."""
    mode = network.modes[0]
    arcs = network.graphs[mode].tocoo()
    a, b = np.minimum(arcs.row, arcs.col), np.maximum(arcs.row, arcs.col)
    pairs = np.unique(np.stack([a, b], axis=1), axis=0) if a.size else np.empty((0, 2), int)
    local = LocalMetres(float(network.lats.mean()))
    segments = [
        (
            (network.lons[i] * local.kx, network.lats[i] * local.ky),
            (network.lons[j] * local.kx, network.lats[j] * local.ky),
        )
        for i, j in pairs
        if i != j
    ]
    if not segments:
        return ()
    merged = linemerge(MultiLineString(segments)).simplify(ROAD_TOLERANCE_M)
    lines = list(getattr(merged, "geoms", [merged]))
    lines.sort(key=lambda line: -line.length)  # the longest roads first, when cut
    kept = MultiLineString(lines[:MAX_ROAD_LINES])
    return (local.back(kept),)
