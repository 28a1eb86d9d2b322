"""The monitoring board: patients with their latest readings, and open alerts, fed from the
notification log (in memory on both stores, rebuilt by catch-up at start)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.care.alerting import Reading
from najda.domain.care.vitals import Bounds, Direction, Severity, Vital
from najda.projections.base import Tracked

#: Readings kept on an alert for display (the newest).
ALERT_READINGS = 10


@dataclass(frozen=True)
class AlertRow:
    """One alert of one patient's vital, as the board shows it."""

    alert_id: UUID
    patient_id: UUID
    vital: Vital
    level: Severity
    direction: Direction
    open: bool
    raised_at: datetime
    updated_at: datetime
    readings: tuple[Reading, ...]
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    note: str = ""
    incident_id: UUID | None = None

    @property
    def order(self) -> tuple[int, int, datetime]:
        """Board order: critical first, then not yet acknowledged, then oldest."""
        return (-self.level.rank, self.acknowledged_by is not None, self.raised_at)


#: What the board says of a device sending values no patient can have.
DEVICE_PROBLEM = "device sending implausible values"


@dataclass(frozen=True)
class DeviceProblem:
    """Values refused as implausible since the patient's last good reading of that vital:
    the board flags it so that a nurse checks on the patient (and the device)."""

    device: str
    vital: Vital
    message: str
    refused: int
    first_at: datetime
    last_at: datetime
    field: str = ""  # the element that held the last refused value (its FHIR path)
    value: str = ""  # the last refused value as sent (number and unit)


@dataclass(frozen=True)
class PatientRow:
    """A monitored patient with their bounds and latest reading per vital."""

    patient_id: UUID
    identifier: str
    name: str
    address: str
    lat: float
    lon: float
    phone: str
    conditions: tuple[str, ...]
    thresholds: dict[Vital, Bounds]
    notes: str
    enrolled_at: datetime
    updated_at: datetime
    discharged: bool = False
    latest: dict[Vital, Reading] = field(default_factory=dict)
    incident_ids: tuple[UUID, ...] = ()
    identifier_system: str = ""
    devices: tuple[str, ...] = ()
    device_problem: DeviceProblem | None = None

    def severity(self, reading: Reading) -> tuple[Severity, Direction | None]:
        """How the reading stands against the patient's bounds now."""
        return self.thresholds.get(reading.vital, Bounds()).classify(reading.value)


@dataclass(frozen=True)
class BoardChange:
    """What one event changed: the patient, and the alert when it concerned one."""

    patient: PatientRow
    alert: AlertRow | None = None
    readings: tuple[Reading, ...] = ()


