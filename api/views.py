"""Conversions from aggregates and read-model rows to the API's response bodies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from najda.api.schemas_incidents import (
    AssignmentPublic,
    BoardIncidentPublic,
    BoardUnitPublic,
    CandidatePublic,
    ChosenDestinationPublic,
    CoverageImpactPublic,
    FillingUnitPublic,
    HoldPublic,
    IncidentPublic,
    NotePublic,
    RecommendationPublic,
    RequirementPublic,
)
from najda.api.schemas_location import LocationFixPublic
from najda.api.schemas_reference import HospitalPublic, HospitalStatusPublic, StationPublic
from najda.api.schemas_units import UnitPublic
from najda.domain.dispatch.hospital_status import HospitalStatus
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.unit import Unit
from najda.domain.values import UnitStatus
from najda.projections.dispatch.locator import Candidate
from najda.projections.dispatch.read_model_changes import BoardRow, UnitRow
from najda.projections.dispatch.recommendations import Recommendation
from najda.projections.dispatch.stations_hospitals import Place
from najda.projections.policies.recommender import CoverageImpact, Hold


def age_s(since: datetime, now: datetime) -> float:
    """Seconds from `since` to `now`, never negative, to a tenth of a second."""
    return round(max(0.0, (now - since).total_seconds()), 1)


def incident_public(
    incident: Incident,
    now: datetime,
    unit_statuses: Mapping[UUID, UnitStatus] | None = None,
    recommendation: RecommendationPublic | None = None,
    short: list[str] | None = None,
    with_notes: bool = True,
) -> IncidentPublic:
    """An incident aggregate as REST and the live feed show it; `short`: the requirements
    its active units leave unfilled (short_of_incident); without notes (a live delta), only
    their count."""
    statuses = unit_statuses or {}
    history = incident.assignment_history
    fix = getattr(incident, "location_fix", None)
    return IncidentPublic(
        location_fix=None
        if fix is None
        else LocationFixPublic(
            typed=fix.typed,
            label=fix.label,
            precision=fix.precision,
            lat=fix.position.lat,
            lon=fix.position.lon,
        ),
        id=incident.id,
        open=incident.is_open,
        status=incident.status,
        priority=incident.priority,
        determinant=incident.determinant,
        nature=incident.nature,
        address=incident.address,
        lat=incident.location.lat,
        lon=incident.location.lon,
        source=incident.source,
        callback=incident.callback,
        call_received_at=incident.call_received_at,
        reported_at=incident.reported_at,
        reported_by=incident.reported_by,
        age_s=age_s(incident.call_received_at, incident.ended_at or now),
        ended_at=incident.ended_at,
        disposition=incident.disposition,
        assignments=[
            AssignmentPublic(
                unit_id=a.unit_id,
                call_sign=a.call_sign,
                kind=a.kind,
                active=a.active,
                unit_status=statuses.get(a.unit_id) if a.active else None,
                assigned_at=a.assigned_at,
                assigned_by=a.assigned_by,
                distance_m=a.distance_m,
                eta_s=a.eta_s,
                ended_at=a.ended_at,
                end_reason=a.end_reason,
            )
            for a in history
        ],
        notes=[NotePublic(text=n.text, actor=n.actor, at=n.at) for n in incident.notes]
        if with_notes
        else [],
        note_count=len(incident.notes),
        short=short or [],
        finished=any(a.end_reason == "cleared" for a in history),
        destinations={
            str(unit_id): ChosenDestinationPublic(
                unit_id=unit_id,
                call_sign=incident.assignments[unit_id].call_sign
                if unit_id in incident.assignments
                else "",
                code=d.code,
                name=d.name,
                by=d.chosen_by,
                at=d.chosen_at,
            )
            for unit_id, d in getattr(incident, "destinations", {}).items()
        },
        recommendation=recommendation,
        duplicate_of=getattr(incident, "duplicate_of", None),
    )


def board_public(
    row: BoardRow, now: datetime, short: list[str] | None = None
) -> BoardIncidentPublic:
    """A row of the incident board, with the requirements its units leave unfilled."""
    return BoardIncidentPublic(
        id=row.incident_id,
        priority=row.priority,
        determinant=row.determinant,
        nature=row.nature,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        source=row.source,
        status=row.status,
        call_received_at=row.call_received_at,
        updated_at=row.updated_at,
        age_s=age_s(row.call_received_at, now),
        units=[
            BoardUnitPublic(unit_id=u.unit_id, call_sign=u.call_sign, kind=u.kind, status=u.status)
            for u in row.units
        ],
        short=short or [],
    )


def _impact(impact: CoverageImpact) -> CoverageImpactPublic:
    return CoverageImpactPublic(
        text=impact.text,
        covered_before=impact.covered_before,
        covered_after=impact.covered_after,
        emptied=list(impact.emptied),
        reduced=list(impact.reduced),
        target_min=impact.target_min,
    )


def hold_public(hold: Hold) -> HoldPublic:
    """Why the policy would hold a call: the one shape the REST answer and the live feed use."""
    return HoldPublic(
        reason=hold.text,
        zones=list(hold.zones),
        call_sign=hold.unit.call_sign,
        unit=_impact(hold.unit),
        expected_after=None if hold.expected_after is None else round(hold.expected_after, 4),
        floor=None if hold.floor is None else round(hold.floor, 4),
        reserve=hold.reserve,
        until=hold.until,
    )


def _candidate(c: Candidate, impact: CoverageImpact | None = None) -> CandidatePublic:
    """A recommended unit (with its effect on coverage when the policy weighs it)."""
    coverage = None if impact is None else _impact(impact)
    return CandidatePublic(
        unit_id=c.unit_id,
        call_sign=c.call_sign,
        kind=c.kind,
        capabilities=list(c.capabilities),
        status=c.status,
        lat=c.lat,
        lon=c.lon,
        distance_m=c.distance_m,
        eta_s=c.eta_s,
        coverage=coverage,
    )


def recommendation_public(incident_id: UUID, rec: Recommendation) -> RecommendationPublic:
    """The recommendation for an incident, requirement by requirement."""

    def candidate_public(c: Candidate) -> CandidatePublic:
        return _candidate(c, rec.impacts.get(c.unit_id))

    return RecommendationPublic(
        incident_id=incident_id,
        requirements=[
            RequirementPublic(
                label=line.requirement.label,
                kinds=sorted(line.requirement.kinds, key=lambda k: k.value),
                count=line.requirement.count,
                capabilities=sorted(line.requirement.capabilities),
                state=line.state.value,
                filled=line.filled,
                needed=line.needed,
                filled_by=[
                    FillingUnitPublic(unit_id=u.unit_id, call_sign=u.call_sign, kind=u.kind)
                    for u in line.filled_by
                ],
                proposed=[candidate_public(c) for c in line.proposed],
                alternatives=[candidate_public(c) for c in line.alternatives],
                substitute=candidate_public(line.substitute) if line.substitute else None,
            )
            for line in rec.lines
        ],
        proposed=[candidate_public(c) for c in rec.proposed],
        short=rec.short,
        policy=rec.policy,
        state="dispatch" if rec.hold is None else "hold",
        hold=None if rec.hold is None else hold_public(rec.hold),
    )


def unit_row_public(row: UnitRow) -> UnitPublic:
    """A unit as the locator holds it (latest position included)."""
    return UnitPublic(
        id=row.unit_id,
        call_sign=row.call_sign,
        kind=row.kind,
        capabilities=list(row.capabilities),
        station_id=row.station_id,
        status=row.status,
        incident_id=row.incident_id,
        lat=row.lat,
        lon=row.lon,
        position_at=row.position_at,
        status_at=row.status_at,
    )


def unit_public(unit: Unit) -> UnitPublic:
    """A unit aggregate (used before the locator has caught up with it)."""
    return UnitPublic(
        id=unit.id,
        call_sign=unit.call_sign,
        kind=unit.kind,
        capabilities=list(unit.capabilities),
        station_id=unit.station_id,
        status=unit.status,
        incident_id=unit.incident_id,
        lat=unit.position.lat,
        lon=unit.position.lon,
        position_at=unit.position_at,
        status_at=unit.status_at,
    )


def station_public(place: Place) -> StationPublic:
    """A station."""
    return StationPublic(
        id=place.id,
        code=place.code,
        name=place.name,
        lat=place.lat,
        lon=place.lon,
        registered_at=place.registered_at,
    )


def hospital_public(place: Place, status: HospitalStatus) -> HospitalPublic:
    """A hospital with its status."""
    return HospitalPublic(
        id=place.id,
        code=place.code,
        name=place.name,
        lat=place.lat,
        lon=place.lon,
        registered_at=place.registered_at,
        services=list(place.services),
        status=HospitalStatusPublic(
            ed_status=status.ed_status,
            beds=dict(status.beds),
            reason=status.reason,
            updated_by=status.updated_by,
            updated_at=status.updated_at,
        ),
    )
