"""Units: the roster with statuses and positions, registration, status changes and AVL."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import ActorDep, LocatorDep, ServicesDep, UnitIdDep
from api.errors import ERRORS
from api.schemas import (
    KindIn,
    PositionAccepted,
    PositionReport,
    StatusIn,
    UnitCreate,
    UnitPublic,
    UnitStatusChange,
)
from api.services import Services
from api.views import unit_public, unit_row_public
from domain.errors import InvalidValue
from domain.reference import station_id_for
from domain.values import Position

router = APIRouter(prefix="/units", tags=["units"], responses=ERRORS)


async def unit_view(services: Services, unit_id: UUID) -> UnitPublic:
    """The unit as the locator holds it (latest AVL position), else as stored."""
    row = await services.locator.get(unit_id)
    if row is not None:
        return unit_row_public(row)
    unit = await services.query(lambda: services.dispatch.get_unit(unit_id))
    return unit_public(unit)


@router.get("")
async def list_units(
    locator: LocatorDep,
    unit_status: Annotated[StatusIn | None, Query(alias="status")] = None,
    kind: KindIn | None = None,
) -> list[UnitPublic]:
    """Every unit with status, position and incident, by call sign (optionally filtered)."""
    rows = await locator.all_units()
    return [
        unit_row_public(row)
        for row in rows
        if (unit_status is None or row.status is unit_status) and (kind is None or row.kind is kind)
    ]


@router.get("/{unit}")
async def get_unit(unit_id: UnitIdDep, services: ServicesDep) -> UnitPublic:
    """One unit, by id or call sign."""
    return await unit_view(services, unit_id)


@router.post("", status_code=status.HTTP_201_CREATED)
async def register_unit(
    body: UnitCreate, services: ServicesDep, actor: ActorDep, response: Response
) -> UnitPublic:
    """Put a unit on the roster, based at a station (by id or code) or at a home position."""
    station_id = None if body.station is None else _station_id(body.station)
    if (body.lat is None) != (body.lon is None):
        missing = "lat" if body.lat is None else "lon"
        raise InvalidValue(missing, "give both lat and lon for a home position")
    home = None if body.lat is None or body.lon is None else Position(body.lat, body.lon)
    unit_id = await services.command(
        lambda: services.dispatch.register_unit(
            body.call_sign,
            body.kind,
            actor,
            capabilities=body.capabilities,
            station_id=station_id,
            home=home,
        )
    )
    response.headers["Location"] = f"/units/{unit_id}"
    return await unit_view(services, unit_id)


@router.post("/{unit}/status")
async def change_status(
    unit_id: UnitIdDep, body: UnitStatusChange, services: ServicesDep, actor: ActorDep
) -> UnitPublic:
    """Move the unit along its lifecycle; 409 names the current and requested status."""
    await services.command(
        lambda: services.dispatch.update_unit_status(unit_id, body.status, actor, body.reason)
    )
    return await unit_view(services, unit_id)


@router.post("/{unit}/position")
async def report_position(
    unit_id: UnitIdDep, body: PositionReport, services: ServicesDep, actor: ActorDep
) -> PositionAccepted:
    """Take a vehicle position: the locator moves the unit at once; an event is recorded
    only when the move or the time since the last recorded position matters."""
    at = body.at or services.now()  # the command checks it lies in the accepted window
    position = Position(body.lat, body.lon)
    recorded = await services.command(
        lambda: services.dispatch.report_position(unit_id, position, actor, at)
    )
    await services.locator.update_position(unit_id, body.lat, body.lon, at)
    return PositionAccepted(recorded=recorded, unit=await unit_view(services, unit_id))


def _station_id(ref: str) -> UUID:
    try:
        return UUID(ref)
    except ValueError:
        return station_id_for(ref)
