"""Units: the roster with statuses and positions, registration, status changes and AVL."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from najda.api import crew
from najda.api.auth import AVL, BULK_POSITIONS, MANAGE, OPERATE, READ, allow, check_unit
from najda.api.deps import ActorDep, LocatorDep, PrincipalDep, ServicesDep, UnitIdDep, unit_ref_id
from najda.api.errors import ERRORS
from najda.api.live.positions import Report
from najda.api.queries import incident_view
from najda.api.read_audit import record_incident_read
from najda.api.schemas import KindIn, StatusIn
from najda.api.schemas_units import (
    Acknowledged,
    AssignmentView,
    PositionAccepted,
    PositionBatch,
    PositionReport,
    PositionsAccepted,
    UnitCreate,
    UnitPublic,
    UnitStatusChange,
)
from najda.api.services import Services
from najda.api.views import unit_public, unit_row_public
from najda.domain.dispatch.stations_hospitals import station_id_for
from najda.domain.errors import InvalidValue
from najda.domain.values import Position

router = APIRouter(prefix="/units", tags=["units"], responses=ERRORS)
positions_router = APIRouter(tags=["units"], responses=ERRORS)
POSITIONS = OPERATE | {AVL}


async def unit_view(services: Services, unit_id: UUID) -> UnitPublic:
    """The unit as the locator holds it (latest AVL position), else as stored."""
    row = await services.locator.get(unit_id)
    if row is not None:
        return unit_row_public(row)
    unit = await services.query(lambda: services.dispatch.get_unit(unit_id))
    return unit_public(unit)


@router.get("", dependencies=[allow(READ, "list units")])
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
async def get_unit(unit_id: UnitIdDep, services: ServicesDep, user: PrincipalDep) -> UnitPublic:
    """One unit, by id or call sign (a crew sees its own unit only)."""
    check_unit(user, unit_id, READ, "read")
    return await unit_view(services, unit_id)


@router.get("/{unit}/assignment")
async def get_assignment(
    unit_id: UnitIdDep, services: ServicesDep, user: PrincipalDep
) -> AssignmentView:
    """The unit and the incident it works now (location, address, nature, priority, notes)."""
    check_unit(user, unit_id, READ, "read the assignment of")
    unit = await unit_view(services, unit_id)
    if unit.incident_id is None:
        return AssignmentView(unit=unit, incident=None)
    incident = await incident_view(services, unit.incident_id, viewer=user)
    action = "GET /units/{unit}/assignment"
    await record_incident_read(services, user, action, incident.id, incident.source)
    return AssignmentView(unit=unit, incident=incident)


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[allow(MANAGE, "register units")]
)
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
    unit_id: UnitIdDep, body: UnitStatusChange, services: ServicesDep, user: PrincipalDep
) -> UnitPublic:
    """Move the unit along its lifecycle; 409 names the current and requested status."""
    check_unit(user, unit_id, OPERATE, "change the status of")
    await crew.change_status(
        services, unit_id, body.status, user.name, body.reason,
        incident_id=body.incident_id, command_id=body.command_id,
    )  # fmt: skip
    return await unit_view(services, unit_id)


@router.post("/{unit}/acknowledge")
async def acknowledge(
    unit_id: UnitIdDep, services: ServicesDep, user: PrincipalDep
) -> Acknowledged:
    """The crew confirms it received its assignment (recorded once per assignment)."""
    check_unit(user, unit_id, OPERATE, "acknowledge for")
    first = await crew.acknowledge(services, unit_id, user.name)
    return Acknowledged(first=first, unit=await unit_view(services, unit_id))


@router.post("/{unit}/position")
async def report_position(
    unit_id: UnitIdDep, body: PositionReport, services: ServicesDep, user: PrincipalDep
) -> PositionAccepted:
    """Take a vehicle position: the locator moves the unit at once; an event is recorded
    only when the move or the time since the last recorded position matters."""
    check_unit(user, unit_id, POSITIONS, "report the position of")
    recorded = await crew.report_position(services, unit_id, body.lat, body.lon, body.at, user.name)
    return PositionAccepted(recorded=recorded, unit=await unit_view(services, unit_id))


@positions_router.post("/positions", dependencies=[allow(BULK_POSITIONS, "report positions")])
async def report_positions(
    body: PositionBatch, services: ServicesDep, actor: ActorDep
) -> PositionsAccepted:
    """Many units' positions at once (an AVL gateway): all are checked before any is taken;
    422 names the first bad item. Answers once the locator shows them all; the reports
    worth an event (`to_record`) are stored just after, in the background."""
    reports = [Report(unit_ref_id(p.unit), p.lat, p.lon, p.at) for p in body.positions]
    moves = services.positions.check(reports, "positions")
    to_record = await services.positions.ingest(moves, actor, wait=False)
    return PositionsAccepted(accepted=len(moves), to_record=sum(to_record))


def _station_id(ref: str) -> UUID:
    try:
        return UUID(ref)
    except ValueError:
        return station_id_for(ref)
