"""Reads shared by REST routes, sockets and the FHIR intake: an incident as shown (now or at
a past instant), its recommendation, a unit's option for an incident, a crew's destinations."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query

from najda.api.errors import query_error
from najda.api.input_limits import MAX_AS_OF
from najda.api.redaction import incident_for
from najda.api.schemas_care import DestinationsPublic
from najda.api.schemas_incidents import IncidentPublic, RecommendationPublic, UnitOptionPublic
from najda.api.services import Services
from najda.api.views import incident_public, recommendation_public
from najda.api.views_care import destinations_public
from najda.domain.dispatch.hospital_status import Service
from najda.domain.dispatch.incident import Incident
from najda.domain.errors import InvalidValue, UnitNotFound
from najda.projections.access.user_directory import Principal
from najda.projections.audit.as_of import AsOf, PastIncident, incident_as_of, parse_as_of
from najda.projections.dispatch.destinations import travel_for
from najda.projections.dispatch.recommendations import recommend, short_of_incident
from najda.projections.dispatch.road_locator import travel_of

AsOfQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_AS_OF,
        description="a log position (integer) or an ISO 8601 time with offset: the incident"
        " exactly as it was then",
    ),
]


async def incident_view(
    services: Services,
    incident_id: UUID,
    recommend: bool = False,
    viewer: Principal | None = None,
) -> IncidentPublic:
    """The incident as stored now, with its active units' statuses from the locator (the
    patient's data withheld from a viewer who may not see it); with `recommend`, the
    recommendation for an open incident (its report's, when nothing changed since)."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    statuses = {}
    capabilities = {}
    for unit_id in incident.active_unit_ids:
        row = await services.locator.get(unit_id)
        if row is not None:
            statuses[unit_id] = row.status
            capabilities[unit_id] = row.capabilities
    short = short_of_incident(incident, services.plan, capabilities)
    recommendation: RecommendationPublic | None = None
    if recommend and incident.is_open:
        # Right after its report, the one the feed ranked at that position (not ranked again).
        ranked = services.feed.at_report.take(incident)
        if ranked is not None:
            recommendation = recommendation_public(incident.id, ranked)
        else:
            recommendation = await recommendation_for(services, incident)
    shown = incident_for(viewer, incident)
    return incident_public(shown, services.now(), statuses, recommendation, short)


def as_of_value(text: str) -> AsOf:
    """The parsed `as_of` query parameter (422 naming it when malformed)."""
    try:
        return parse_as_of(text)
    except InvalidValue as exc:
        raise query_error("as_of", exc) from None


async def incident_as_of_view(
    services: Services, incident_id: UUID, text: str, viewer: Principal | None = None
) -> IncidentPublic:
    """The incident as it was at `as_of`, its units' statuses as they were then, and the
    requirements its units left unfilled then (`short`)."""
    as_of = as_of_value(text)
    past: PastIncident = await services.query(
        lambda: incident_as_of(services.dispatch, incident_id, as_of)
    )
    short = short_of_incident(past.incident, services.plan, past.capabilities)
    shown = incident_for(viewer, past.incident)
    return incident_public(shown, past.at, past.unit_statuses, None, short)


async def recommendation_for(
    services: Services, incident: Incident, alternatives: int = 4
) -> RecommendationPublic:
    """Fill each requirement of the plan with the units the server's dispatch policy ranks first."""
    if services.recommender is not None:
        rec = await services.recommender.recommend(incident, services.plan, alternatives)
    else:
        rec = await recommend(incident, services.plan, services.locator, alternatives=alternatives)
    return recommendation_public(incident.id, rec)


async def unit_option(services: Services, incident: Incident, unit_id: UUID) -> UnitOptionPublic:
    """Any one unit for this incident: distance and ETA as ranking computes them (road ETA
    with a road network), its status and the incident it works now."""
    row = await services.locator.get(unit_id)
    if row is None:
        raise UnitNotFound(unit_id)
    distance_m, eta_s = travel_of(
        services.locator, incident.location.lat, incident.location.lon, row
    )
    return UnitOptionPublic(
        unit_id=row.unit_id,
        call_sign=row.call_sign,
        kind=row.kind,
        status=row.status,
        incident_id=row.incident_id,
        distance_m=round(distance_m, 1),
        eta_s=eta_s,
    )


async def destinations_for(
    services: Services, unit_id: UUID, service: Service | None, limit: int = 5
) -> DestinationsPublic:
    """Rank the hospitals for the unit's patient from where the unit is now; the need is
    `service`, else the one its incident's nature names, else any emergency department."""
    row = await services.locator.get(unit_id)
    if row is None:
        raise UnitNotFound(unit_id)
    incident = None if row.incident_id is None else await services.board.get(row.incident_id)
    return destinations_public(
        row, incident, service, services.reference, services.plan, travel_for(services.locator),
        services.now(), limit,
    )  # fmt: skip
