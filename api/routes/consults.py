"""Teleconsults: a dispatcher or a crew asks for a specialist on an incident; a specialist
accepts (joins) or declines; the consult ends with a recommendation; FHIR Encounter export."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from najda.api.auth import (
    ADMIN,
    AUDITOR,
    CONSULT_QUEUE,
    CREW,
    DISPATCHER,
    OPERATE,
    READ,
    SPECIALIST,
    Forbidden,
    allow,
)
from najda.api.deps import PrincipalDep, ServicesDep
from najda.api.errors import ERRORS
from najda.api.fhir_encounter import consult_encounter
from najda.api.queries import incident_view
from najda.api.read_audit import record_incident_read, record_reads
from najda.api.redaction import board_row_for, consult_for, incident_for, redacts
from najda.api.schemas_care import (
    ConsultCreate,
    ConsultDetail,
    ConsultEnd,
    ConsultPublic,
    ConsultQueueItem,
    ConsultReason,
)
from najda.api.schemas_users import SpecialtyIn
from najda.api.services import Services
from najda.api.views import board_public
from najda.api.views_care import consult_public
from najda.domain.care.consult import Consult, ConsultStatus
from najda.domain.dispatch.incident import Incident
from najda.domain.values import IncidentSource
from najda.projections.access.user_directory import Principal

router = APIRouter(tags=["teleconsults"], responses=ERRORS)
CONSULTS = "/incidents/{incident_id}/consults"
ONE = CONSULTS + "/{consult_id}"

REQUESTERS = frozenset({DISPATCHER, ADMIN, CREW})
READERS = frozenset({DISPATCHER, ADMIN, AUDITOR, CREW, SPECIALIST})
ENDERS = frozenset({DISPATCHER, ADMIN, SPECIALIST})


class FhirJSONResponse(JSONResponse):
    """A FHIR resource in JSON."""

    media_type = "application/fhir+json"


def _works_on(user: Principal, incident: Incident) -> bool:
    """A crew whose unit is assigned to the incident now."""
    return user.role is CREW and user.unit_id in incident.active_unit_ids


def _may_read(user: Principal, incident: Incident, consult: Consult) -> bool:
    if user.role in READ or _works_on(user, incident):
        return True
    return user.role is SPECIALIST and (
        consult.specialty in user.specialties or consult.specialist == user.name
    )


def check_requester(user: Principal, incident: Incident, what: str) -> None:
    """Dispatchers and administrators; a crew on the incident its unit works."""
    if user.role in OPERATE or _works_on(user, incident):
        return
    if user.role is CREW:
        raise Forbidden(f"a crew may {what} only on the incident its unit is assigned to")
    raise Forbidden(f"role {user.role.value} may not {what} (allowed: dispatcher, admin, crew)")


def check_reader(user: Principal, incident: Incident, consult: Consult) -> None:
    """Who may read a consult (see api/auth.py's table)."""
    if not _may_read(user, incident, consult):
        raise Forbidden(f"{user.name} may not read this {consult.specialty.value} consult")


def check_specialist(user: Principal, consult: Consult, what: str) -> None:
    """A specialist in the consult's specialty."""
    if user.role is not SPECIALIST:
        raise Forbidden(f"only a specialist may {what} a teleconsult")
    if consult.specialty not in user.specialties:
        mine = ", ".join(sorted(user.specialties))
        raise Forbidden(f"{user.name} is a specialist in {mine}, not {consult.specialty.value}")


def check_ender(user: Principal, consult: Consult) -> None:
    """The specialist who accepted it; dispatchers and administrators (a lost connection)."""
    if user.role in OPERATE or (user.role is SPECIALIST and consult.specialist == user.name):
        return
    raise Forbidden("only the specialist who accepted it, or a dispatcher, may end a consult")


async def _incident(services: Services, incident_id: UUID) -> Incident:
    return await services.query(lambda: services.dispatch.get_incident(incident_id))


async def _consult(
    services: Services, incident_id: UUID, consult_id: UUID
) -> tuple[Incident, Consult]:
    incident = await _incident(services, incident_id)
    return incident, incident.consult(consult_id)


async def _answer(services: Services, incident_id: UUID, consult_id: UUID) -> ConsultPublic:
    _incident_now, consult = await _consult(services, incident_id, consult_id)
    return consult_public(incident_id, consult)


@router.post(
    CONSULTS,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allow(REQUESTERS, "request teleconsults")],
)
async def request_consult(
    incident_id: UUID,
    body: ConsultCreate,
    services: ServicesDep,
    user: PrincipalDep,
    response: Response,
) -> ConsultPublic:
    """Ask for a specialist on an open incident (409 when it is closed or cancelled); a crew
    asks for the incident its unit works. Specialists in that specialty see it at once."""
    incident = await _incident(services, incident_id)
    check_requester(user, incident, "request a teleconsult")
    unit_id = user.unit_id if user.role is CREW else None
    consult_id = await services.command(
        lambda: services.dispatch.request_consult(
            incident_id, body.specialty, body.reason, user.name, unit_id=unit_id
        )
    )
    response.headers["Location"] = f"/incidents/{incident_id}/consults/{consult_id}"
    return await _answer(services, incident_id, consult_id)


