"""Remote-monitoring use cases: enrol patients, change their bounds, record vital signs
(raising alerts, and incidents at the patient's home, in one atomic save), acknowledge."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from najda.domain.care.alerting import MonitoringPolicy, Reading
from najda.domain.care.escalation import IncidentRequest
from najda.domain.care.patient import (
    Patient,
    PatientNotFound,
    Recorded,
    patient_id_for,
)
from najda.domain.care.patient_devices import ImplausibleReport, PatientLookup, patient_ref
from najda.domain.care.patient_identity import (
    DEFAULT_PATIENT_SYSTEM,
    Sender,
    require_devices,
    require_system,
)
from najda.domain.care.vitals import (
    Bounds,
    Condition,
    Vital,
    default_thresholds,
    merge_thresholds,
    parse_conditions,
)
from najda.domain.dispatch.command_inputs import MAX_CLOCK_SKEW
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.incident_opening import new_incident
from najda.domain.errors import InvalidValue
from najda.domain.persistence.atomic_store import retried
from najda.domain.values import (
    MAX_ADDRESS,
    MAX_NAME,
    MAX_REASON,
    MAX_REMARK,
    MAX_SHORT,
    IncidentSource,
    Position,
    optional_text,
    require_recent,
    require_text,
)

#: Oldest reading accepted (a device that was offline uploads its backlog).
MAX_READING_AGE = timedelta(days=7)
#: A patient identifier is a FHIR logical id, so that "Patient/<identifier>" can name them.
_IDENTIFIER = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: Events read at a time when listing a patient's readings.
READ_PAGE = 200
#: Readings listed in an incident's note at most.
NOTE_READINGS = 10

BoundsChanges = Mapping[Vital, Mapping[str, float | None]]


@dataclass(frozen=True)
class PatientReading:
    """A reading for a patient named by identifier value and system (None: the short
    `Patient/<id>` reference, the configured default system), with the fields naming it in
    errors (e.g. 'entry[2].resource.subject.reference')."""

    patient: str
    reading: Reading
    subject_field: str = "subject"
    time_field: str = "at"
    system: str | None = None


def require_identifier(value: str, field: str = "identifier") -> str:
    """A FHIR logical id: 1-64 of A-Z a-z 0-9 - . (case matters)."""
    cleaned = value.strip() if isinstance(value, str) else ""
    if not _IDENTIFIER.fullmatch(cleaned):
        raise InvalidValue(field, "use 1-64 characters A-Z a-z 0-9 - . (a FHIR id)")
    return cleaned


class MonitoringCases(PatientLookup):
    """The remote-monitoring half of the Dispatch application."""

    monitoring_policy = MonitoringPolicy()

    def enrol_patient(
        self,
        *,
        identifier: str,
        name: str,
        home: Position,
        address: str,
        actor: str,
        phone: str = "",
        conditions: Iterable[str] = (),
        thresholds: BoundsChanges | None = None,
        notes: str = "",
        identifier_system: str = DEFAULT_PATIENT_SYSTEM,
        devices: Iterable[str] = (),
    ) -> UUID:
        """Enrol a patient at home; bounds default by condition, `thresholds` override them;
        `devices` (device users' names) may post their vitals."""
        identifier = require_identifier(identifier)
        system = require_system(identifier_system)
        enrolled_devices = require_devices(devices)
        chosen = parse_conditions(conditions)
        bounds = merge_thresholds(default_thresholds(chosen), thresholds or {}, "thresholds")
        patient = Patient(
            id=patient_id_for(identifier),
            identifier=identifier,
            name=require_text("name", name, MAX_NAME),
            home=home,
            address=require_text("address", address, MAX_ADDRESS),
            phone=optional_text("phone", phone, MAX_SHORT),
            conditions=[c.value for c in chosen],
            thresholds={v.value: b for v, b in bounds.items()},
            notes=optional_text("notes", notes, MAX_REMARK),
            actor=actor,
            at=self._now(),
            identifier_system=system,
            devices=enrolled_devices,
        )
        self._store(patient, creating=f"patient {identifier}")
        return patient.id

    @retried
    def change_thresholds(
        self,
        patient_id: UUID,
        changes: BoundsChanges,
        reason: str,
        actor: str,
        *,
        reset: bool = False,
    ) -> None:
        """Change some of a patient's bounds (None stops watching one); `reset` starts
        from the defaults of the patient's conditions."""
        reason = optional_text("reason", reason, MAX_REASON)
        patient = self._patient(patient_id)
        base = default_thresholds(patient.conditions) if reset else patient.thresholds
        merged = merge_thresholds(base, changes, "thresholds")
        patient.change_thresholds(merged, reason, actor, self._now())
        self._store(patient)

    @retried
    def discharge_patient(self, patient_id: UUID, reason: str, actor: str) -> None:
        """Stop monitoring a patient (their readings are refused from now on)."""
        reason = require_text("reason", reason, MAX_REASON)
        patient = self._patient(patient_id)
        patient.discharge(reason, actor, self._now())
        self._store(patient)

    @retried
    def acknowledge_alert(self, patient_id: UUID, alert_id: UUID, note: str, actor: str) -> bool:
        """A nurse has seen an open alert (and may say what they did about it)."""
        note = optional_text("note", note, MAX_REMARK)
        patient = self._patient(patient_id)
        if not patient.acknowledge_alert(alert_id, note, actor, self._now()):
            self._keep(patient)
            return False
        self._store(patient)
        return True

    @retried
    def record_readings(
        self, entries: Sequence[PatientReading], actor: str, sender: Sender | None = None
    ) -> list[Recorded]:
        """Record vital signs of one or more patients, all or nothing, in one atomic save
        with the alerts they raise, any incident they open and notes on open incidents.
        A patient is found only by identifier value and system, and only when the sender may
        report for them (one uniform refusal otherwise).

        Two concurrent critical readings of one patient raise one incident: the second
        save fails on the patient's version and is retried on fresh state, where the
        first's incident is open.
        """
        if not entries:
            raise InvalidValue("entry", "no observation to record")
        sender = sender or Sender(actor, is_device=False)
        now = self._now()
        groups: dict[UUID, list[PatientReading]] = {}
        for entry in entries:
            require_recent(entry.time_field, entry.reading.at, now, MAX_READING_AGE, MAX_CLOCK_SKEW)
            groups.setdefault(patient_ref(entry.patient), []).append(entry)
        changed: list[Patient | Incident] = []
        untouched: list[Patient | Incident] = []
        outcomes = []
        for patient_id, group in groups.items():
            patient = self._patient_named(patient_id, group[0], sender)
            current = self._open_incident(patient, untouched)
            recorded = patient.record_readings(
                [(e.time_field, e.reading) for e in group],
                policy=self.monitoring_policy,
                now=now,
                new_id=self.new_id,
                incident_open=current is not None,
                actor=actor,
            )
            outcomes.append(recorded)
            (changed if patient.pending_events else untouched).append(patient)
            request = recorded.incident
            if request is not None:
                changed.append(self._monitoring_incident(patient, request, now, actor))
            if current is not None and recorded.note_readings:
                current.add_note(_update_note(recorded.note_readings), actor, now)
                changed.append(current)
            elif current is not None:
                untouched.append(current)
        self._keep(*untouched)
        if changed:
            self._store(*changed)
        return outcomes

    def get_patient(self, patient_id: UUID) -> Patient:
        """A patient as stored now."""
        return self._get(Patient, patient_id, PatientNotFound)

    def patient_readings(
        self, patient_id: UUID, vital: Vital | None = None, limit: int = 100
    ) -> list[Reading]:
        """The patient's recorded readings, newest recorded first (at most `limit`), read
        from the store page by page from the newest event (a long stream is not replayed)."""
        found: list[Reading] = []
        upper: int | None = None
        while len(found) < limit:
            page = list(self.events.get(patient_id, lte=upper, desc=True, limit=READ_PAGE))
            if upper is None and (not page or not _topic(page[0]).startswith("najda:Patient.")):
                raise PatientNotFound(patient_id)
            for event in page:
                if _topic(event) != "najda:Patient.ReadingsRecorded":
                    continue
                readings: list[Reading] = cast(Any, event).readings
                found.extend(
                    r
                    for r in sorted(readings, key=lambda r: r.at, reverse=True)
                    if vital is None or r.vital is vital
                )
            if len(page) < READ_PAGE:
                break
            upper = page[-1].originator_version - 1
        return found[:limit]

    # --- helpers ------------------------------------------------------------------------

    def _open_incident(
        self, patient: Patient, untouched: list[Patient | Incident]
    ) -> Incident | None:
        """The last incident raised for the patient, when it is still open."""
        last = patient.last_incident
        if last is None:
            return None
        incident = self._incident(last.incident_id)
        if incident.is_open:
            return incident
        untouched.append(incident)
        return None

    def _monitoring_incident(
        self, patient: Patient, request: IncidentRequest, now: datetime, actor: str
    ) -> Incident:
        """The incident a critical breach opens at the patient's home, readings noted."""
        incident = new_incident(
            incident_id=request.incident_id,
            now=now,
            location=patient.home,
            address=patient.address,
            nature=request.nature,
            priority=request.priority,
            actor=actor,
            callback=patient.phone or None,
            source=IncidentSource.MONITORING,
        )
        incident.add_note(_incident_note(patient, request), actor, now)
        return incident


def _topic(event: object) -> str:
    return str(getattr(type(event), "TOPIC", ""))


def _incident_note(patient: Patient, request: IncidentRequest) -> str:
    """What the dispatcher and the crew should know: who, why, the readings, the notes."""
    conditions = ", ".join(c.value.replace("_", " ") for c in patient.conditions) or "none given"
    bounds = patient.thresholds.get(request.vital, Bounds())
    readings = "; ".join(r.text() for r in request.readings[-NOTE_READINGS:])
    lines = [
        f"Remote monitoring: patient {patient.name} ({patient.identifier});"
        f" conditions: {conditions}.",
        f"Critical {request.direction.value} {request.vital.label}"
        f" (bounds {_bounds_text(bounds)}): {readings}.",
    ]
    others = [
        f"{a.vital.label} ({a.level.value} {a.direction.value})"
        for a in patient.open_alerts()
        if a.vital is not request.vital
    ]
    if others:
        lines.append("Other open alerts: " + ", ".join(others) + ".")
    if patient.notes:
        lines.append(f"Patient notes: {patient.notes}")
    return "\n".join(lines)[:4000]


def _update_note(readings: Sequence[Reading]) -> str:
    """A note on the open incident when more vitals turn critical."""
    listed = "; ".join(r.text() for r in readings[-NOTE_READINGS:])
    return f"Remote monitoring, new critical readings: {listed}."[:4000]


def _bounds_text(bounds: Bounds) -> str:
    low = bounds.critical_low
    high = bounds.critical_high
    parts = []
    if low is not None:
        parts.append(f"critical below {low:g}")
    if high is not None:
        parts.append(f"critical above {high:g}")
    return ", ".join(parts) or "none"


__all__ = [
    "DEFAULT_PATIENT_SYSTEM",
    "Condition",
    "ImplausibleReport",
    "MonitoringCases",
    "PatientReading",
    "Sender",
    "patient_ref",
]
