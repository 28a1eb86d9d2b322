"""Recommended units for an incident: the response plan's requirements, nearest units first."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.auth import OPERATE, allow
from api.deps import ServicesDep, UnitIdDep
from api.errors import ERRORS
from api.schemas import RecommendationPublic, UnitOptionPublic
from api.services import Services
from api.views import recommendation_public
from domain.errors import UnitNotFound
from domain.incident import Incident
from geo.distance import geodesic_m
from projections.recommend import recommend

router = APIRouter(tags=["recommendations"], responses=ERRORS)


async def recommendation_for(
    services: Services, incident: Incident, alternatives: int = 4
) -> RecommendationPublic:
    """Fill each requirement of the plan with the nearest available suitable units."""
    if services.recommender is not None:
        rec = await services.recommender.recommend(incident, services.plan, alternatives)
    else:
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


@router.get(
    "/incidents/{incident_id}/options/{unit}",
    dependencies=[allow(OPERATE, "see recommendations")],
)
async def get_unit_option(
    incident_id: UUID, unit: str, unit_id: UnitIdDep, services: ServicesDep
) -> UnitOptionPublic:
    """Any one unit (by call sign or id) for this incident: its distance and ETA, its status
    and the incident it works now, so a dispatcher can assign it or take it on purpose."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    row = await services.locator.get(unit_id)
    if row is None:
        raise UnitNotFound(unit)
    distance_m = geodesic_m(incident.location.lat, incident.location.lon, row.lat, row.lon)
    return UnitOptionPublic(
        unit_id=row.unit_id,
        call_sign=row.call_sign,
        kind=row.kind,
        status=row.status,
        incident_id=row.incident_id,
        distance_m=round(distance_m, 1),
        eta_s=round(services.locator.speed.eta_s(distance_m), 1),
    )