@router.get(CONSULTS, dependencies=[allow(READERS, "read teleconsults")])
async def list_consults(
    incident_id: UUID, services: ServicesDep, user: PrincipalDep
) -> list[ConsultPublic]:
    """The incident's teleconsults, oldest first (a specialist sees its specialties')."""
    incident = await _incident(services, incident_id)
    if user.role is CREW and not _works_on(user, incident):
        raise Forbidden("a crew reads the teleconsults of the incident its unit works only")
    return [
        consult_public(incident_id, consult_for(user, incident, c))
        for c in sorted(incident.consults.values(), key=lambda c: c.requested_at)
        if _may_read(user, incident, c)
    ]


@router.get(ONE, dependencies=[allow(READERS, "read teleconsults")])
async def get_consult(
    incident_id: UUID, consult_id: UUID, services: ServicesDep, user: PrincipalDep
) -> ConsultDetail:
    """One teleconsult with its incident (location, nature, priority, units, notes)."""
    incident, consult = await _consult(services, incident_id, consult_id)
    check_reader(user, incident, consult)
    action = "GET /incidents/{incident_id}/consults/{consult_id}"
    await record_incident_read(services, user, action, incident_id, incident.source)
    return ConsultDetail(
        consult=consult_public(incident_id, consult_for(user, incident, consult)),
        incident=await incident_view(services, incident_id, viewer=user),
    )


@router.post(ONE + "/accept", dependencies=[allow(frozenset({SPECIALIST}), "accept teleconsults")])
async def accept_consult(
    incident_id: UUID, consult_id: UUID, services: ServicesDep, user: PrincipalDep
) -> ConsultDetail:
    """A specialist in the consult's specialty joins the incident: the consult starts (409
    when another specialist accepted it first, or it was withdrawn)."""
    _incident_now, consult = await _consult(services, incident_id, consult_id)
    check_specialist(user, consult, "accept")
    await services.command(
        lambda: services.dispatch.accept_consult(incident_id, consult_id, user.name)
    )
    return await get_consult(incident_id, consult_id, services, user)


@router.post(
    ONE + "/decline", dependencies=[allow(frozenset({SPECIALIST}), "decline teleconsults")]
)
async def decline_consult(
    incident_id: UUID,
    consult_id: UUID,
    body: ConsultReason,
    services: ServicesDep,
    user: PrincipalDep,
) -> ConsultPublic:
    """A specialist in the consult's specialty declines a request nobody has accepted."""
    _incident_now, consult = await _consult(services, incident_id, consult_id)
    check_specialist(user, consult, "decline")
    await services.command(
        lambda: services.dispatch.decline_consult(incident_id, consult_id, body.reason, user.name)
    )
    return await _answer(services, incident_id, consult_id)


