"""Receiving hospitals (reference data): list, look up by id or code, register."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.auth import MANAGE, REFERENCE_READ, allow
from api.deps import ActorDep, HospitalIdDep, ReferenceDep, ServicesDep
from api.errors import ERRORS
from api.schemas import HospitalCreate, HospitalPublic
from api.views import hospital_public
from domain.errors import HospitalNotFound
from domain.values import Position
from projections.reference import place_of

router = APIRouter(prefix="/hospitals", tags=["reference"], responses=ERRORS)


@router.get("", dependencies=[allow(REFERENCE_READ, "read hospitals")])
async def list_hospitals(reference: ReferenceDep) -> list[HospitalPublic]:
    """Every hospital, by code."""
    return [hospital_public(p) for p in reference.list_hospitals()]


@router.get("/{hospital}", dependencies=[allow(REFERENCE_READ, "read hospitals")])
async def get_hospital(hospital_id: HospitalIdDep, reference: ReferenceDep) -> HospitalPublic:
    """One hospital, by id or code."""
    place = reference.hospitals.get(hospital_id)
    if place is None:
        raise HospitalNotFound(hospital_id)
    return hospital_public(place)


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
        place = place_of(await services.query(lambda: services.dispatch.get_hospital(hospital_id)))
    return hospital_public(place)
