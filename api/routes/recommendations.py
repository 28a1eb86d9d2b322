"""Recommended units for an incident: the response plan's requirements, nearest units first."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import OPERATE, allow
from api.deps import ServicesDep
from api.errors import ERRORS
from api.schemas import RecommendationPublic
from api.services import Services
from api.views import recommendation_public
from domain.incident import Incident
from projections.recommend import recommend

router = APIRouter(tags=["recommendations"], responses=ERRORS)


async def recommendation_for(
    services: Services, incident: Incident, alternatives: int = 4
) -> RecommendationPublic:
    """Fill each requirement of the plan with the nearest available suitable units."""
    rec = await recommend(incident, services.plan, services.locator, alternatives=alternatives)
    return recommendation_public(incident.id, rec)


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