@router.post(ONE + "/cancel", dependencies=[allow(REQUESTERS, "cancel teleconsults")])
async def cancel_consult(
    incident_id: UUID,
    consult_id: UUID,
    body: ConsultReason,
    services: ServicesDep,
    user: PrincipalDep,
) -> ConsultPublic:
    """Withdraw a request nobody has accepted (409 once accepted: end it instead)."""
    incident, _consult_now = await _consult(services, incident_id, consult_id)
    check_requester(user, incident, "cancel a teleconsult")
    await services.command(
        lambda: services.dispatch.cancel_consult(incident_id, consult_id, body.reason, user.name)
    )
    return await _answer(services, incident_id, consult_id)


@router.post(ONE + "/end", dependencies=[allow(ENDERS, "end teleconsults")])
async def end_consult(
    incident_id: UUID,
    consult_id: UUID,
    body: ConsultEnd,
    services: ServicesDep,
    user: PrincipalDep,
) -> ConsultPublic:
    """End a consult in progress with the recommendation: the specialist who accepted it,
    or a dispatcher (when the specialist's connection was lost)."""
    _incident_now, consult = await _consult(services, incident_id, consult_id)
    check_ender(user, consult)
    await services.command(
        lambda: services.dispatch.end_consult(
            incident_id, consult_id, body.recommendation, user.name
        )
    )
    return await _answer(services, incident_id, consult_id)


@router.get(
    ONE + "/encounter",
    response_model=None,
    dependencies=[allow(READERS, "export teleconsults")],
    responses={
        200: {
            "description": "A FHIR R4 Encounter resource",
            "content": {FhirJSONResponse.media_type: {"schema": {"type": "object"}}},
        }
    },
)
async def encounter(
    incident_id: UUID, consult_id: UUID, services: ServicesDep, user: PrincipalDep
) -> FhirJSONResponse:
    """The teleconsult as a FHIR R4 Encounter (class VR, virtual): status planned,
    in-progress, finished or cancelled; the incident and the request by identifier."""
    incident, consult = await _consult(services, incident_id, consult_id)
    check_reader(user, incident, consult)
    shown = consult_for(user, incident, consult)
    action = "GET /incidents/{incident_id}/consults/{consult_id}/encounter"
    await record_incident_read(services, user, action, incident_id, incident.source)
    return FhirJSONResponse(consult_encounter(incident_for(user, incident), shown))


@router.get("/consults", dependencies=[allow(CONSULT_QUEUE, "read the teleconsult queue")])
async def open_consults(
    services: ServicesDep,
    user: PrincipalDep,
    consult_status: Annotated[ConsultStatus | None, Query(alias="status")] = None,
    specialty: SpecialtyIn | None = None,
) -> list[ConsultQueueItem]:
    """Open teleconsults (requested, in progress), oldest request first, with their incident;
    a specialist sees those in its specialties."""
    specialties: set[str] | None = set(user.specialties) if user.role is SPECIALIST else None
    if specialty is not None:
        wanted = {specialty.value}
        specialties = wanted if specialties is None else wanted & specialties
    statuses = None if consult_status is None else {consult_status}
    now = services.now()
    out = []
    shown: list[UUID] = []  # monitoring incidents whose patient data the answer carries
    for found in services.consults.listed(specialties, statuses):
        row = await services.board.get(found.incident_id)
        if row is not None and row.source == IncidentSource.MONITORING.value:
            shown.append(found.incident_id)
        consult = found.consult
        if redacts(user):
            incident = await _incident(services, found.incident_id)
            consult = consult_for(user, incident, consult)
        out.append(
            ConsultQueueItem(
                consult=consult_public(found.incident_id, consult),
                incident=None if row is None else board_row_for(user, board_public(row, now)),
            )
        )
    if shown and not redacts(user):
        await record_reads(services, user, "GET /consults", incidents=shown)
    return out
