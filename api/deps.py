"""Request dependencies as Annotated aliases: services, read models, actor, path references."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, cast
from uuid import UUID

from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError

from najda.api.auth import ActorDep, PrincipalDep
from najda.api.input_limits import MAX_UNIT_REF
from najda.api.services import Services
from najda.domain.care.monitoring_use_cases import patient_ref
from najda.domain.dispatch.stations_hospitals import hospital_id_for, station_id_for
from najda.domain.dispatch.unit import unit_id_for
from najda.domain.values import MAX_CALL_SIGN, MAX_SHORT
from najda.projections.dispatch.board import IncidentBoard
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory

__all__ = ["ActorDep", "PrincipalDep"]


def get_services(request: Request) -> Services:
    """The services opened by the app's lifespan."""
    return cast(Services, request.app.state.services)


ServicesDep = Annotated[Services, Depends(get_services)]


def get_locator(services: ServicesDep) -> UnitLocator:
    """The unit locator read model."""
    return services.locator


def get_board(services: ServicesDep) -> IncidentBoard:
    """The incident board read model."""
    return services.board


def get_reference(services: ServicesDep) -> ReferenceDirectory:
    """The directory of stations and hospitals."""
    return services.reference


LocatorDep = Annotated[UnitLocator, Depends(get_locator)]
BoardDep = Annotated[IncidentBoard, Depends(get_board)]
ReferenceDep = Annotated[ReferenceDirectory, Depends(get_reference)]


def _bad_path(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("path", name), "msg": message, "type": "value_error"}])


def _id_or_key(text: str, max_key: int, name: str, what: str) -> UUID | str:
    cleaned = text.strip()
    try:
        return UUID(cleaned)
    except ValueError:
        pass
    if not cleaned or len(cleaned) > max_key:
        raise _bad_path(name, f"not a {what} id nor a {what} key of 1..{max_key} characters")
    return cleaned


def unit_path(
    unit: Annotated[str, Path(max_length=MAX_UNIT_REF, description="unit id or call sign")],
) -> UUID:
    """The unit id named in the path by id or call sign."""
    ref = _id_or_key(unit, MAX_CALL_SIGN, "unit", "unit")
    return ref if isinstance(ref, UUID) else unit_id_for(ref)


def station_path(
    station: Annotated[str, Path(max_length=MAX_SHORT, description="station id or code")],
) -> UUID:
    """The station id named in the path by id or code."""
    ref = _id_or_key(station, MAX_SHORT, "station", "station")
    return ref if isinstance(ref, UUID) else station_id_for(ref)


def hospital_path(
    hospital: Annotated[str, Path(max_length=MAX_SHORT, description="hospital id or code")],
) -> UUID:
    """The hospital id named in the path by id or code."""
    ref = _id_or_key(hospital, MAX_SHORT, "hospital", "hospital")
    return ref if isinstance(ref, UUID) else hospital_id_for(ref)


UnitIdDep = Annotated[UUID, Depends(unit_path)]
StationIdDep = Annotated[UUID, Depends(station_path)]
HospitalIdDep = Annotated[UUID, Depends(hospital_path)]


@lru_cache(maxsize=100_000)
def unit_ref_id(ref: str) -> UUID:
    """The unit id for a body reference (id or call sign, already length-checked)."""
    if len(ref) >= 32:
        try:
            return UUID(ref)
        except ValueError:
            pass
    return unit_id_for(ref)


def patient_path(
    patient: Annotated[str, Path(max_length=64, description="patient id or identifier")],
) -> UUID:
    """The patient id named in the path by id or identifier."""
    return patient_ref(patient)


PatientIdDep = Annotated[UUID, Depends(patient_path)]
