"""Stations (reference data): list, look up by id or code, register."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from najda.api.auth import MANAGE, REFERENCE_READ, allow
from najda.api.deps import ActorDep, ReferenceDep, ServicesDep, StationIdDep
from najda.api.errors import ERRORS
from najda.api.schemas_reference import StationCreate, StationPublic
from najda.api.views import station_public
from najda.domain.errors import StationNotFound
from najda.domain.values import Position
from najda.projections.dispatch.stations_hospitals import place_of

router = APIRouter(prefix="/stations", tags=["reference"], responses=ERRORS)


@router.get("", dependencies=[allow(REFERENCE_READ, "read stations")])
async def list_stations(reference: ReferenceDep) -> list[StationPublic]:
    """Every station, by code."""
    return [station_public(p) for p in reference.list_stations()]


@router.get("/{station}", dependencies=[allow(REFERENCE_READ, "read stations")])
async def get_station(station_id: StationIdDep, reference: ReferenceDep) -> StationPublic:
    """One station, by id or code."""
    place = reference.stations.get(station_id)
    if place is None:
        raise StationNotFound(station_id)
    return station_public(place)


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[allow(MANAGE, "register stations")]
)
async def register_station(
    body: StationCreate, services: ServicesDep, actor: ActorDep, response: Response
) -> StationPublic:
    """Register a station; its code is its natural key (409 when taken)."""
    location = Position(body.lat, body.lon)
    station_id = await services.command(
        lambda: services.dispatch.register_station(body.code, body.name, location, actor)
    )
    response.headers["Location"] = f"/stations/{station_id}"
    place = services.reference.stations.get(station_id)
    if place is None:  # the directory lags (read timeout): answer from the aggregate itself
        place = place_of(await services.query(lambda: services.dispatch.get_station(station_id)))
    return station_public(place)
