"""Base-map layers of an imported OpenStreetMap area: buildings, named streets and places."""

from __future__ import annotations

from typing import Any

from shapely.geometry import MultiLineString, MultiPolygon, Point, Polygon

from najda.api.basemap import DIGITS, feature
from najda.geo.area import Area

#: The attribution the OpenStreetMap licence (ODbL) asks of every map drawn from its data.
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
#: Place kinds drawn with a permanent label (others get a tooltip).
LABELLED_PLACES = frozenset({"city", "town", "village"})

_CACHE: dict[int, tuple[Area, list[dict[str, Any]]]] = {}


def area_features(area: Area) -> list[dict[str, Any]]:
    """Buildings (one multipolygon), each named street and each place, computed once."""
    cached = _CACHE.get(id(area))
    if cached is not None and cached[0] is area:
        return cached[1]
    features: list[dict[str, Any]] = []
    rings = [Polygon(r) for r in area.buildings if len(r) >= 4]
    if rings:
        features.append(feature(MultiPolygon(rings), "buildings"))
    for street in area.streets:
        lines = [line for line in street.lines if len(line) >= 2]
        if lines:
            features.append(
                feature(
                    MultiLineString(lines),
                    "street",
                    name=street.name,
                    municipality=street.municipality,
                )
            )
    for place in area.places:
        features.append(
            feature(
                Point(round(place.lon, DIGITS), round(place.lat, DIGITS)),
                "place",
                name=place.name,
                place=place.kind,
                label=place.kind in LABELLED_PLACES,
            )
        )
    _CACHE.clear()
    _CACHE[id(area)] = (area, features)
    return features
