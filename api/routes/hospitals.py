"""Receiving hospitals: list, look up by id or code, register, update their status."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from najda.api.auth import MANAGE, OPERATE, REFERENCE_READ, allow
from najda.api.deps import ActorDep, HospitalIdDep, ReferenceDep, ServicesDep
from najda.api.errors import ERRORS
from najda.api.schemas_care import HospitalStatusChange
from najda.api.schemas_reference import HospitalCreate, HospitalPublic
from najda.api.services import Services
from najda.api.views import hospital_public
from najda.domain.errors import HospitalNotFound
from najda.domain.values import Position
from najda.projections.dispatch.stations_hospitals import place_of, status_of

router = APIRouter(prefix="/hospitals", tags=["reference"], responses=ERRORS)


@router.get("", dependencies=[allow(REFERENCE_READ, "read hospitals")])
async def list_hospitals(reference: ReferenceDep) -> list[HospitalPublic]:
    """Every hospital, by code, with its status."""
    return [hospital_public(p, reference.hospital_status(p.id)) for p in reference.list_hospitals()]


@router.get("/{hospital}", dependencies=[allow(REFERENCE_READ, "read hospitals")])
async def get_hospital(hospital_id: HospitalIdDep, reference: ReferenceDep) -> HospitalPublic:
    """One hospital, by id or code."""
    place = reference.hospitals.get(hospital_id)
    if place is None:
        raise HospitalNotFound(hospital_id)
    return hospital_public(place, reference.hospital_status(hospital_id))


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[allow(MANAGE, "register hospitals")]
)
async def register_hospital(
    body: HospitalCreate, services: ServicesDep, actor: ActorDep, response: Response
) -> HospitalPublic:
    """Register a receiving hospital; its code is its natural key (409 when taken)."""
    location = Position(body.lat, body.lon)
    hospital_id = await services.command(
        lambda: services.dispatch.register_hospital(
            body.code, body.name, location, body.services, actor
        )
    )
    response.headers["Location"] = f"/hospitals/{hospital_id}"
    place = services.reference.hospitals.get(hospital_id)
    if place is None:  # the directory lags (read timeout): answer from the aggregate itself
        return await hospital_view(services, hospital_id)
    return hospital_public(place, services.reference.hospital_status(hospital_id))


@router.patch("/{hospital}/status", dependencies=[allow(OPERATE, "update hospital status")])
async def update_status(
    hospital_id: HospitalIdDep, body: HospitalStatusChange, services: ServicesDep, actor: ActorDep
) -> HospitalPublic:
    """Report the emergency department's status (normal, advisory, closed: give a reason),
    available beds by type (types not named keep their count) and services offered. Recorded
    as an event, pushed to consoles as a `hospital` message, used at once for destinations."""
    await services.command(
        lambda: services.dispatch.update_hospital_status(
            hospital_id,
            actor,
            ed_status=body.ed_status,
            beds=None if body.beds is None else {k.value: v for k, v in body.beds.items()},
            services=None if body.services is None else [s.value for s in body.services],
            reason=body.reason,
        )
    )
    return await hospital_view(services, hospital_id)


async def hospital_view(services: Services, hospital_id: UUID) -> HospitalPublic:
    """The hospital as its aggregate holds it: right after a write the directory may still
    lag (when the read timeout passed), the store never does."""
    hospital = await services.query(lambda: services.dispatch.get_hospital(hospital_id))
    return hospital_public(place_of(hospital), status_of(hospital))
