"""The Dispatch application: the use cases of the dispatch centre over the event store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from najda.domain.access.user_commands import UserCommands, new_token
from najda.domain.care.consult_and_hospital_use_cases import ConsultCommands, HospitalStatusCommands
from najda.domain.care.monitoring_use_cases import MonitoringCases
from najda.domain.dispatch.command_inputs import (
    MAX_CLOCK_SKEW,
    MAX_POSITION_AGE,
    PositionPolicy,
    UnitChoice,
    utc_now,
)
from najda.domain.dispatch.crew_commands import CrewCommands
from najda.domain.dispatch.duplicates import DuplicateCommands
from najda.domain.dispatch.incident_opening import new_incident
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.dispatch.reassign import ReassignCommands
from najda.domain.dispatch.reference_commands import ReferenceCommands
from najda.domain.dispatch.unit import Unit
from najda.domain.errors import (
    InvalidTransition,
    InvalidValue,
    UnitAlreadyOnIncident,
)
from najda.domain.persistence.atomic_store import retried
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_NOTE,
    MAX_REASON,
    MAX_SHORT,
    IncidentSource,
    Position,
    Priority,
    UnitStatus,
    optional_text,
    require_recent,
    require_text,
)

__all__ = ["Dispatch", "PositionPolicy", "UnitChoice", "new_token", "utc_now"]


class Dispatch(
    ReferenceCommands,
    UserCommands,
    CrewCommands,
    ConsultCommands,
    HospitalStatusCommands,
    MonitoringCases,
    ReassignCommands,
    DuplicateCommands,
):
    """Incidents, units, stations, hospitals, users, teleconsults and monitored patients;
    every command is saved as events."""

    name = "Dispatch"

    # --- incidents --------------------------------------------------------------------

    def report_incident(
        self,
        *,
        location: Position,
        address: str,
        nature: str,
        priority: Priority,
        actor: str,
        determinant: str = "",
        callback: str | None = None,
        source: IncidentSource = IncidentSource.PHONE,
        call_received_at: datetime | None = None,
        incident_id: UUID | None = None,
        notes: Sequence[str] = (),
        location_fix: LocationFix | None = None,
    ) -> UUID:
        """Open an incident for a call, with its first notes, in one save; returns its id.
        A given `incident_id` (from a natural key) makes a second report AlreadyExists;
        `location_fix`: how its location was found, when it was geocoded."""
        texts = [require_text(f"notes[{i}]", t, MAX_NOTE) for i, t in enumerate(notes)]
        now = self._now()
        incident = new_incident(
            incident_id=incident_id or self.new_id(),
            now=now,
            location=location,
            address=address,
            nature=nature,
            priority=priority,
            actor=actor,
            determinant=determinant,
            callback=callback,
            source=source,
            call_received_at=call_received_at,
            location_fix=location_fix,
        )
        for text in texts:
            incident.add_note(text, actor, now)
        creating = None if incident_id is None else f"incident {incident_id}"
        self._store(incident, creating=creating)
        return incident.id

    @retried
    def change_priority(
        self, incident_id: UUID, priority: Priority, actor: str, determinant: str = ""
    ) -> None:
        """Re-triage an open incident."""
        clean_determinant = optional_text("determinant", determinant, MAX_SHORT)
        incident = self._incident(incident_id)
        incident.change_priority(Priority(priority), clean_determinant, actor, self._now())
        self._store(incident)

    @retried
    def correct_location(
        self, incident_id: UUID, location: Position, address: str, actor: str
    ) -> None:
        """Move an open incident to its corrected location."""
        clean_address = optional_text("address", address, MAX_ADDRESS)
        incident = self._incident(incident_id)
        incident.correct_location(location, clean_address, actor, self._now())
        self._store(incident)

    @retried
    def add_note(self, incident_id: UUID, text: str, actor: str) -> None:
        """Append a note to an incident."""
        text = require_text("text", text, MAX_NOTE)
        incident = self._incident(incident_id)
        incident.add_note(text, actor, self._now())
        self._store(incident)

    @retried
    def assign_units(self, incident_id: UUID, choices: Sequence[UnitChoice], actor: str) -> int:
        """Dispatch units to an incident: the units and the incident are saved in one save.

        Of concurrent assignments of the same unit exactly one wins; the others raise a
        Conflict (on retry the unit is no longer available, or the race was lost three
        times). Returns the notification position of the save.
        """
        if not choices:
            raise InvalidValue("units", "choose at least one unit")
        if len({c.unit_id for c in choices}) != len(choices):
            raise InvalidValue("units", "a unit is listed twice")
        incident = self._incident(incident_id)
        incident.require_open()
        units = [self._unit(c.unit_id) for c in choices]
        at = self._now()
        for unit, choice in zip(units, choices, strict=True):
            if unit.incident_id == incident.id:
                raise UnitAlreadyOnIncident(unit.call_sign, incident.id)
            unit.dispatch(incident.id, actor, at)
            incident.assign_unit(
                unit.id, unit.call_sign, unit.kind, choice.distance_m, choice.eta_s, actor, at
            )
        return self._store(incident, *units)

    @retried
    def release_unit(self, incident_id: UUID, unit_id: UUID, reason: str, actor: str) -> None:
        """Take a unit off an incident (re-assignment, cancellation); it becomes available."""
        reason = require_text("reason", reason, MAX_REASON)
        incident = self._incident(incident_id)
        unit = self._unit(unit_id)
        incident.require_active_unit(unit.id, unit.call_sign)
        at = self._now()
        unit.release(incident.id, reason, actor, at)
        incident.release_unit(unit.id, unit.call_sign, reason, actor, at)
        self._store(incident, unit)

    @retried
    def report_position(
        self, unit_id: UUID, position: Position, actor: str, at: datetime | None = None
    ) -> bool:
        """Take a position report; record it as an event only when it matters.

        Returns True when an event was recorded (moved beyond the threshold, or the last
        recorded position is older than the sampling interval).
        """
        now = self._now()
        when = require_recent("at", at or now, now, MAX_POSITION_AGE, MAX_CLOCK_SKEW)
        unit = self._unit(unit_id)
        if not self._worth_recording(unit, position, when):
            self._keep(unit)
            return False
        unit.report_position(position, actor, when)
        self._store(unit)
        return True

    @retried
    def report_positions(
        self, reports: Sequence[tuple[UUID, Position, datetime]], actor: str
    ) -> list[bool]:
        """Take many units' position reports in one atomic save (an AVL batch); each is
        recorded only when it matters, as in `report_position`. Returns, per report,
        whether it was recorded."""
        now = self._now()
        checked = [
            (unit_id, position, require_recent("at", at, now, MAX_POSITION_AGE, MAX_CLOCK_SKEW))
            for unit_id, position, at in reports
        ]
        units: dict[UUID, Unit] = {}
        recorded: list[bool] = []
        for unit_id, position, when in checked:
            unit = units.get(unit_id) or self._unit(unit_id)
            units[unit_id] = unit
            recorded.append(self._worth_recording(unit, position, when))
            if recorded[-1]:
                unit.report_position(position, actor, when)
        changed = [u for u in units.values() if u.pending_events]
        self._keep(*[u for u in units.values() if not u.pending_events])
        if changed:
            self._store(*changed)
        return recorded

    def _worth_recording(self, unit: Unit, position: Position, when: datetime) -> bool:
        """Moved far enough, or the last recorded position is old enough."""
        return self.position_policy.worth_recording(unit.position, unit.position_at, position, when)

    @retried
    def close_incident(self, incident_id: UUID, disposition: str, actor: str) -> None:
        """Close an incident whose units have all cleared."""
        disposition = require_text("disposition", disposition, MAX_REASON)
        incident = self._incident(incident_id)
        incident.close(disposition, actor, self._now())
        self._store(incident)

    @retried
    def cancel_incident(self, incident_id: UUID, reason: str, actor: str) -> None:
        """Cancel an incident and release its active units, all in one save."""
        reason = require_text("reason", reason, MAX_REASON)
        incident = self._incident(incident_id)
        incident.require_open()
        at = self._now()
        units = [self._unit(u) for u in incident.active_unit_ids]
        for unit in units:
            if unit.status not in (
                UnitStatus.DISPATCHED,
                UnitStatus.EN_ROUTE,
                UnitStatus.ON_SCENE,
            ):
                raise InvalidTransition(
                    f"incident {incident.id}",
                    incident.status.value,
                    "cancelled",
                    f"unit {unit.call_sign} is {unit.status.value}",
                )
            unit.release(incident.id, f"incident cancelled: {reason}", actor, at)
            incident.release_unit(unit.id, unit.call_sign, "incident cancelled", actor, at)
        incident.cancel(reason, actor, at)
        self._store(incident, *units)
