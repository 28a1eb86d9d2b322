"""Request and response bodies of hospital status, destinations and teleconsults."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, Field

from najda.api.schemas import _In, _lower_token, _optional_text, _text
from najda.api.schemas_incidents import BoardIncidentPublic, IncidentPublic
from najda.api.schemas_reference import HospitalStatusPublic
from najda.api.schemas_users import SpecialtyIn
from najda.domain.care.consult import ConsultStatus, Specialty
from najda.domain.dispatch.hospital_status import MAX_BEDS, BedType, EdStatus, Service, service_of
from najda.domain.persistence.client_command import MAX_COMMAND_ID
from najda.domain.values import MAX_NOTE, MAX_REASON, MAX_REMARK, MAX_SHORT


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
    reason: Annotated[str, _optional_text(MAX_REASON)] = ""


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


# --- teleconsults ---------------------------------------------------------------------------


class DestinationChoice(_In):
    """The hospital a crew takes its patient to."""

    hospital: Annotated[str, Field(min_length=1, max_length=MAX_SHORT, description="hospital code")]
    command_id: Annotated[str | None, Field(min_length=1, max_length=MAX_COMMAND_ID)] = Field(
        default=None, description="the client's id for this choice: a replay answers the first"
    )


class DestinationChosen(BaseModel):
    """The destination recorded (`replayed`: answered from the first time this id came)."""

    destination: str
    name: str
    replayed: bool = False


class ConsultCreate(_In):
    """A teleconsult to request on an incident: the specialty and why."""

    specialty: SpecialtyIn
    reason: Annotated[str, _text(MAX_REMARK), Field(description="what the specialist is asked")]


class ConsultReason(_In):
    """Why a request is declined or cancelled."""

    reason: Annotated[str, _text(MAX_REMARK)]


class ConsultEnd(_In):
    """The specialist's recommendation, which ends the consult."""

    recommendation: Annotated[str, _text(MAX_NOTE)]


class ConsultPublic(BaseModel):
    """A teleconsult: requested, in progress (accepted), ended, declined or cancelled."""

    id: UUID
    incident_id: UUID
    specialty: Specialty
    status: ConsultStatus
    reason: str
    requested_by: str
    requested_at: datetime
    unit_id: UUID | None = Field(description="the crew's unit that asked, when a crew asked")
    specialist: str | None = Field(description="who accepted it")
    started_at: datetime | None
    ended_at: datetime | None
    recommendation: str
    closed_by: str | None = Field(description="who ended, declined or cancelled it")
    closing_reason: str = Field(description="why it was declined or cancelled")
    updated_at: datetime


class ConsultDetail(BaseModel):
    """A teleconsult and the incident it is on."""

    consult: ConsultPublic
    incident: IncidentPublic


class ConsultQueueItem(BaseModel):
    """An open teleconsult with what a specialist needs to decide on it."""

    consult: ConsultPublic
    incident: BoardIncidentPublic | None = Field(
        description="the incident while it is open (None once closed)"
    )
