"""Assignments: dispatch units to an incident (one atomic save), re-assign and release them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from api.auth import OPERATE, allow
from api.deps import ActorDep, ServicesDep, UnitIdDep, unit_ref_id
from api.errors import ERRORS
from api.routes.incidents import incident_view
from api.schemas import AssignmentCreate, IncidentPublic, UnitReassign, UnitRelease
from api.services import Services
from domain.application import UnitChoice
from domain.errors import UnitNotFound
from domain.incident import Incident
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
    choices = [await _choice(services, incident, unit_ref_id(ref)) for ref in body.units]
    names: dict[UUID, str] = dict(zip((c.unit_id for c in choices), body.units, strict=True))
    try:
        await services.command(lambda: services.dispatch.assign_units(incident_id, choices, actor))
    except UnitNotFound as missing:
        typed = names.get(missing.ident) if isinstance(missing.ident, UUID) else None
        raise UnitNotFound(typed or missing.ident) from None
    return await incident_view(services, incident_id)


@router.post("/reassign", dependencies=[allow(OPERATE, "assign or release units")])
async def reassign_unit(
    incident_id: UUID, body: UnitReassign, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Take a committed unit from `from_incident_id` and dispatch it here, in one atomic
    save: the other incident's need it filled reappears as unfilled.

    409 when the unit is no longer on `from_incident_id` (it moved meanwhile), is
    transporting or at hospital, or this incident has ended; then nothing changes.
    """
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    choice = await _choice(services, incident, unit_ref_id(body.unit))
    try:
        await services.command(
            lambda: services.dispatch.reassign_unit(
                choice,
                incident_id,
                from_incident_id=body.from_incident_id,
                actor=actor,
                reason=body.reason,
            )
        )
    except UnitNotFound:
        raise UnitNotFound(body.unit) from None
    return await incident_view(services, incident_id)


async def _choice(services: Services, incident: Incident, unit_id: UUID) -> UnitChoice:
    """The unit with its distance and ETA to the incident now (recorded with the assignment)."""
    row = await services.locator.get(unit_id)
    if row is None:
        return UnitChoice(unit_id)
    distance_m = geodesic_m(incident.location.lat, incident.location.lon, row.lat, row.lon)
    eta_s = services.locator.speed.eta_s(distance_m)
    return UnitChoice(unit_id, round(distance_m, 1), round(eta_s, 1))


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
