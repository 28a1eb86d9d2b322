"""The base map of the operating area (GeoJSON) that the console and crew screen draw."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from najda.api.auth import REFERENCE_READ, allow
from najda.api.basemap import base_map
from najda.api.basemap_area import OSM_ATTRIBUTION, area_features
from najda.api.deps import ServicesDep
from najda.api.errors import ERRORS
from najda.geo.roads import RoadNetwork

router = APIRouter(tags=["reference"], responses=ERRORS)


class MapFeature(BaseModel):
    """A GeoJSON feature; `properties.kind` is area, zone, station, hospital or roads."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any]
    properties: dict[str, Any]


class MapPublic(BaseModel):
    """A GeoJSON FeatureCollection with its bounding box (west, south, east, north)."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    bbox: list[float] | None = Field(description="null when no place nor unit is known yet")
    features: list[MapFeature]
    geocoding: bool = Field(False, description="true when /geocode can answer (an area is loaded)")
    attribution: str | None = Field(
        None, description="the data's attribution, to show on the map (OpenStreetMap areas)"
    )


@router.get("/map", dependencies=[allow(REFERENCE_READ, "read the base map")])
async def get_map(services: ServicesDep) -> MapPublic:
    """The operating area, each station's first-due zone, stations, hospitals, the roads
    when a road network is loaded and, for an area imported from OpenStreetMap, its buildings,
    named streets and places with the attribution: everything the maps draw, no tile server."""
    units = [(row.lat, row.lon) for row in await services.locator.all_units()]
    network = getattr(services.locator, "network", None)
    roads = network if isinstance(network, RoadNetwork) else None
    stations = services.reference.list_stations()
    hospitals = services.reference.list_hospitals()
    data = await services.query(lambda: base_map(stations, hospitals, units, roads))
    data["geocoding"] = services.geocoder is not None
    area = services.area
    if area is not None:  # buildings, named streets and places of the imported area
        layers = await services.query(lambda: area_features(area))
        data["features"] = [*data["features"][:1], *layers, *data["features"][1:]]
        data["attribution"] = OSM_ATTRIBUTION
    return MapPublic.model_validate(data)
