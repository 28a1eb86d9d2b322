"""Assignments: dispatch units to an incident (one atomic save) and release them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.auth import OPERATE, allow
from api.deps import ActorDep, ServicesDep, UnitIdDep, unit_ref_id
from api.errors import ERRORS
from api.routes.incidents import incident_view
from api.schemas import AssignmentCreate, IncidentPublic, UnitRelease
from domain.application import UnitChoice
from geo.distance import geodesic_m

router = APIRouter(
    prefix="/incidents/{incident_id}/assignments", tags=["assignments"], responses=ERRORS
)


@router.post("", dependencies=[allow(OPERATE, "assign or release units")])
async def assign_units(
    incident_id: UUID, body: AssignmentCreate, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Dispatch units; distance and ETA come from the locator now and are recorded.

    409 when any unit is not available or another dispatcher assigned it first; then
    nothing is assigned.
    """
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    choices: list[UnitChoice] = []
    for ref in body.units:
        unit_id = unit_ref_id(ref)
        row = await services.locator.get(unit_id)
        if row is None:
            choices.append(UnitChoice(unit_id))
            continue
        distance_m = geodesic_m(incident.location.lat, incident.location.lon, row.lat, row.lon)
        eta_s = services.locator.speed.eta_s(distance_m)
        choices.append(UnitChoice(unit_id, round(distance_m, 1), round(eta_s, 1)))
    await services.command(lambda: services.dispatch.assign_units(incident_id, choices, actor))
    return await incident_view(services, incident_id)


@router.post("/{unit}/release", dependencies=[allow(OPERATE, "assign or release units")])
async def release_unit(
    incident_id: UUID,
    unit_id: UnitIdDep,
    body: UnitRelease,
    services: ServicesDep,
    actor: ActorDep,
) -> IncidentPublic:
    """Take a unit off the incident (it becomes available); 409 once it is transporting."""
    await services.command(
        lambda: services.dispatch.release_unit(incident_id, unit_id, body.reason, actor)
    )
    return await incident_view(services, incident_id)
