"""EIDO (NENA-STA-021), incidents across agencies: export an incident, import one as a new
incident (one atomic save, idempotent by the EIDO's id)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response, status

from najda.api.auth import OPERATE, READ, PrincipalDep, allow
from najda.api.deps import ActorDep, ServicesDep
from najda.api.eido import import_eido, incident_eido, read_eido
from najda.api.eido_geocode import civic_locator
from najda.api.errors import ERRORS, query_error
from najda.api.read_audit import record_incident_read
from najda.api.redaction import incident_for
from najda.api.schemas import PriorityIn
from najda.api.schemas_incidents import IncidentPublic
from najda.api.views import incident_public
from najda.domain.errors import InvalidValue
from najda.domain.values import Position
from najda.projections.audit.as_of import incident_as_of
from najda.projections.store.event_rows import EventLog

router = APIRouter(tags=["eido"], responses=ERRORS)


@router.get("/incidents/{incident_id}/eido", dependencies=[allow(READ, "export incidents")])
async def eido(incident_id: UUID, services: ServicesDep, user: PrincipalDep) -> dict[str, Any]:
    """The incident as a NENA-STA-021 EIDO (JSON), with a resource per assigned unit."""

    def build() -> tuple[dict[str, Any], object]:
        past = incident_as_of(services.dispatch, incident_id, EventLog(services.dispatch).head())
        agency = services.settings.agency
        shown = incident_eido(incident_for(user, past.incident), past.unit_statuses, agency)
        return shown, past.incident.source

    document, source = await services.query(build)
    action = "GET /incidents/{incident_id}/eido"
    await record_incident_read(services, user, action, incident_id, source)
    return document


@router.post(
    "/incidents/eido",
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(OPERATE, "import incidents")],
)
async def import_eido_route(
    document: Annotated[dict[str, Any], Body(description="an EIDO 1.0 JSON document")],
    services: ServicesDep,
    actor: ActorDep,
    response: Response,
    lat: Annotated[float | None, Query(ge=-90, le=90, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180, allow_inf_nan=False)] = None,
    priority: Annotated[PriorityIn | None, Query()] = None,
) -> IncidentPublic:
    """Open an incident from an EIDO; lat/lon and priority fill in what the EIDO lacks."""
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise query_error(missing, InvalidValue(missing, "give both lat and lon"))
    location = Position(lat, lon) if lat is not None and lon is not None else None
    call = read_eido(document)
    locate = None if services.geocoder is None else civic_locator(services.geocoder)
    incident_id, created = await services.command(
        lambda: import_eido(
            services.dispatch, call, actor, location=location, priority=priority, locate=locate
        )
    )
    response.headers["Location"] = f"/incidents/{incident_id}"
    if not created:  # imported before: the same incident, said so
        response.status_code = status.HTTP_200_OK
        shown = quote(call.eido_id, safe=":/._-@")[:250]  # a header is Latin-1 only
        response.headers["Najda-EIDO-Import"] = f"already imported: {shown}"
    incident = await services.query(lambda: services.dispatch.get_incident(incident_id))
    return incident_public(incident, services.now())
