"""Recommended units for an incident: the response plan's requirements, nearest units first."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from najda.api.auth import OPERATE, allow
from najda.api.deps import ServicesDep, UnitIdDep
from najda.api.errors import ERRORS
from najda.api.queries import recommendation_for, unit_option
from najda.api.schemas_incidents import RecommendationPublic, UnitOptionPublic
from najda.domain.errors import UnitNotFound

router = APIRouter(tags=["recommendations"], responses=ERRORS)


@router.get(
    "/incidents/{incident_id}/recommendations", dependencies=[allow(OPERATE, "see recommendations")]
)
async def get_recommendations(
    incident_id: UUID,
    services: ServicesDep,
    alternatives: Annotated[
        int, Query(ge=0, le=20, description="ranked alternatives per requirement")
    ] = 4,
) -> RecommendationPublic:
    """Ranked available units per response-plan requirement, with distance_m and eta_s."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    return await recommendation_for(services, incident, alternatives)


@router.get(
    "/incidents/{incident_id}/options/{unit}",
    dependencies=[allow(OPERATE, "see recommendations")],
)
async def get_unit_option(
    incident_id: UUID, unit: str, unit_id: UnitIdDep, services: ServicesDep
) -> UnitOptionPublic:
    """Any one unit (by call sign or id) for this incident: its distance and ETA (as ranked),
    its status
    and the incident it works now, so a dispatcher can assign it or take it on purpose."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    try:
        return await unit_option(services, incident, unit_id)
    except UnitNotFound:
        raise UnitNotFound(unit) from None
