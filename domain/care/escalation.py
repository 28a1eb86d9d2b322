"""Pure, deterministic escalation of a patient's critical readings to an incident: which
reading, what priority and nature, and the de-duplication against the last incident."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from najda.domain.care.alerting import Assessment, Effect, MonitoringPolicy, Reading
from najda.domain.care.vitals import Direction, Severity, Vital
from najda.domain.values import Priority

#: The incident priority suggested for a critical breach, by vital and side.
SUGGESTED_PRIORITY: Mapping[tuple[Vital, Direction], Priority] = {
    (Vital.SPO2, Direction.LOW): Priority.D,
    (Vital.HEART_RATE, Direction.LOW): Priority.D,
    (Vital.HEART_RATE, Direction.HIGH): Priority.D,
    (Vital.SYSTOLIC_BP, Direction.LOW): Priority.D,
    (Vital.SYSTOLIC_BP, Direction.HIGH): Priority.C,
    (Vital.DIASTOLIC_BP, Direction.LOW): Priority.D,
    (Vital.DIASTOLIC_BP, Direction.HIGH): Priority.C,
    (Vital.RESPIRATORY_RATE, Direction.LOW): Priority.D,
    (Vital.RESPIRATORY_RATE, Direction.HIGH): Priority.D,
    (Vital.GLUCOSE, Direction.LOW): Priority.D,
    (Vital.GLUCOSE, Direction.HIGH): Priority.C,
}


@dataclass(frozen=True, slots=True)
class IncidentLink:
    """An incident this patient's readings raised."""

    incident_id: UUID
    vital: Vital
    reading_at: datetime


@dataclass(frozen=True)
class IncidentRequest:
    """A critical breach to open an incident for, at the patient's home."""

    incident_id: UUID
    alert_id: UUID | None
    vital: Vital
    direction: Direction
    priority: Priority
    nature: str
    readings: tuple[Reading, ...]


@dataclass(frozen=True)
class Decision:
    """What a batch's critical readings call for (nothing, by default)."""

    incident: IncidentRequest | None = None
    note_readings: tuple[Reading, ...] = ()
    noted_incident_id: UUID | None = None
    suppressed: bool = False


def decide_incident(
    assessments: Sequence[Assessment],
    effects: Sequence[Effect],
    last: IncidentLink | None,
    last_open: bool,
    policy: MonitoringPolicy,
    new_id: Callable[[], UUID],
) -> Decision:
    """What a batch's current critical readings call for:

    - `incident`: a new incident for the most urgent one (highest suggested priority, then
      the earliest), unless one was raised within the de-duplication window (`suppressed`);
    - while the last incident is still open, no new one: the readings of vitals whose alert
      was just raised, reopened or escalated to critical are noted on it (`note_readings`,
      `noted_incident_id`).
    """
    critical = [(a, a.direction) for a in assessments if a.actionable and a.direction is not None]
    if not critical:
        return Decision()
    if last is not None and last_open:
        alerted = {e.vital for e in effects if e.level is Severity.CRITICAL and e.kind != "cleared"}
        noted = tuple(a.reading for a, _ in critical if a.reading.vital in alerted)
        if not noted:
            return Decision()  # already alerting critical: nothing new to tell the crew
        return Decision(note_readings=noted, noted_incident_id=last.incident_id)
    worst, direction = max(
        critical,
        key=lambda pair: (
            SUGGESTED_PRIORITY[(pair[0].reading.vital, pair[1])].rank,
            -pair[0].reading.at.timestamp(),
        ),
    )
    if last is not None and worst.reading.at - last.reading_at < policy.dedup_window:
        return Decision(suppressed=True)
    vital = worst.reading.vital
    request = IncidentRequest(
        incident_id=new_id(),
        alert_id=next((e.alert_id for e in effects if e.vital is vital), None),
        vital=vital,
        direction=direction,
        priority=SUGGESTED_PRIORITY[(vital, direction)],
        nature=incident_nature(worst.reading, direction),
        readings=tuple(a.reading for a, _ in critical if a.reading.vital is vital),
    )
    return Decision(incident=request)


def incident_nature(reading: Reading, direction: Direction) -> str:
    """'low SpO2 (monitoring): 82 %' — the chief complaint of a monitoring incident."""
    unit = "%" if reading.vital is Vital.SPO2 else reading.vital.unit
    return f"{direction.value} {reading.vital.label} (monitoring): {reading.value:g} {unit}"