class MonitoringBoard:
    """Patients and their alerts (the latest per vital), updated event by event."""

    def __init__(self) -> None:
        self.patients: dict[UUID, PatientRow] = {}
        self.alerts: dict[tuple[UUID, Vital], AlertRow] = {}

    def clear(self) -> None:
        """Forget everything."""
        self.patients.clear()
        self.alerts.clear()

    def take(self, item: Tracked) -> BoardChange | None:
        """Take one event; what it changed, or None when it is not a patient's."""
        if not item.topic.startswith("najda:Patient."):
            return None
        kind = item.topic.removeprefix("najda:Patient.")
        e = item.event
        pid = item.originator_id
        if kind == "Enrolled":
            row = PatientRow(
                patient_id=pid,
                identifier=e.identifier,
                name=e.name,
                address=e.address,
                lat=e.home.lat,
                lon=e.home.lon,
                phone=e.phone,
                conditions=tuple(e.conditions),
                thresholds={Vital(k): v for k, v in e.thresholds.items()},
                notes=e.notes,
                enrolled_at=e.at,
                updated_at=e.at,
                identifier_system=getattr(e, "identifier_system", ""),
                devices=tuple(getattr(e, "devices", None) or ()),
            )
            self.patients[pid] = row
            return BoardChange(row)
        patient = self.patients.get(pid)
        if patient is None:
            return None
        patient = replace(patient, updated_at=e.at)
        change = self._patient_event(kind, patient, e) or self._alert_event(kind, patient, e)
        if change is not None:
            self.patients[pid] = change.patient
        return change

    def _patient_event(self, kind: str, patient: PatientRow, e: Any) -> BoardChange | None:
        if kind == "ThresholdsChanged":
            thresholds = {Vital(k): v for k, v in e.thresholds.items()}
            return BoardChange(replace(patient, thresholds=thresholds))
        if kind == "Discharged":
            for key in [k for k in self.alerts if k[0] == patient.patient_id]:
                del self.alerts[key]
            return BoardChange(replace(patient, discharged=True))
        if kind == "ReadingsRecorded":
            latest = dict(patient.latest)
            for reading in e.readings:
                held = latest.get(reading.vital)
                if held is None or reading.at >= held.at:
                    latest[reading.vital] = reading
            problem = patient.device_problem
            if problem is not None and any(r.vital is problem.vital for r in e.readings):
                problem = None  # a good reading of that vital: the device is right again
            patient = replace(patient, latest=latest, device_problem=problem)
            return BoardChange(patient, readings=tuple(e.readings))
        if kind == "DevicesChanged":
            return BoardChange(replace(patient, devices=tuple(e.devices)))
        if kind == "ImplausibleRefused":
            held_problem = patient.device_problem
            problem = DeviceProblem(
                device=e.device,
                vital=Vital(e.vital),
                message=e.message,
                refused=1 if held_problem is None else held_problem.refused + 1,
                first_at=e.at if held_problem is None else held_problem.first_at,
                last_at=e.at,
                field=e.field,
                value=e.reported or f"{e.value:g} {Vital(e.vital).unit}",
            )
            return BoardChange(replace(patient, device_problem=problem))
        if kind == "IncidentRaised":
            patient = replace(patient, incident_ids=(*patient.incident_ids, e.incident_id))
            key = (patient.patient_id, Vital(e.vital))
            alert = self.alerts.get(key)
            if alert is not None and alert.alert_id == e.alert_id:
                alert = replace(alert, incident_id=e.incident_id)
                self.alerts[key] = alert
            return BoardChange(patient, alert)
        return None

    def _alert_event(self, kind: str, patient: PatientRow, e: Any) -> BoardChange | None:
        key = (patient.patient_id, Vital(e.vital))
        held = self.alerts.get(key)
        if kind == "AlertRaised":
            alert = AlertRow(
                alert_id=e.alert_id,
                patient_id=patient.patient_id,
                vital=Vital(e.vital),
                level=Severity(e.level),
                direction=Direction(e.direction),
                open=True,
                raised_at=e.at,
                updated_at=e.at,
                readings=tuple(e.readings)[-ALERT_READINGS:],
            )
        elif held is None or held.alert_id != e.alert_id:
            return None
        elif kind == "AlertAcknowledged":
            alert = replace(
                held,
                acknowledged_by=e.actor,
                acknowledged_at=e.at,
                note=e.note or held.note,
                updated_at=e.at,
            )
        elif kind in ("AlertReopened", "AlertEscalated", "AlertCleared"):
            alert = replace(
                held,
                level=Severity(e.level),
                open=kind != "AlertCleared",
                updated_at=e.at,
                readings=(*held.readings, *e.readings)[-ALERT_READINGS:],
            )
            if kind != "AlertCleared":  # news: to be acknowledged again
                alert = replace(alert, acknowledged_by=None, acknowledged_at=None, note="")
        else:
            return None
        self.alerts[key] = alert
        return BoardChange(patient, alert)

    # --- reads ---------------------------------------------------------------------------

    def open_alerts(self) -> list[AlertRow]:
        """Alerts not cleared, of patients still monitored, in board order."""
        rows = [a for a in self.alerts.values() if a.open]
        return sorted(rows, key=lambda a: a.order)

    def listed_patients(self, include_discharged: bool = False) -> list[PatientRow]:
        """Patients by name (monitored ones only unless asked)."""
        rows = [p for p in self.patients.values() if include_discharged or not p.discharged]
        return sorted(rows, key=lambda p: (p.name.lower(), p.identifier))

    def device_problems(self) -> list[PatientRow]:
        """Monitored patients whose device sends implausible values, the latest first."""
        rows = [p for p in self.patients.values() if p.device_problem and not p.discharged]
        return sorted(
            rows,
            key=lambda p: p.device_problem.last_at if p.device_problem else p.updated_at,
            reverse=True,
        )

    def alerts_of(self, patient_id: UUID) -> list[AlertRow]:
        """The patient's open alerts, in board order."""
        return [a for a in self.open_alerts() if a.patient_id == patient_id]


class MonitoringDirectory:
    """The board as a projection the runner feeds (what the REST routes read)."""

    name = "monitoring_board"
    SAVED_FIELDS = ("board", "_position")  # what a saved state holds

    def __init__(self) -> None:
        self.board = MonitoringBoard()
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self.board.clear()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            self.board.take(item)
            self._position = item.position
