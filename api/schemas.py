"""Request and response bodies of the HTTP API (separate from the domain's events)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from api.schemas_location import LocationFixIn, LocationFixPublic
from domain.consult import Specialty, specialty_of
from domain.errors import InvalidValue
from domain.hospital_status import EdStatus
from domain.user import Role
from domain.values import (
    MAX_ADDRESS,
    MAX_CALL_SIGN,
    MAX_NAME,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHORT,
    IncidentSource,
    IncidentStatus,
    Priority,
    UnitKind,
    UnitStatus,
)

# --- field types ------------------------------------------------------------------------

Lat = Annotated[
    float,
    Field(strict=True, ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude, degrees"),
]
Lon = Annotated[
    float,
    Field(
        strict=True, ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude, degrees"
    ),
]


def _text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


def _optional_text(max_length: int) -> Any:
    return StringConstraints(strip_whitespace=True, max_length=max_length)


def _priority(value: object) -> object:
    if isinstance(value, str):
        try:
            return Priority.parse(value)
        except InvalidValue as exc:
            raise PydanticCustomError("enum", exc.message) from None
    return value


def _iso_text(value: object) -> object:
    """Times are ISO 8601 text with an offset; numbers (Unix times) are refused."""
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise PydanticCustomError("iso_time", "give an ISO 8601 time with a UTC offset")
    if not isinstance(value, (str, datetime)):
        raise PydanticCustomError("iso_time", "give an ISO 8601 time with a UTC offset")
    return value


IsoTime = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


def _lower_token(value: object) -> object:
    if isinstance(value, str):
        return value.strip().lower().replace("-", "_").replace(" ", "_")
    return value


PriorityIn = Annotated[
    Priority,
    BeforeValidator(_priority),
    Field(description="E (most urgent), D, C, B, A or Ω (also 'OMEGA')"),
]
KindIn = Annotated[UnitKind, BeforeValidator(_lower_token)]
StatusIn = Annotated[UnitStatus, BeforeValidator(_lower_token)]
Capability = Annotated[str, _text(MAX_SHORT)]
UnitRef = Annotated[str, _text(36), Field(description="a unit id or call sign")]


#: C0/C1 control characters other than tab, newline and carriage return (NUL included:
#: PostgreSQL text cannot hold it, so one would stall a PostGIS read model for good).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _In(BaseModel):
    """Request bodies reject unknown fields and control characters in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        for text in value if isinstance(value, list) else (value,):
            if isinstance(text, str) and _CONTROL.search(text):
                raise PydanticCustomError(
                    "string_control_characters", "must not contain control characters"
                )
        return value


# --- incidents --------------------------------------------------------------------------


class IncidentCreate(_In):
    """A call to open an incident for."""

    lat: Lat
    lon: Lon
    nature: Annotated[str, _text(MAX_NAME), Field(description="chief complaint")]
    priority: PriorityIn
    address: Annotated[str, _optional_text(MAX_ADDRESS)] = ""
    determinant: Annotated[str, _optional_text(MAX_SHORT)] = ""
    callback: Annotated[str, _optional_text(MAX_SHORT)] | None = None
    source: IncidentSource = IncidentSource.PHONE
    call_received_at: IsoTime | None = None
    location_fix: LocationFixIn | None = Field(
        None, description="how the location was found (typed text, chosen label, precision)"
    )


class NoteCreate(_In):
    """A note to append to an incident."""

    text: Annotated[str, _text(MAX_NOTE)]


class PriorityChange(_In):
    """A re-triage."""

    priority: PriorityIn
    determinant: Annotated[str, _optional_text(MAX_SHORT)] = ""


class LocationCorrection(_In):
    """A corrected incident location."""

    lat: Lat
    lon: Lon
    address: Annotated[str, _optional_text(MAX_ADDRESS)] = ""


class IncidentClose(_In):
    """How the incident ended."""

    disposition: Annotated[str, _text(MAX_REASON)]


class IncidentCancel(_In):
    """Why the incident is cancelled."""

    reason: Annotated[str, _text(MAX_REASON)]


class AssignmentCreate(_In):
    """Units to dispatch to an incident, by id or call sign."""

    units: Annotated[list[UnitRef], Field(min_length=1, max_length=20)]


class UnitReassign(_In):
    """Take a committed unit from the incident it works now and dispatch it here."""

    unit: UnitRef
    from_incident_id: UUID = Field(
        description="the incident the dispatcher saw the unit on (409 if it moved meanwhile)"
    )
    reason: Annotated[str, _optional_text(MAX_REASON)] = ""


class UnitRelease(_In):
    """Why a unit is taken off an incident."""

    reason: Annotated[str, _text(MAX_REASON)]


