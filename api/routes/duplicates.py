"""Possible duplicate calls of an incident: list them, link the call to one, or dismiss one."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from najda.api.auth import OPERATE, allow
from najda.api.deps import ActorDep, BoardDep, ServicesDep
from najda.api.errors import ERRORS
from najda.api.queries import incident_view
from najda.api.schemas_incidents import DuplicatePublic, IncidentPublic
from najda.domain.dispatch.duplicates import OpenCall, possible_duplicates
from najda.domain.values import Position

router = APIRouter(
    prefix="/incidents/{incident_id}/duplicates", tags=["incidents"], responses=ERRORS
)
WRITE = allow(OPERATE, "change incidents")


@router.get("", dependencies=[WRITE])
async def list_duplicates(
    incident_id: UUID, services: ServicesDep, board: BoardDep
) -> list[DuplicatePublic]:
    """Open incidents near this one in place and time (not dismissed), nearest first."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    if not incident.is_open or incident.duplicate_of is not None:
        return []
    rows = {row.incident_id: row for row in await board.open_incidents()}
    call = OpenCall(incident.id, incident.location, incident.call_received_at)
    others = [
        OpenCall(row.incident_id, Position(row.lat, row.lon), row.call_received_at)
        for row in rows.values()
    ]
    found = possible_duplicates(
        call, others, incident.dismissed_duplicates, distance=services.dispatch.distance
    )
    return [
        DuplicatePublic(
            id=other.incident_id,
            priority=rows[other.incident_id].priority,
            nature=rows[other.incident_id].nature,
            address=rows[other.incident_id].address,
            call_received_at=other.call_received_at,
            distance_m=round(distance_m, 1),
            units=[u.call_sign for u in rows[other.incident_id].units],
        )
        for other, distance_m in found
    ]


@router.post("/{original_id}/link", dependencies=[WRITE])
async def link_duplicate(
    incident_id: UUID, original_id: UUID, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """This call is the same emergency as `original_id`: linked and cancelled, the original
    noted, in one save (409 while units work this call)."""
    await services.command(
        lambda: services.dispatch.link_duplicate(incident_id, original_id, actor)
    )
    return await incident_view(services, incident_id)


@router.post("/{candidate_id}/dismiss", dependencies=[WRITE])
async def dismiss_duplicate(
    incident_id: UUID, candidate_id: UUID, services: ServicesDep, actor: ActorDep
) -> IncidentPublic:
    """`candidate_id` is not the same emergency: it is no longer offered (recorded)."""
    await services.command(
        lambda: services.dispatch.dismiss_duplicate(incident_id, candidate_id, actor)
    )
    return await incident_view(services, incident_id)
