"""NEMSIS eTimes from a timeline where a unit leaves its response out of service: that is
not eTimes.13 (unit back in service), which the store's lifecycle alone cannot produce."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.timeline import TimelineEntry
from najda.projections.reports.nemsis_intervals import unit_responses

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
INCIDENT, UNIT = UUID(int=1), UUID(int=2)


def entry(topic: str, originator: UUID, seconds: float, **fields: Any) -> TimelineEntry:
    at = T0 + timedelta(seconds=seconds)
    event = SimpleNamespace(at=at, actor="d", **fields)
    return TimelineEntry(0, originator, 1, f"najda:{topic}", at, "d", "A-1", "", event)


def _timeline(last_status: UnitStatus) -> list[TimelineEntry]:
    return [
        entry(
            "Incident.Reported", INCIDENT, 0, priority=Priority.E,
            location=Position(36.76, 3.07), call_received_at=T0,
        ),
        entry(
            "Incident.UnitAssigned", INCIDENT, 30, unit_id=UNIT, call_sign="A-1",
            kind=UnitKind.ALS,
        ),
        entry("Unit.Acknowledged", UNIT, 35, incident_id=INCIDENT),
        entry("Unit.StatusChanged", UNIT, 90, status=UnitStatus.EN_ROUTE),
        entry("Unit.StatusChanged", UNIT, 400, status=last_status),
        entry("Incident.UnitCleared", INCIDENT, 400, unit_id=UNIT),
    ]  # fmt: skip


def test_a_unit_that_goes_out_of_service_is_not_back_in_service() -> None:
    (response,) = unit_responses(_timeline(UnitStatus.OUT_OF_SERVICE))
    assert response.out_of_service
    assert response.back_in_service is None
    assert response.dispatch_acknowledged == T0 + timedelta(seconds=35)


def test_a_unit_that_becomes_available_is_back_in_service() -> None:
    (response,) = unit_responses(_timeline(UnitStatus.AVAILABLE))
    assert not response.out_of_service
    assert response.back_in_service == T0 + timedelta(seconds=400)


def test_an_acknowledgement_of_another_incident_is_not_this_ones() -> None:
    timeline = _timeline(UnitStatus.AVAILABLE)
    timeline[2] = entry("Unit.Acknowledged", UNIT, 35, incident_id=UUID(int=99))
    (response,) = unit_responses(timeline)
    assert response.dispatch_acknowledged is None