class NotePublic(BaseModel):
    """A note on an incident."""

    text: str
    actor: str
    at: datetime


class AssignmentPublic(BaseModel):
    """A unit's assignment to an incident, with the distance and ETA when assigned."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    active: bool
    unit_status: UnitStatus | None
    assigned_at: datetime
    assigned_by: str
    distance_m: float | None
    eta_s: float | None
    ended_at: datetime | None
    end_reason: str | None


class CandidatePublic(BaseModel):
    """A unit proposed for an incident."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: list[str]
    status: UnitStatus
    lat: float
    lon: float
    distance_m: float
    eta_s: float


class FillingUnitPublic(BaseModel):
    """A unit committed to the incident that fills a requirement."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind


class RequirementPublic(BaseModel):
    """One requirement of the response plan: filled (by which units), proposed (the best
    units, ranked) or unavailable (with the nearest substitute of another kind)."""

    label: str
    kinds: list[UnitKind]
    count: int
    capabilities: list[str]
    state: Literal["filled", "proposed", "unavailable"]
    filled: bool = Field(description="committed units fill the requirement")
    needed: int = Field(description="how many more units it needs")
    filled_by: list[FillingUnitPublic]
    proposed: list[CandidatePublic]
    alternatives: list[CandidatePublic]
    substitute: CandidatePublic | None = Field(
        description="when unavailable: the nearest available unit of another kind"
    )


class DuplicatePublic(BaseModel):
    """An open incident that may be the same emergency as the one asked about."""

    id: UUID
    priority: Priority
    nature: str
    address: str
    call_received_at: datetime
    distance_m: float
    units: list[str]


class TargetsPublic(BaseModel):
    """One priority's time targets, in seconds."""

    call_to_dispatch_s: float = Field(description="call received → first unit dispatched")
    turnout_s: float = Field(description="unit dispatched → en route")
    on_scene_s: float = Field(description="call received → a unit on scene")
    at_hospital_s: float = Field(description="handover time at hospital")


class FloorSettingsPublic(BaseModel):
    """Per-priority targets and the priorities of new calls that sound the console's alarm."""

    targets: dict[str, TargetsPublic]
    alarm_priorities: list[str]


class UnitOptionPublic(BaseModel):
    """Any unit, chosen by call sign, for an incident: its distance, ETA and commitment."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    status: UnitStatus
    incident_id: UUID | None = Field(description="the incident it works now, if any")
    distance_m: float
    eta_s: float | None = Field(description="as ranked (by road with a network; null: unreachable)")


class RecommendationPublic(BaseModel):
    """The response plan's requirements for an incident, nearest suitable units first."""

    incident_id: UUID
    requirements: list[RequirementPublic]
    proposed: list[CandidatePublic]
    short: list[str] = Field(description="labels of the requirements no committed unit fills")


class IncidentPublic(BaseModel):
    """An incident with its assignments and notes."""

    id: UUID
    status: IncidentStatus
    priority: Priority
    determinant: str
    nature: str
    address: str
    lat: float
    lon: float
    source: IncidentSource
    callback: str | None
    call_received_at: datetime
    reported_at: datetime
    reported_by: str
    age_s: float
    ended_at: datetime | None
    disposition: str | None
    assignments: list[AssignmentPublic]
    notes: list[NotePublic]
    recommendation: RecommendationPublic | None = None
    location_fix: LocationFixPublic | None = None
    duplicate_of: UUID | None = Field(
        default=None, description="the incident this call was linked to as a duplicate"
    )


class BoardUnitPublic(BaseModel):
    """A unit working an open incident."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    status: UnitStatus


class BoardIncidentPublic(BaseModel):
    """An open incident on the board."""

    id: UUID
    priority: Priority
    determinant: str
    nature: str
    address: str
    lat: float
    lon: float
    source: str
    status: str
    call_received_at: datetime
    updated_at: datetime
    age_s: float
    units: list[BoardUnitPublic]
    short: list[str] = Field(
        default_factory=list,
        description="the response plan's requirements its units leave unfilled (all while pending)",
    )


class IncidentSummaryPublic(BoardIncidentPublic):
    """An incident in a list: a board row, and once ended its end; every unit it ever had."""

    ended_at: datetime | None = None
    disposition: str | None = None
    call_signs: list[str] = Field(
        default_factory=list, description="every unit ever assigned (history searches)"
    )


# --- units ------------------------------------------------------------------------------


class UnitCreate(_In):
    """A unit to put on the roster, based at a station or at a home position."""

    call_sign: Annotated[str, _text(MAX_CALL_SIGN)]
    kind: KindIn
    capabilities: Annotated[list[Capability], Field(max_length=20)] = []
    station: Annotated[str, _text(MAX_SHORT)] | None = Field(
        default=None, description="station id or code"
    )
    lat: Lat | None = None
    lon: Lon | None = None


class UnitStatusChange(_In):
    """A status reported by a crew or dispatcher."""

    status: StatusIn
    reason: Annotated[str, _optional_text(MAX_REASON)] = ""
    command_id: Annotated[str | None, Field(min_length=1, max_length=100)] = Field(
        default=None,
        description="the client's id for this press: a replay with the same content answers "
        "the first result, with other content 409 (nothing done)",
    )
    incident_id: UUID | None = Field(
        default=None, description="the incident the step is for: 409 if the unit works another"
    )


class PositionReport(_In):
    """A vehicle position (AVL)."""

    lat: Lat
    lon: Lon
    at: IsoTime | None = Field(default=None, description="when measured (default: now)")


class UnitPublic(BaseModel):
    """A unit with its status and latest position."""

    id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: list[str]
    station_id: UUID | None
    status: UnitStatus
    incident_id: UUID | None
    lat: float
    lon: float
    position_at: datetime
    status_at: datetime


class UnitPosition(PositionReport):
    """One unit's position in a batch."""

    unit: UnitRef


