"""Request and response bodies of hospital status, destinations and teleconsults."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field

from api.schemas import HospitalStatusPublic, _In, _lower_token, _optional_text
from domain.hospital_status import MAX_BEDS, BedType, EdStatus, Service, service_of


def _service(value: object) -> object:
    """A service name or one of its aliases (pediatrics, psychiatric, pci, ...)."""
    if isinstance(value, str):
        found = service_of(value)
        return found.value if found is not None else value.strip().lower()
    return value


EdStatusIn = Annotated[EdStatus, BeforeValidator(_lower_token)]
BedTypeIn = Annotated[BedType, BeforeValidator(_lower_token)]
ServiceIn = Annotated[
    Service,
    BeforeValidator(_service),
    Field(description="a service (aliases: pediatrics, psychiatric, pci, obstetrics)"),
]
BedCount = Annotated[int, Field(strict=True, ge=0, le=MAX_BEDS)]


# --- hospital status ----------------------------------------------------------------------


class HospitalStatusChange(_In):
    """Any of: the emergency department's status, available beds by type (types not named
    keep their count), the services offered; a reason is needed for advisory or closed."""

    ed_status: EdStatusIn | None = None
    beds: Annotated[dict[BedTypeIn, BedCount], Field(max_length=len(BedType))] | None = None
    services: Annotated[list[ServiceIn], Field(max_length=len(Service))] | None = None
    reason: Annotated[str, _optional_text(500)] = ""


# --- destinations -------------------------------------------------------------------------


class DestinationPublic(BaseModel):
    """A hospital offered to a crew: its status and the travel to it."""

    hospital_id: UUID
    code: str
    name: str
    lat: float
    lon: float
    services: list[str]
    status: HospitalStatusPublic
    advisory: bool = Field(description="the ED asks crews to go elsewhere if they can")
    beds: int | None = Field(description="available beds of the type the need calls for")
    distance_m: float
    eta_s: float


class ExcludedPublic(BaseModel):
    """A hospital not offered, and why (closed, no such service, no beds ...)."""

    hospital_id: UUID
    code: str
    name: str
    why: str


class DestinationsPublic(BaseModel):
    """Hospitals for the unit's patient, best first: normal before advisory, then by ETA."""

    unit_id: UUID
    call_sign: str
    lat: float
    lon: float
    incident_id: UUID | None
    service: Service | None = Field(description="the need ranked for (None: any ED)")
    service_from: str = Field(description="'query', 'incident' (its nature) or 'none'")
    destinations: list[DestinationPublic]
    excluded: list[ExcludedPublic]
    ranked_at: datetime
