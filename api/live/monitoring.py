"""The live feed's remote-monitoring part: patient, alert and readings messages, and the
open alerts and patients of a snapshot, from the feed's own copy of the monitoring board."""

from __future__ import annotations

from typing import Any

from najda.api.live.messages import encode, iso
from najda.api.live.subscribers import BBox, Message
from najda.domain.care.alerting import Reading
from najda.domain.care.vitals import Vital
from najda.projections.base import Tracked
from najda.projections.care.monitoring_board import AlertRow, MonitoringBoard, PatientRow

#: Scopes of a message: dispatch consoles only, monitoring clients only, or both.
DISPATCH, MONITORING, SHARED = "dispatch", "monitoring", "shared"


def reading_json(patient: PatientRow, reading: Reading) -> dict[str, Any]:
    """A reading with its severity against the patient's bounds now."""
    severity, direction = patient.severity(reading)
    return {
        "vital": reading.vital.value,
        "value": reading.value,
        "unit": reading.vital.unit,
        "at": iso(reading.at),
        "severity": severity.value,
        "direction": None if direction is None else direction.value,
        "reported": reading.reported,
    }


def patient_json(patient: PatientRow) -> dict[str, Any]:
    """A patient: who, where, conditions, bounds and latest readings."""
    return {
        "id": str(patient.patient_id),
        "identifier": patient.identifier,
        "name": patient.name,
        "address": patient.address,
        "lat": patient.lat,
        "lon": patient.lon,
        "phone": patient.phone,
        "conditions": list(patient.conditions),
        "discharged": patient.discharged,
        "thresholds": {v.value: b.as_list() for v, b in patient.thresholds.items()},
        "latest": [reading_json(patient, patient.latest[v]) for v in Vital if v in patient.latest],
        "incident_ids": [str(i) for i in patient.incident_ids],
        "device_problem": _device_problem(patient),
    }


def _device_problem(patient: PatientRow) -> dict[str, Any] | None:
    problem = patient.device_problem
    if problem is None:
        return None
    return {
        "device": problem.device,
        "vital": problem.vital.value,
        "message": problem.message,
        "field": problem.field,
        "value": problem.value,
        "refused": problem.refused,
        "first_at": iso(problem.first_at),
        "last_at": iso(problem.last_at),
    }


def device_json(patient: PatientRow) -> dict[str, Any]:
    """Who a device problem concerns and the problem (None once the device is right again or
    the patient discharged): what a console shows, without readings."""
    return {
        "id": str(patient.patient_id),
        "identifier": patient.identifier,
        "name": patient.name,
        "address": patient.address,
        "device_problem": None if patient.discharged else _device_problem(patient),
    }


def alert_json(alert: AlertRow, patient: PatientRow) -> dict[str, Any]:
    """An alert with the patient's name and home, and the readings that caused it."""
    return {
        "id": str(alert.alert_id),
        "patient_id": str(patient.patient_id),
        "patient_identifier": patient.identifier,
        "patient_name": patient.name,
        "address": patient.address,
        "lat": patient.lat,
        "lon": patient.lon,
        "phone": patient.phone,
        "vital": alert.vital.value,
        "level": alert.level.value,
        "direction": alert.direction.value,
        "open": alert.open,
        "raised_at": iso(alert.raised_at),
        "updated_at": iso(alert.updated_at),
        "acknowledged_by": alert.acknowledged_by,
        "note": alert.note,
        "incident_id": None if alert.incident_id is None else str(alert.incident_id),
        "readings": [reading_json(patient, r) for r in alert.readings],
    }


class MonitoringFeed:
    """Follows Patient events for the live feed (state always, messages when asked)."""

    def __init__(self) -> None:
        self.board = MonitoringBoard()

    def clear(self) -> None:
        """Forget everything (a rebuild)."""
        self.board.clear()

    def message(self, item: Tracked, base: dict[str, Any], build: bool) -> tuple[Message, ...]:
        """Apply a Patient event; its messages (none when not building yet)."""
        held = self.board.patients.get(item.originator_id)
        change = self.board.take(item)
        if change is None or not build:
            return ()
        patient = change.patient
        points = ((patient.lat, patient.lon),)
        if change.readings:
            device = {**base, "type": "device", "patient": device_json(patient)}
            base["type"] = "readings"
            base["patient_id"] = str(patient.patient_id)
            base["readings"] = [reading_json(patient, r) for r in change.readings]
            readings = Message(item.position, encode(base), points, scope=MONITORING)
            if held is not None and held.device_problem and not patient.device_problem:
                # The device is right again: consoles (no readings for them) hear only that.
                return readings, Message(item.position, encode(device), points, scope=DISPATCH)
            return (readings,)
        if change.alert is not None and item.topic != "najda:Patient.IncidentRaised":
            base["type"] = "alert"
            base["alert"] = alert_json(change.alert, patient)
            return (Message(item.position, encode(base), points, scope=SHARED),)
        base["type"] = "patient"
        base["patient"] = patient_json(patient)
        if item.topic == "najda:Patient.IncidentRaised":
            base["incident_id"] = str(item.event.incident_id)
            base["alert_id"] = None if change.alert is None else str(change.alert.alert_id)
        return (Message(item.position, encode(base), points, scope=SHARED),)

    def open_alerts(self, box: BBox | None) -> list[dict[str, Any]]:
        """Open alerts in board order (within the box, if any), for a snapshot."""
        patients = self.board.patients
        return [
            alert_json(a, patients[a.patient_id])
            for a in self.board.open_alerts()
            if box is None or box.contains(patients[a.patient_id].lat, patients[a.patient_id].lon)
        ]

    def device_problems(self, box: BBox | None) -> list[dict[str, Any]]:
        """Monitored patients whose device sends implausible values, latest first (within the
        box, if any), for a console's snapshot."""
        return [
            device_json(p)
            for p in self.board.device_problems()
            if box is None or box.contains(p.lat, p.lon)
        ]

    def patients(self, box: BBox | None) -> list[dict[str, Any]]:
        """Monitored patients by name (within the box, if any), for a snapshot."""
        return [
            patient_json(p)
            for p in self.board.listed_patients()
            if box is None or box.contains(p.lat, p.lon)
        ]