class PositionBatch(_In):
    """Positions of many units (an AVL gateway), up to 1000 per request."""

    positions: Annotated[list[UnitPosition], Field(min_length=1, max_length=1000)]


class PositionsAccepted(BaseModel):
    """How many positions were taken, and how many are being recorded as events."""

    accepted: int
    to_record: int


class Acknowledged(BaseModel):
    """The unit after its crew acknowledged; `first` when this was the first time."""

    first: bool
    unit: UnitPublic


class PositionAccepted(BaseModel):
    """The unit after a position report; `recorded` when it became an event."""

    recorded: bool
    unit: UnitPublic


# --- reference data ---------------------------------------------------------------------


class StationCreate(_In):
    """A station to register."""

    code: Annotated[str, _text(MAX_SHORT)]
    name: Annotated[str, _text(MAX_NAME)]
    lat: Lat
    lon: Lon


class StationPublic(BaseModel):
    """A station."""

    id: UUID
    code: str
    name: str
    lat: float
    lon: float
    registered_at: datetime


class HospitalCreate(StationCreate):
    """A receiving hospital to register."""

    services: Annotated[list[Capability], Field(max_length=40)] = []


class HospitalStatusPublic(BaseModel):
    """A hospital's last reported status (normal, no bed counts, until one is reported)."""

    ed_status: EdStatus = Field(description="emergency department: normal, advisory or closed")
    beds: dict[str, int] = Field(description="available beds by type, as last reported")
    reason: str
    updated_by: str | None
    updated_at: datetime | None


class HospitalPublic(StationPublic):
    """A receiving hospital."""

    services: list[str]
    status: HospitalStatusPublic


class HealthPublic(BaseModel):
    """Liveness and how far the read models have caught up."""

    status: str
    store: str
    head: int
    positions: dict[str, int]
    runner_error: str | None
    failures: dict[str, str] = Field(
        default_factory=dict, description="Read models stuck on an event, with the error"
    )


class AssignmentView(BaseModel):
    """A unit and the incident it works now (None when it has none)."""

    unit: UnitPublic
    incident: IncidentPublic | None


RoleIn = Annotated[Role, BeforeValidator(_lower_token)]


def _specialty(value: object) -> object:
    """A specialty or one of its aliases (pediatrics, psychiatric, cardiac, icu, ...)."""
    if isinstance(value, str):
        found = specialty_of(value)
        return found.value if found is not None else value
    return value


SpecialtyIn = Annotated[
    Specialty,
    BeforeValidator(_specialty),
    Field(description="a teleconsult specialty (cardiology, stroke, paediatrics, ...)"),
]


class UserCreate(_In):
    """A user to add: a name, a role and, for a crew, its unit (id or call sign); for a
    specialist, its specialties."""

    name: Annotated[str, _text(64)]
    role: RoleIn
    unit: UnitRef | None = None
    specialties: Annotated[list[SpecialtyIn], Field(max_length=len(Specialty))] = []


class UserPublic(BaseModel):
    """A user (tokens are never shown again)."""

    name: str
    role: Role
    unit_id: UUID | None
    specialties: list[str] = []
    clinical: bool = Field(
        default=False, description="an auditor granted clinical access: patient data unredacted"
    )


class ClinicalAccess(BaseModel):
    """Grant an auditor clinical access (patient data unredacted), or withdraw it."""

    granted: bool


class UserToken(UserPublic):
    """A user with the token just made for it (shown once) and when it stops working."""

    token: str
    expires_at: datetime | None = None
