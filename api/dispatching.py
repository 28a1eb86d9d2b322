"""Dispatch use cases over the services, one home for REST, the FHIR intake and any other
entry point: assign and re-assign with the ranked distance and ETA recorded, auto-dispatch."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from uuid import UUID

from najda.api.schemas_incidents import RecommendationPublic
from najda.api.services import Services
from najda.domain.application import UnitChoice
from najda.domain.dispatch.incident import Incident
from najda.domain.errors import Conflict, UnitNotFound
from najda.projections.dispatch.road_locator import travel_of

log = logging.getLogger(__name__)


async def unit_choice(services: Services, incident: Incident, unit_id: UUID) -> UnitChoice:
    """The unit with the distance and ETA to the incident that ranking shows now (road ETA
    with a road network), recorded with the assignment."""
    row = await services.locator.get(unit_id)
    if row is None:
        return UnitChoice(unit_id)
    distance_m, eta_s = travel_of(
        services.locator, incident.location.lat, incident.location.lon, row
    )
    return UnitChoice(unit_id, round(distance_m, 1), eta_s)


async def assign_units(
    services: Services, incident_id: UUID, units: Sequence[tuple[UUID, str]], actor: str
) -> None:
    """Dispatch units (id, as the caller named it) in one atomic save; a missing unit is
    reported by the name the caller used. Conflict (409) when any is taken: none assigned."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    choices = [await unit_choice(services, incident, unit_id) for unit_id, _ in units]
    names = dict(units)
    try:
        await services.command(lambda: services.dispatch.assign_units(incident_id, choices, actor))
    except UnitNotFound as missing:
        typed = names.get(missing.ident) if isinstance(missing.ident, UUID) else None
        raise UnitNotFound(typed or missing.ident) from None


async def reassign_unit(
    services: Services,
    incident_id: UUID,
    unit: tuple[UUID, str],
    from_incident_id: UUID,
    reason: str,
    actor: str,
) -> None:
    """Take a committed unit from `from_incident_id` and dispatch it here in one atomic save,
    its ranked distance and ETA recorded."""
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    incident.require_open()
    unit_id, named = unit
    choice = await unit_choice(services, incident, unit_id)
    try:
        await services.command(
            lambda: services.dispatch.reassign_unit(
                choice, incident_id, from_incident_id=from_incident_id, actor=actor, reason=reason
            )
        )
    except UnitNotFound:
        raise UnitNotFound(named) from None


async def auto_dispatch(
    services: Services, incident_id: UUID, recommendation: RecommendationPublic, actor: str
) -> bool:
    """Assign the proposed units at once with the distance and ETA they were ranked by
    (priorities chosen in the settings); True when assigned.

    A unit taken meanwhile by another dispatcher refuses the whole assignment (409 inside);
    the incident then stays pending for a dispatcher. A call the dispatch policy holds (to
    keep cover for more urgent ones) is not sent either: a dispatcher sees why and decides.
    """
    if recommendation.hold is not None:
        log.info("auto-dispatch of incident %s held: %s", incident_id, recommendation.hold.reason)
        return False
    choices = [
        UnitChoice(c.unit_id, round(c.distance_m, 1), round(c.eta_s, 1))
        for c in recommendation.proposed
    ]
    if not choices:
        return False
    try:
        await services.command(
            lambda: services.dispatch.assign_units(incident_id, choices, f"{actor} (auto-dispatch)")
        )
    except Conflict:
        log.warning("auto-dispatch of incident %s refused; left for a dispatcher", incident_id)
        return False
    return True
