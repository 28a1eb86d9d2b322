"""Read models and domain outcomes of remote monitoring turned into response bodies."""

from __future__ import annotations

from najda.api.schemas_monitoring import (
    AlertChangePublic,
    AlertPublic,
    BoundsPublic,
    DeviceProblemPublic,
    PatientOutcomePublic,
    PatientPublic,
    ReadingPublic,
)
from najda.domain.care.alerting import Reading
from najda.domain.care.patient import Recorded
from najda.domain.care.vitals import Bounds, Condition, Direction, Severity, Vital
from najda.projections.care.monitoring_board import (
    DEVICE_PROBLEM,
    AlertRow,
    MonitoringBoard,
    PatientRow,
)
from najda.projections.dispatch.board import IncidentBoard


def reading_public(
    reading: Reading, severity: Severity, direction: Direction | None
) -> ReadingPublic:
    """A reading with its classification."""
    return ReadingPublic(
        vital=reading.vital,
        value=reading.value,
        unit=reading.vital.unit,
        at=reading.at,
        severity=severity,
        direction=direction,
        reported=reading.reported,
        source=reading.source,
        device=reading.device,
    )


def classified(patient: PatientRow, reading: Reading) -> ReadingPublic:
    """A reading as it stands against the patient's bounds now."""
    return reading_public(reading, *patient.severity(reading))


def bounds_public(bounds: Bounds) -> BoundsPublic:
    """A vital's bounds."""
    low, warn_low, warn_high, high = bounds.as_list()
    return BoundsPublic(
        critical_low=low, warning_low=warn_low, warning_high=warn_high, critical_high=high
    )


async def alert_public(alert: AlertRow, patient: PatientRow, board: IncidentBoard) -> AlertPublic:
    """An alert with its patient, and the status of the incident it raised."""
    status: str | None = None
    if alert.incident_id is not None:
        row = await board.get(alert.incident_id)
        status = "ended" if row is None else row.status
    return AlertPublic(
        id=alert.alert_id,
        patient_id=patient.patient_id,
        patient_identifier=patient.identifier,
        patient_name=patient.name,
        address=patient.address,
        lat=patient.lat,
        lon=patient.lon,
        phone=patient.phone,
        vital=alert.vital,
        level=alert.level,
        direction=alert.direction,
        open=alert.open,
        raised_at=alert.raised_at,
        updated_at=alert.updated_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        note=alert.note,
        incident_id=alert.incident_id,
        incident_status=status,
        readings=[classified(patient, r) for r in alert.readings],
    )


async def patient_public(
    patient: PatientRow, monitoring: MonitoringBoard, board: IncidentBoard
) -> PatientPublic:
    """A patient with bounds, latest readings (in vital order) and open alerts."""
    alerts = [
        await alert_public(a, patient, board) for a in monitoring.alerts_of(patient.patient_id)
    ]
    return PatientPublic(
        id=patient.patient_id,
        identifier=patient.identifier,
        identifier_system=patient.identifier_system,
        devices=list(patient.devices),
        device_problem=device_problem_public(patient),
        name=patient.name,
        address=patient.address,
        lat=patient.lat,
        lon=patient.lon,
        phone=patient.phone,
        conditions=[Condition(c) for c in patient.conditions],
        notes=patient.notes,
        discharged=patient.discharged,
        enrolled_at=patient.enrolled_at,
        updated_at=patient.updated_at,
        thresholds={v: bounds_public(b) for v, b in patient.thresholds.items()},
        latest=[classified(patient, patient.latest[v]) for v in Vital if v in patient.latest],
        open_alerts=alerts,
        incident_ids=list(patient.incident_ids),
    )


def device_problem_public(patient: PatientRow) -> DeviceProblemPublic | None:
    """The patient's device problem, if a device sends implausible values."""
    problem = patient.device_problem
    if problem is None:
        return None
    return DeviceProblemPublic(
        problem=DEVICE_PROBLEM,
        device=problem.device,
        vital=problem.vital,
        message=problem.message,
        field=problem.field,
        value=problem.value,
        refused=problem.refused,
        first_at=problem.first_at,
        last_at=problem.last_at,
    )


def outcome_public(recorded: Recorded) -> PatientOutcomePublic:
    """What a batch of readings did for one patient."""
    return PatientOutcomePublic(
        patient_id=recorded.patient_id,
        identifier=recorded.identifier,
        recorded=len(recorded.accepted),
        duplicates=recorded.duplicates,
        late=recorded.late,
        readings=[reading_public(a.reading, a.severity, a.direction) for a in recorded.assessments],
        alerts=[
            AlertChangePublic(
                alert_id=e.alert_id,
                vital=e.vital,
                change=e.kind,
                level=e.level,
                direction=e.direction,
            )
            for e in recorded.effects
        ],
        incident_id=None if recorded.incident is None else recorded.incident.incident_id,
        noted_incident_id=recorded.noted_incident_id,
        incident_suppressed=recorded.suppressed,
    )
