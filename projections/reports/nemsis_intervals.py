"""NEMSIS v3.5 eTimes of each unit response, and its intervals, from an incident's timeline.

Mapping (the README's table): eTimes.01 the call received; .02 the incident reported;
.03 the unit assigned; .04 the crew acknowledged; .05 en route; .06 on scene; .09
transporting; .11 at hospital; .13 available again (after the run, or after a release);
.14 released from the incident before finishing (a cancellation). Out of service is not
back in service: it ends the response with no eTimes.13. Najda records no arrival at the
patient (.07) nor transfer of care (.12): they stay empty rather than being guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.values import Priority, UnitStatus
from najda.projections.audit.timeline import TimelineEntry

#: NEMSIS v3 eTimes elements, in order, and the attribute holding each.
ETIMES: tuple[tuple[str, str, str], ...] = (
    ("eTimes.01", "call_received", "PSAP call date/time"),
    ("eTimes.02", "dispatch_notified", "dispatch notified date/time"),
    ("eTimes.03", "unit_notified", "unit notified by dispatch date/time"),
    ("eTimes.04", "dispatch_acknowledged", "dispatch acknowledged date/time"),
    ("eTimes.05", "en_route", "unit en route date/time"),
    ("eTimes.06", "on_scene", "unit arrived on scene date/time"),
    ("eTimes.07", "at_patient", "arrived at patient date/time"),
    ("eTimes.09", "left_scene", "unit left scene date/time"),
    ("eTimes.11", "at_destination", "patient arrived at destination date/time"),
    ("eTimes.12", "transfer_of_care", "destination patient transfer of care date/time"),
    ("eTimes.13", "back_in_service", "unit back in service date/time"),
    ("eTimes.14", "cancelled", "unit canceled date/time"),
)

#: Intervals: name -> (from eTime attribute, to eTime attribute).
INTERVALS: dict[str, tuple[str, str]] = {
    "call_processing": ("call_received", "unit_notified"),
    "turnout": ("unit_notified", "en_route"),
    "travel": ("en_route", "on_scene"),
    "response": ("call_received", "on_scene"),
    "on_scene": ("on_scene", "left_scene"),
    "transport": ("left_scene", "at_destination"),
}

_STATUS_TIME = {
    UnitStatus.EN_ROUTE: "en_route",
    UnitStatus.ON_SCENE: "on_scene",
    UnitStatus.TRANSPORTING: "left_scene",
    UnitStatus.AT_HOSPITAL: "at_destination",
    UnitStatus.AVAILABLE: "back_in_service",
}


@dataclass(frozen=True)
class UnitResponse:
    """One unit's response to one incident, as NEMSIS eTimes (None: did not happen).

    Najda records no separate arrival at the patient nor transfer of care: eTimes.07 and
    eTimes.12 stay empty rather than being guessed. `out_of_service`: the unit left the
    response out of service (no eTimes.13).
    """

    incident_id: UUID
    unit_id: UUID
    call_sign: str
    kind: str
    priority: Priority
    lat: float
    lon: float
    call_received: datetime
    dispatch_notified: datetime
    unit_notified: datetime
    dispatch_acknowledged: datetime | None = None
    en_route: datetime | None = None
    on_scene: datetime | None = None
    at_patient: datetime | None = None
    left_scene: datetime | None = None
    at_destination: datetime | None = None
    transfer_of_care: datetime | None = None
    back_in_service: datetime | None = None
    cancelled: datetime | None = None
    first_on_scene: bool = False
    out_of_service: bool = False

    def interval_s(self, name: str) -> float | None:
        """The named interval in seconds, or None when either end is missing."""
        start_name, end_name = INTERVALS[name]
        start: datetime | None = getattr(self, start_name)
        end: datetime | None = getattr(self, end_name)
        if start is None or end is None:
            return None
        return (end - start).total_seconds()

    def intervals(self) -> dict[str, float | None]:
        """Every interval in seconds."""
        return {name: self.interval_s(name) for name in INTERVALS}


@dataclass
class _Incident:
    priority: Priority
    lat: float
    lon: float
    call_received: datetime
    reported_at: datetime
    open: dict[UUID, UnitResponse] = field(default_factory=dict)
    done: list[UnitResponse] = field(default_factory=list)


def unit_responses(entries: Sequence[TimelineEntry]) -> list[UnitResponse]:
    """The unit responses of one incident's timeline, in assignment order.

    Priority and location are the incident's final ones; `first_on_scene` marks the unit
    whose arrival ends the incident's response time.
    """
    state: _Incident | None = None
    for entry in entries:
        e = entry.event
        kind = entry.kind
        if kind == "Incident.Reported":
            state = _Incident(
                Priority(e.priority), e.location.lat, e.location.lon, e.call_received_at, e.at
            )
            continue
        if state is None:
            continue
        if kind == "Incident.PriorityChanged":
            state.priority = Priority(e.priority)
        elif kind == "Incident.LocationCorrected":
            state.lat, state.lon = e.location.lat, e.location.lon
        elif kind == "Incident.UnitAssigned":
            _finish(state, e.unit_id, None)
            state.open[e.unit_id] = UnitResponse(
                incident_id=entry.originator_id,
                unit_id=e.unit_id,
                call_sign=e.call_sign,
                kind=str(e.kind),
                priority=state.priority,
                lat=state.lat,
                lon=state.lon,
                call_received=state.call_received,
                dispatch_notified=state.reported_at,
                unit_notified=e.at,
            )
        elif kind == "Unit.Acknowledged":
            _acknowledged(state, entry.originator_id, e.incident_id, e.at)
        elif kind == "Unit.StatusChanged":
            _status(state, entry.originator_id, UnitStatus(e.status), e.at)
        elif kind in ("Unit.Released", "Incident.UnitReleased"):
            unit_id = entry.originator_id if kind == "Unit.Released" else e.unit_id
            _cancel(state, unit_id, e.at)
            _finish(state, unit_id, e.at)
        elif kind == "Incident.UnitCleared":
            _finish(state, e.unit_id, e.at)
    if state is None:
        return []
    for unit_id in list(state.open):
        _finish(state, unit_id, None)
    return _final(state)


def _acknowledged(state: _Incident, unit_id: UUID, incident_id: UUID, at: datetime) -> None:
    """eTimes.04: the crew acknowledged this dispatch (the first acknowledgement counts)."""
    current = state.open.get(unit_id)
    if current is None or current.incident_id != incident_id:
        return
    if current.dispatch_acknowledged is None:
        state.open[unit_id] = replace(current, dispatch_acknowledged=at)


def _cancel(state: _Incident, unit_id: UUID, at: datetime) -> None:
    """eTimes.14: the unit was taken off the incident before finishing its run."""
    current = state.open.get(unit_id)
    if current is not None and current.cancelled is None:
        state.open[unit_id] = replace(current, cancelled=at)


def _status(state: _Incident, unit_id: UUID, status: UnitStatus, at: datetime) -> None:
    if status is UnitStatus.OUT_OF_SERVICE:  # leaves the response, but not back in service
        current = state.open.pop(unit_id, None)
        if current is not None:
            state.done.append(replace(current, out_of_service=True))
        return
    current = state.open.get(unit_id)
    name = _STATUS_TIME.get(status)
    if current is None or name is None:
        return
    if getattr(current, name) is None:
        changes: dict[str, Any] = {name: at}
        state.open[unit_id] = replace(current, **changes)
    if name == "back_in_service":
        _finish(state, unit_id, at)


def _finish(state: _Incident, unit_id: UUID, at: datetime | None) -> None:
    current = state.open.pop(unit_id, None)
    if current is None:
        return
    if current.back_in_service is None and at is not None:
        current = replace(current, back_in_service=at)
    state.done.append(current)


def _final(state: _Incident) -> list[UnitResponse]:
    done = sorted(state.done, key=lambda r: (r.unit_notified, r.call_sign))
    arrived = [r for r in done if r.on_scene is not None]
    first = min(arrived, key=lambda r: (r.on_scene, r.call_sign)) if arrived else None
    return [
        replace(r, priority=state.priority, lat=state.lat, lon=state.lon, first_on_scene=r is first)
        for r in done
    ]
