"""Request and response bodies for incidents: report, change, assign, and the views of an
incident, its recommendation and the board."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    Field,
)

from najda.api.schemas import (
    IsoTime,
    Lat,
    Lon,
    PriorityIn,
    UnitRef,
    _In,
    _optional_text,
    _text,
)
from najda.api.schemas_location import LocationFixIn, LocationFixPublic
from najda.domain.values import (
    MAX_ADDRESS,
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


class CoverageImpactPublic(BaseModel):
    """What sending a unit does to coverage within the most urgent priority's target."""

    text: str = Field(description="e.g. 'leaves Triesenberg with no unit within 8 min'")
    covered_before: float = Field(description="share of demand with a unit in time now")
    covered_after: float = Field(description="... once this unit has left")
    emptied: list[str] = Field(description="zones left with no unit within the target")
    reduced: list[str] = Field(description="zones left less covered")
    target_min: int


class CandidatePublic(BaseModel):
    """A unit proposed for an incident (with a coverage policy, its effect on coverage)."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: list[str]
    status: UnitStatus
    lat: float
    lon: float
    distance_m: float
    eta_s: float
    coverage: CoverageImpactPublic | None = None


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


class HoldPublic(BaseModel):
    """Why the dispatch policy would keep this lower-priority call waiting for now."""

    reason: str = Field(
        description="e.g. 'hold: dispatching now leaves Triesenberg uncovered within 8 min; "
        "re-evaluate when a unit frees'"
    )
    zones: list[str] = Field(description="zones dispatching now leaves uncovered (else thinner)")
    call_sign: str = Field(description="the unit the policy would send were it not held")
    unit: CoverageImpactPublic = Field(
        description="what sending the policy's own choice would do to coverage"
    )
    expected_after: float | None = Field(
        description="expected cover of demand (1 - q^k per point) once that unit has left"
    )
    floor: float | None = Field(description="the expected cover under which the policy holds")
    reserve: int | None = Field(
        default=None,
        description="held while this many ambulances or fewer are free (null: held on cover)",
    )
    until: datetime | None = Field(
        description="when the policy stops holding the call whatever the cover"
    )


class RecommendationPublic(BaseModel):
    """The response plan's requirements for an incident, nearest suitable units first; with
    a coverage policy that would keep a lower-priority call waiting, `state` is "hold" and
    `hold` says why (the proposed units stay on offer: a dispatcher may still send one)."""

    incident_id: UUID
    requirements: list[RequirementPublic]
    proposed: list[CandidatePublic]
    short: list[str] = Field(description="labels of the requirements no committed unit fills")
    policy: str = Field(description="the dispatch policy that chose the proposed units")
    state: Literal["dispatch", "hold"] = Field(
        default="dispatch", description="dispatch now, or hold (the policy would wait)"
    )
    hold: HoldPublic | None = None


class ChosenDestinationPublic(BaseModel):
    """The hospital a unit's crew chose to take its patient to."""

    unit_id: UUID
    call_sign: str
    code: str
    name: str
    by: str
    at: datetime


class IncidentPublic(BaseModel):
    """An incident with its assignments and notes: the one shape REST answers and the live
    feed sends (a feed message leaves `notes` out unless it carries them all; then
    `note_count` says how many there are)."""

    id: UUID
    open: bool = Field(description="neither closed nor cancelled")
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
    note_count: int
    short: list[str] = Field(
        default_factory=list,
        description="the response plan's requirements its active units leave unfilled",
    )
    finished: bool = Field(description="a unit finished its work here (cleared, not released)")
    destinations: dict[str, ChosenDestinationPublic] = Field(
        default_factory=dict, description="by unit id: where its crew takes the patient"
    )
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
