"""The Incident aggregate: one emergency call and everything done about it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from najda.domain.care import consult as consults
from najda.domain.care.consult import Consult, ConsultNotFound, ConsultStatus, Specialty
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.errors import IncidentHasActiveUnits, IncidentNotOpen, UnitNotOnIncident
from najda.domain.values import IncidentSource, IncidentStatus, Position, Priority, UnitKind


@dataclass(frozen=True)
class Note:
    """A free-text note on an incident."""

    text: str
    actor: str
    at: datetime


@dataclass(frozen=True)
class Assignment:
    """One unit's assignment to the incident; inactive once released or cleared."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    assigned_at: datetime
    assigned_by: str
    distance_m: float | None
    eta_s: float | None
    active: bool = True
    ended_at: datetime | None = None
    end_reason: str | None = None


@dataclass(frozen=True)
class Destination:
    """The hospital a unit's crew takes the patient to."""

    hospital_id: UUID
    code: str
    name: str
    chosen_by: str
    chosen_at: datetime


class Incident(Aggregate):
    """An emergency incident: reported, assigned units, notes, then closed or cancelled."""

    TOPIC = "najda:Incident"

    class Created(Aggregate.Created):
        """Base of the incident's creation event (never stored itself)."""

        TOPIC = "najda:Incident.Created"

    @event("Reported", topic="najda:Incident.Reported")
    def __init__(
        self,
        *,
        id: UUID,
        call_received_at: datetime,
        location: Position,
        address: str,
        nature: str,
        priority: Priority,
        determinant: str,
        callback: str | None,
        source: IncidentSource,
        actor: str,
        at: datetime,
        location_fix: LocationFix | None = None,  # eventsourcing 9.5 asks for it when
        # constructing (keyword-only defaults are not applied), not when replaying old events
    ) -> None:
        self.call_received_at = call_received_at
        self.location_fix = location_fix  # absent from events stored before it existed
        self.location = location
        self.address = address
        self.nature = nature
        self.priority = Priority(priority)
        self.determinant = determinant
        self.callback = callback
        self.source = IncidentSource(source)
        self.reported_by = actor
        self.reported_at = at
        self.status = IncidentStatus.PENDING
        self.notes: list[Note] = []
        self.assignments: dict[UUID, Assignment] = {}
        self.past_assignments: list[Assignment] = []
        self.ended_at: datetime | None = None
        self.disposition: str | None = None
        self.consults: dict[UUID, Consult] = {}
        self.destinations: dict[UUID, Destination] = {}  # unit id -> where it takes the patient
        self.last_actor = actor
        self.last_at = at
        self.duplicate_of: UUID | None = None  # the incident this call was linked to
        self.dismissed_duplicates: list[UUID] = []  # incidents ruled out as the same call

    # --- queries -------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True until the incident is closed or cancelled."""
        return self.status.is_open

    @property
    def assignment_history(self) -> list[Assignment]:
        """Every assignment ever made here, earlier ones of a re-assigned unit included."""
        return sorted(
            [*self.past_assignments, *self.assignments.values()], key=lambda a: a.assigned_at
        )

    @property
    def active_unit_ids(self) -> list[UUID]:
        """Units assigned and not yet released or cleared, in assignment order."""
        return [a.unit_id for a in self.assignments.values() if a.active]

    def require_open(self) -> None:
        """Raise IncidentNotOpen unless the incident is pending or dispatched."""
        if not self.is_open:
            raise IncidentNotOpen(self.id, self.status.value)

    def require_active_unit(self, unit_id: UUID, call_sign: str) -> None:
        """Raise UnitNotOnIncident unless the unit is actively assigned here."""
        assignment = self.assignments.get(unit_id)
        if assignment is None or not assignment.active:
            raise UnitNotOnIncident(call_sign, self.id)

    # --- commands (validate, then trigger an event) ---------------------------------------

    def change_priority(
        self, priority: Priority, determinant: str, actor: str, at: datetime
    ) -> None:
        """Re-triage the incident."""
        self.require_open()
        self._priority_changed(priority=priority, determinant=determinant, actor=actor, at=at)

    def correct_location(self, location: Position, address: str, actor: str, at: datetime) -> None:
        """Move the incident to a corrected location."""
        self.require_open()
        self._location_corrected(location=location, address=address, actor=actor, at=at)

    def add_note(self, text: str, actor: str, at: datetime) -> None:
        """Append a note (allowed on closed incidents too, for late information)."""
        self._note_added(text=text, actor=actor, at=at)

    def assign_unit(
        self,
        unit_id: UUID,
        call_sign: str,
        kind: UnitKind,
        distance_m: float | None,
        eta_s: float | None,
        actor: str,
        at: datetime,
    ) -> None:
        """Record that a unit was dispatched to this incident."""
        self.require_open()
        self._unit_assigned(
            unit_id=unit_id,
            call_sign=call_sign,
            kind=kind,
            distance_m=distance_m,
            eta_s=eta_s,
            actor=actor,
            at=at,
        )

    def release_unit(
        self, unit_id: UUID, call_sign: str, reason: str, actor: str, at: datetime
    ) -> None:
        """Record that a unit was taken off this incident before finishing."""
        self.require_active_unit(unit_id, call_sign)
        self._unit_released(unit_id=unit_id, reason=reason, actor=actor, at=at)

    def clear_unit(self, unit_id: UUID, call_sign: str, actor: str, at: datetime) -> None:
        """Record that a unit finished its work on this incident and is back in service."""
        self.require_active_unit(unit_id, call_sign)
        self._unit_cleared(unit_id=unit_id, actor=actor, at=at)

    def choose_destination(
        self,
        unit_id: UUID,
        call_sign: str,
        hospital_id: UUID,
        code: str,
        name: str,
        actor: str,
        at: datetime,
    ) -> bool:
        """Record the hospital a unit working the incident takes its patient to; False (and
        nothing recorded) when that is already its destination."""
        self.require_open()
        self.require_active_unit(unit_id, call_sign)
        current = self.destinations.get(unit_id)
        if current is not None and current.hospital_id == hospital_id:
            return False
        self._destination_chosen(
            unit_id=unit_id,
            call_sign=call_sign,
            hospital_id=hospital_id,
            code=code,
            name=name,
            actor=actor,
            at=at,
        )
        return True

    def close(self, disposition: str, actor: str, at: datetime) -> None:
        """Close the incident once every unit has cleared (teleconsult requests nobody
        accepted are cancelled with it)."""
        self.require_open()
        active = [a.call_sign for a in self.assignments.values() if a.active]
        if active:
            raise IncidentHasActiveUnits(self.id, active)
        self._withdraw_requests("incident closed", actor, at)
        self._closed(disposition=disposition, actor=actor, at=at)

    def cancel(self, reason: str, actor: str, at: datetime) -> None:
        """Cancel the incident; the caller releases its active units in the same save."""
        self.require_open()
        self._withdraw_requests("incident cancelled", actor, at)
        self._cancelled(reason=reason, actor=actor, at=at)

    def link_duplicate(self, original_id: UUID, actor: str, at: datetime) -> None:
        """Record that this call reports the same emergency as `original_id`."""
        self.require_open()
        self._duplicate_linked(original_id=original_id, actor=actor, at=at)

    def dismiss_duplicate(self, candidate_id: UUID, actor: str, at: datetime) -> None:
        """Record that `candidate_id` was offered as a possible duplicate and ruled out."""
        self._duplicate_dismissed(candidate_id=candidate_id, actor=actor, at=at)

    # --- teleconsults (rules in domain/care/consult.py) ----------------------------------------

    def consult(self, consult_id: UUID) -> Consult:
        """One teleconsult of this incident, or ConsultNotFound."""
        found = self.consults.get(consult_id)
        if found is None:
            raise ConsultNotFound(consult_id)
        return found

    def request_consult(
        self,
        consult_id: UUID,
        specialty: Specialty,
        reason: str,
        unit_id: UUID | None,
        actor: str,
        at: datetime,
    ) -> None:
        """Ask for a specialist on this open incident (a crew: only while its unit works it)."""
        self.require_open()
        if unit_id is not None:
            assignment = self.assignments.get(unit_id)
            self.require_active_unit(unit_id, assignment.call_sign if assignment else str(unit_id))
        self._consult_requested(
            consult_id=consult_id,
            specialty=specialty,
            reason=reason,
            unit_id=unit_id,
            actor=actor,
            at=at,
        )

    def accept_consult(self, consult_id: UUID, actor: str, at: datetime) -> None:
        """A specialist joins by teleconsult: the consult starts."""
        found = self.consult(consult_id)
        found.require(ConsultStatus.REQUESTED, ConsultStatus.IN_PROGRESS)
        self.require_open()
        self._consult_accepted(consult_id=consult_id, specialty=found.specialty, actor=actor, at=at)

    def end_consult(self, consult_id: UUID, recommendation: str, actor: str, at: datetime) -> None:
        """The consult ends with the specialist's recommendation (allowed after the incident
        closed: the recommendation is late information, like a note)."""
        found = self.consult(consult_id)
        found.require(ConsultStatus.IN_PROGRESS, ConsultStatus.ENDED)
        self._consult_ended(
            consult_id=consult_id,
            specialty=found.specialty,
            recommendation=recommendation,
            actor=actor,
            at=at,
        )

    def decline_consult(self, consult_id: UUID, reason: str, actor: str, at: datetime) -> None:
        """A specialist declines a request nobody has accepted."""
        found = self.consult(consult_id)
        found.require(ConsultStatus.REQUESTED, ConsultStatus.DECLINED)
        self._consult_declined(
            consult_id=consult_id, specialty=found.specialty, reason=reason, actor=actor, at=at
        )

    def cancel_consult(self, consult_id: UUID, reason: str, actor: str, at: datetime) -> None:
        """Whoever asked withdraws a request nobody has accepted."""
        found = self.consult(consult_id)
        found.require(ConsultStatus.REQUESTED, ConsultStatus.CANCELLED)
        self._consult_cancelled(
            consult_id=consult_id, specialty=found.specialty, reason=reason, actor=actor, at=at
        )

    def _withdraw_requests(self, reason: str, actor: str, at: datetime) -> None:
        for found in list(self.consults.values()):
            if found.status is ConsultStatus.REQUESTED:
                self.cancel_consult(found.consult_id, reason, actor, at)

    # --- events (assign values only; they run again on every replay) ---------------------

    def _touch(self, actor: str, at: datetime) -> None:
        self.last_actor = actor
        self.last_at = at

    @event("PriorityChanged", topic="najda:Incident.PriorityChanged")
    def _priority_changed(
        self, priority: Priority, determinant: str, actor: str, at: datetime
    ) -> None:
        self.priority = Priority(priority)
        self.determinant = determinant
        self._touch(actor, at)

    @event("LocationCorrected", topic="najda:Incident.LocationCorrected")
    def _location_corrected(
        self, location: Position, address: str, actor: str, at: datetime
    ) -> None:
        self.location = location
        self.address = address
        self._touch(actor, at)

    @event("NoteAdded", topic="najda:Incident.NoteAdded")
    def _note_added(self, text: str, actor: str, at: datetime) -> None:
        self.notes.append(Note(text=text, actor=actor, at=at))
        self._touch(actor, at)

    @event("UnitAssigned", topic="najda:Incident.UnitAssigned")
    def _unit_assigned(
        self,
        unit_id: UUID,
        call_sign: str,
        kind: UnitKind,
        distance_m: float | None,
        eta_s: float | None,
        actor: str,
        at: datetime,
    ) -> None:
        previous = self.assignments.get(unit_id)
        if previous is not None:
            self.past_assignments.append(previous)
        self.assignments[unit_id] = Assignment(
            unit_id=unit_id,
            call_sign=call_sign,
            kind=UnitKind(kind),
            assigned_at=at,
            assigned_by=actor,
            distance_m=distance_m,
            eta_s=eta_s,
        )
        self.status = IncidentStatus.DISPATCHED
        self._touch(actor, at)

    @event("UnitReleased", topic="najda:Incident.UnitReleased")
    def _unit_released(self, unit_id: UUID, reason: str, actor: str, at: datetime) -> None:
        self._end_assignment(unit_id, at, reason)
        self._touch(actor, at)

    @event("UnitCleared", topic="najda:Incident.UnitCleared")
    def _unit_cleared(self, unit_id: UUID, actor: str, at: datetime) -> None:
        self._end_assignment(unit_id, at, "cleared")
        self._touch(actor, at)

    def _end_assignment(self, unit_id: UUID, at: datetime, reason: str) -> None:
        current = self.assignments[unit_id]
        self.assignments[unit_id] = replace(current, active=False, ended_at=at, end_reason=reason)

    @event("DestinationChosen", topic="najda:Incident.DestinationChosen")
    def _destination_chosen(
        self,
        unit_id: UUID,
        call_sign: str,
        hospital_id: UUID,
        code: str,
        name: str,
        actor: str,
        at: datetime,
    ) -> None:
        self.destinations[unit_id] = Destination(hospital_id, code, name, actor, at)

    @event("DuplicateLinked", topic="najda:Incident.DuplicateLinked")
    def _duplicate_linked(self, original_id: UUID, actor: str, at: datetime) -> None:
        self.duplicate_of = original_id
        self._touch(actor, at)

    @event("DuplicateDismissed", topic="najda:Incident.DuplicateDismissed")
    def _duplicate_dismissed(self, candidate_id: UUID, actor: str, at: datetime) -> None:
        self.dismissed_duplicates.append(candidate_id)
        self._touch(actor, at)

    @event("Closed", topic="najda:Incident.Closed")
    def _closed(self, disposition: str, actor: str, at: datetime) -> None:
        self.status = IncidentStatus.CLOSED
        self.disposition = disposition
        self.ended_at = at
        self._touch(actor, at)

    @event("Cancelled", topic="najda:Incident.Cancelled")
    def _cancelled(self, reason: str, actor: str, at: datetime) -> None:
        self.status = IncidentStatus.CANCELLED
        self.disposition = reason
        self.ended_at = at
        self._touch(actor, at)

    @event("ConsultRequested", topic="najda:Incident.ConsultRequested")
    def _consult_requested(
        self,
        consult_id: UUID,
        specialty: Specialty,
        reason: str,
        unit_id: UUID | None,
        actor: str,
        at: datetime,
    ) -> None:
        self.consults[consult_id] = consults.requested(
            consult_id, specialty, reason, unit_id, actor, at
        )
        self._touch(actor, at)

    @event("ConsultAccepted", topic="najda:Incident.ConsultAccepted")
    def _consult_accepted(
        self, consult_id: UUID, specialty: Specialty, actor: str, at: datetime
    ) -> None:
        self.consults[consult_id] = consults.accepted(self.consults[consult_id], actor, at)
        self._touch(actor, at)

    @event("ConsultEnded", topic="najda:Incident.ConsultEnded")
    def _consult_ended(
        self, consult_id: UUID, specialty: Specialty, recommendation: str, actor: str, at: datetime
    ) -> None:
        current = self.consults[consult_id]
        self.consults[consult_id] = consults.ended(current, recommendation, actor, at)
        self._touch(actor, at)

    @event("ConsultDeclined", topic="najda:Incident.ConsultDeclined")
    def _consult_declined(
        self, consult_id: UUID, specialty: Specialty, reason: str, actor: str, at: datetime
    ) -> None:
        self._withdrawn(consult_id, ConsultStatus.DECLINED, reason, actor, at)

    @event("ConsultCancelled", topic="najda:Incident.ConsultCancelled")
    def _consult_cancelled(
        self, consult_id: UUID, specialty: Specialty, reason: str, actor: str, at: datetime
    ) -> None:
        self._withdrawn(consult_id, ConsultStatus.CANCELLED, reason, actor, at)

    def _withdrawn(
        self, consult_id: UUID, status: ConsultStatus, reason: str, actor: str, at: datetime
    ) -> None:
        current = self.consults[consult_id]
        self.consults[consult_id] = consults.withdrawn(current, status, reason, actor, at)
        self._touch(actor, at)

    def summary(self) -> dict[str, Any]:
        """Plain fields for read models and responses."""
        return {
            "id": self.id,
            "status": self.status,
            "priority": self.priority,
            "nature": self.nature,
            "location": self.location,
            "address": self.address,
        }
