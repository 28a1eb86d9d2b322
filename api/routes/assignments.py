"""Assignments: dispatch units to an incident (one atomic save), re-assign and release them."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from najda.api import dispatching
from najda.api.auth import OPERATE, allow
from najda.api.deps import ActorDep, ServicesDep, UnitIdDep, unit_ref_id
from najda.api.errors import ERRORS
from najda.api.queries import incident_view
from najda.api.schemas_incidents import AssignmentCreate, IncidentPublic, UnitReassign, UnitRelease

router = APIRouter(
    prefix="/incidents/{incident_id}/assignments", tags=["assignments"], responses=ERRORS
)


@router.post("", dependencies=[allow(OPERATE, "assign or release units")])
async def assign_units(
    incident_id: UUID, body: AssignmentCreate, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """Dispatch units; distance and ETA as ranked now (by road with a network) are recorded.

    409 when any unit is not available or another dispatcher assigned it first; then
    nothing is assigned.
    """
    units = [(unit_ref_id(ref), ref) for ref in body.units]
    await dispatching.assign_units(services, incident_id, units, actor)
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
    unit = (unit_ref_id(body.unit), body.unit)
    await dispatching.reassign_unit(
        services, incident_id, unit, body.from_incident_id, body.reason, actor
    )
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
