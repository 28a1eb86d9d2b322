"""The Patient aggregate: a remotely monitored patient, their readings, alerts and incidents."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from najda.domain.care.alerting import (
    AlertState,
    Assessment,
    Effect,
    MonitoringPolicy,
    Reading,
    VitalTrack,
    observe,
)
from najda.domain.care.escalation import IncidentLink, IncidentRequest, decide_incident
from najda.domain.care.vitals import Bounds, Condition, Direction, Severity, Vital
from najda.domain.errors import Conflict, InvalidValue, NotFound
from najda.domain.values import Position, Priority

PATIENT_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a06")


def patient_id_for(identifier: str) -> UUID:
    """Deterministic patient id from the identifier the monitoring programme gave them."""
    return uuid5(PATIENT_NAMESPACE, identifier.strip())


class PatientNotFound(NotFound):
    """Raised when no patient has the given id or identifier."""

    kind = "patient"


class AlertNotFound(NotFound):
    """Raised when a patient has no alert with the given id."""

    kind = "alert"


class PatientDischarged(Conflict):
    """Raised when changing, or recording readings of, a patient no longer monitored."""

    def __init__(self, identifier: str) -> None:
        super().__init__(f"patient {identifier} is discharged from monitoring")
        self.identifier = identifier


@dataclass(frozen=True)
class Recorded:
    """What a batch of readings did to one patient."""

    patient_id: UUID
    identifier: str
    accepted: tuple[Reading, ...]
    duplicates: int
    late: int
    assessments: tuple[Assessment, ...]
    effects: tuple[Effect, ...]
    incident: IncidentRequest | None = None
    note_readings: tuple[Reading, ...] = ()
    noted_incident_id: UUID | None = None
    suppressed: bool = False


class Patient(Aggregate):
    """A patient enrolled for remote monitoring at home, with per-vital alert bounds."""

    TOPIC = "najda:Patient"

    class Created(Aggregate.Created):
        """Base of the patient's creation event (never stored itself)."""

        TOPIC = "najda:Patient.Created"

    @event("Enrolled", topic="najda:Patient.Enrolled")
    def __init__(
        self,
        *,
        id: UUID,
        identifier: str,
        name: str,
        home: Position,
        address: str,
        phone: str,
        conditions: list[str],
        thresholds: dict[str, Bounds],
        notes: str,
        actor: str,
        at: datetime,
        identifier_system: str = "",
        devices: list[str] | None = None,
    ) -> None:
        self.identifier = identifier
        self.identifier_system = identifier_system  # "" (enrolled before systems): default
        self.devices = tuple(devices or ())
        self.name = name
        self.home = home
        self.address = address
        self.phone = phone
        self.conditions = tuple(Condition(c) for c in conditions)
        self.thresholds = {Vital(k): v for k, v in thresholds.items()}
        self.notes = notes
        self.enrolled_at = at
        self.discharged = False
        self.tracks: dict[Vital, VitalTrack] = {}
        self.incidents: list[IncidentLink] = []

    # --- queries -------------------------------------------------------------------------

    @property
    def last_incident(self) -> IncidentLink | None:
        """The incident most recently raised for this patient."""
        return self.incidents[-1] if self.incidents else None

    def track(self, vital: Vital) -> VitalTrack:
        """The vital's recent readings and alert (empty when never measured)."""
        return self.tracks.get(vital, VitalTrack())

    def open_alerts(self) -> list[AlertState]:
        """Alerts not cleared yet, one per vital at most."""
        return [t.alert for t in self.tracks.values() if t.alert is not None and t.alert.open]

    def is_named_by(self, system: str, default_system: str) -> bool:
        """True when an identifier of `system` (and this value) is this patient's."""
        return (self.identifier_system or default_system) == system

    def reports_from(self, device: str) -> bool:
        """True when the device (a device user's name) is enrolled to report for them."""
        return device in self.devices

    def require_monitored(self) -> None:
        """Raise PatientDischarged once the patient has left the programme."""
        if self.discharged:
            raise PatientDischarged(self.identifier)

    # --- commands ------------------------------------------------------------------------

    def change_thresholds(
        self, thresholds: Mapping[Vital, Bounds], reason: str, actor: str, at: datetime
    ) -> None:
        """Replace the patient's alert bounds (already checked)."""
        self.require_monitored()
        stored = {v.value: b for v, b in thresholds.items()}
        self._thresholds_changed(thresholds=stored, reason=reason, actor=actor, at=at)

    def change_devices(self, devices: Sequence[str], actor: str, at: datetime) -> None:
        """Replace the devices enrolled to report this patient's vitals."""
        self.require_monitored()
        self._devices_changed(devices=list(devices), actor=actor, at=at)

    def refuse_implausible(
        self,
        *,
        vital: Vital,
        value: float,
        reported: str,
        field: str,
        message: str,
        device: str,
        actor: str,
        at: datetime,
    ) -> None:
        """Record that a device sent a value no patient can have (it was not acted on)."""
        self.require_monitored()
        self._implausible_refused(
            vital=vital,
            value=value,
            reported=reported,
            field=field,
            message=message,
            device=device,
            actor=actor,
            at=at,
        )

    def discharge(self, reason: str, actor: str, at: datetime) -> None:
        """Stop monitoring the patient; later readings are refused."""
        self.require_monitored()
        self._discharged(reason=reason, actor=actor, at=at)

    def acknowledge_alert(self, alert_id: UUID, note: str, actor: str, at: datetime) -> bool:
        """A nurse has seen the open alert; False (and no event) if already acknowledged."""
        self.require_monitored()
        alert = next((a for a in self.open_alerts() if a.alert_id == alert_id), None)
        if alert is None:
            raise AlertNotFound(alert_id)
        if alert.acknowledged and not note:
            return False
        self._alert_acknowledged(
            alert_id=alert_id, vital=alert.vital, note=note, actor=actor, at=at
        )
        return True

    def record_readings(
        self,
        entries: Sequence[tuple[str, Reading]],
        *,
        policy: MonitoringPolicy,
        now: datetime,
        new_id: Callable[[], UUID],
        incident_open: bool,
        actor: str,
    ) -> Recorded:
        """Take readings (each with the field that names it in errors), decide their alerts
        and whether to raise an incident, and record it all as events.

        A reading identical to one kept (same vital, time and value) is a retry and is
        skipped; the same vital and time with another value is refused, and so nothing of
        the batch is recorded. The caller says whether the last incident is still open.
        """
        self.require_monitored()
        fresh = self._without_duplicates(entries)
        tracks = dict(self.tracks)
        assessments: list[Assessment] = []
        for reading in fresh:
            bounds = self.thresholds.get(reading.vital, Bounds())
            track, assessment = observe(
                tracks.get(reading.vital, VitalTrack()), reading, bounds, policy, now, new_id
            )
            tracks[reading.vital] = track
            assessments.append(assessment)
        effects = tuple(e for a in assessments for e in a.effects)
        decision = decide_incident(
            assessments, effects, self.last_incident, incident_open, policy, new_id
        )
        recorded = Recorded(
            patient_id=self.id,
            identifier=self.identifier,
            accepted=tuple(fresh),
            duplicates=len(entries) - len(fresh),
            late=sum(a.late for a in assessments),
            assessments=tuple(assessments),
            effects=effects,
            incident=decision.incident,
            note_readings=decision.note_readings,
            noted_incident_id=decision.noted_incident_id,
            suppressed=decision.suppressed,
        )
        if fresh:
            self._readings_recorded(readings=list(fresh), actor=actor, at=now)
        for effect in effects:
            self._trigger(effect, actor, now)
        request = recorded.incident
        if request is not None:
            self._incident_raised(
                incident_id=request.incident_id,
                alert_id=request.alert_id,
                vital=request.vital,
                priority=request.priority,
                readings=list(request.readings),
                actor=actor,
                at=now,
            )
        return recorded

    def _without_duplicates(self, entries: Sequence[tuple[str, Reading]]) -> list[Reading]:
        """The readings new to the patient, in time order; Conflict on a contradiction."""
        seen: dict[tuple[Vital, datetime], Reading] = {}
        for where, reading in entries:
            key = (reading.vital, reading.at)
            kept = seen.get(key) or self.track(reading.vital).find(reading.at)
            if kept is not None and kept.value != reading.value:
                raise InvalidValue(
                    where,
                    f"{reading.vital.label} at {reading.at.isoformat()} was already given as"
                    f" {kept.value:g}, now {reading.value:g}",
                )
            seen.setdefault(key, reading)
        known = {
            (r.vital, r.at) for r in seen.values() if self.track(r.vital).find(r.at) is not None
        }
        fresh = [r for key, r in seen.items() if key not in known]
        return sorted(fresh, key=lambda r: (r.at, list(Vital).index(r.vital)))

    def _trigger(self, effect: Effect, actor: str, at: datetime) -> None:
        trigger = {
            "raised": self._alert_raised,
            "reopened": self._alert_reopened,
            "escalated": self._alert_escalated,
            "cleared": self._alert_cleared,
        }[effect.kind]
        trigger(
            alert_id=effect.alert_id,
            vital=effect.vital,
            level=effect.level,
            direction=effect.direction,
            readings=list(effect.readings),
            actor=actor,
            at=at,
        )

    # --- events (assign values only; they run again on every replay) ---------------------

    @event("ThresholdsChanged", topic="najda:Patient.ThresholdsChanged")
    def _thresholds_changed(
        self, thresholds: dict[str, Bounds], reason: str, actor: str, at: datetime
    ) -> None:
        self.thresholds = {Vital(k): v for k, v in thresholds.items()}

    @event("DevicesChanged", topic="najda:Patient.DevicesChanged")
    def _devices_changed(self, devices: list[str], actor: str, at: datetime) -> None:
        self.devices = tuple(devices)

    @event("ImplausibleRefused", topic="najda:Patient.ImplausibleRefused")
    def _implausible_refused(
        self,
        vital: Vital,
        value: float,
        reported: str,
        field: str,
        message: str,
        device: str,
        actor: str,
        at: datetime,
    ) -> None:
        pass  # the record is the event: nothing about the patient's state changes

    @event("Discharged", topic="najda:Patient.Discharged")
    def _discharged(self, reason: str, actor: str, at: datetime) -> None:
        self.discharged = True

    @event("ReadingsRecorded", topic="najda:Patient.ReadingsRecorded")
    def _readings_recorded(self, readings: list[Reading], actor: str, at: datetime) -> None:
        for reading in readings:
            vital = Vital(reading.vital)
            self.tracks[vital] = self.track(vital).with_reading(reading)

    @event("AlertRaised", topic="najda:Patient.AlertRaised")
    def _alert_raised(
        self,
        alert_id: UUID,
        vital: Vital,
        level: Severity,
        direction: Direction,
        readings: list[Reading],
        actor: str,
        at: datetime,
    ) -> None:
        raised_at = max(r.at for r in readings)  # the reading that raised it
        alert = AlertState(alert_id, Vital(vital), Severity(level), Direction(direction), raised_at)
        self._set_alert(alert)

    @event("AlertReopened", topic="najda:Patient.AlertReopened")
    def _alert_reopened(
        self,
        alert_id: UUID,
        vital: Vital,
        level: Severity,
        direction: Direction,
        readings: list[Reading],
        actor: str,
        at: datetime,
    ) -> None:
        self._change_alert(vital, open=True, level=Severity(level), acknowledged=False)

    @event("AlertEscalated", topic="najda:Patient.AlertEscalated")
    def _alert_escalated(
        self,
        alert_id: UUID,
        vital: Vital,
        level: Severity,
        direction: Direction,
        readings: list[Reading],
        actor: str,
        at: datetime,
    ) -> None:
        self._change_alert(vital, level=Severity(level), acknowledged=False)

    @event("AlertCleared", topic="najda:Patient.AlertCleared")
    def _alert_cleared(
        self,
        alert_id: UUID,
        vital: Vital,
        level: Severity,
        direction: Direction,
        readings: list[Reading],
        actor: str,
        at: datetime,
    ) -> None:
        self._change_alert(vital, open=False)

    @event("AlertAcknowledged", topic="najda:Patient.AlertAcknowledged")
    def _alert_acknowledged(
        self, alert_id: UUID, vital: Vital, note: str, actor: str, at: datetime
    ) -> None:
        self._change_alert(vital, acknowledged=True)

    @event("IncidentRaised", topic="najda:Patient.IncidentRaised")
    def _incident_raised(
        self,
        incident_id: UUID,
        alert_id: UUID | None,
        vital: Vital,
        priority: Priority,
        readings: list[Reading],
        actor: str,
        at: datetime,
    ) -> None:
        last = max(r.at for r in readings)
        self.incidents.append(IncidentLink(incident_id, Vital(vital), last))

    def _set_alert(self, alert: AlertState) -> None:
        self.tracks[alert.vital] = self.track(alert.vital).with_alert(alert)

    def _change_alert(
        self,
        vital: Vital,
        *,
        open: bool | None = None,
        level: Severity | None = None,
        acknowledged: bool | None = None,
    ) -> None:
        alert = self.track(Vital(vital)).alert
        if alert is None:
            return
        self._set_alert(
            replace(
                alert,
                open=alert.open if open is None else open,
                level=alert.level if level is None else level,
                acknowledged=alert.acknowledged if acknowledged is None else acknowledged,
            )
        )
