"""The base map of the operating area (GeoJSON) that the console and crew screen draw."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import REFERENCE_READ, allow
from api.basemap import base_map
from api.deps import ServicesDep
from api.errors import ERRORS
from geo.roads import RoadNetwork

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


@router.get("/map", dependencies=[allow(REFERENCE_READ, "read the base map")])
async def get_map(services: ServicesDep) -> MapPublic:
    """The operating area, each station's first-due zone, stations, hospitals, and the
    roads when a road network is loaded: everything the maps draw, with no tile server."""
    units = [(row.lat, row.lon) for row in await services.locator.all_units()]
    network = getattr(services.locator, "network", None)
    roads = network if isinstance(network, RoadNetwork) else None
    stations = services.reference.list_stations()
    hospitals = services.reference.list_hospitals()
    data = await services.query(lambda: base_map(stations, hospitals, units, roads))
    return MapPublic.model_validate(data)
