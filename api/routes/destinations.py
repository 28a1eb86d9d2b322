"""Destinations for a crew's patient: hospitals with the needed service, ranked by travel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from najda.api import crew
from najda.api.auth import OPERATE, check_unit
from najda.api.deps import PrincipalDep, ServicesDep, UnitIdDep
from najda.api.errors import ERRORS
from najda.api.queries import destinations_for
from najda.api.schemas_care import (
    DestinationChoice,
    DestinationChosen,
    DestinationsPublic,
    ServiceIn,
)

router = APIRouter(prefix="/units", tags=["units"], responses=ERRORS)


@router.get("/{unit}/destinations")
async def get_destinations(
    unit_id: UnitIdDep,
    services: ServicesDep,
    user: PrincipalDep,
    service: Annotated[
        ServiceIn | None,
        Query(description="the patient's need; default: from the incident's nature, else any ED"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=50, description="how many hospitals to offer")] = 5,
) -> DestinationsPublic:
    """Hospitals for the unit's patient, ranked by travel time from the unit's position
    (road ETA with a road network): those offering the needed service and not closed (for a
    psychiatric need, not reporting zero psychiatric beds); advisory ones after every normal
    one. The hospitals left out are listed with the reason."""
    check_unit(user, unit_id, OPERATE, "see destinations for")
    return await destinations_for(services, unit_id, service, limit)


@router.post("/{unit}/destination")
async def choose_destination(
    unit_id: UnitIdDep, body: DestinationChoice, services: ServicesDep, user: PrincipalDep
) -> DestinationChosen:
    """Record the hospital the unit takes its patient to, on its incident (on scene or
    transporting; 422 for an unknown hospital, 409 for a closed one or a unit not on a job)."""
    check_unit(user, unit_id, OPERATE, "choose the destination of")
    answer = await crew.choose_destination(
        services, unit_id, body.hospital, user.name, body.command_id
    )
    return DestinationChosen.model_validate(answer)
