"""Pure translation of domain events into read-model changes, shared by every store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.values import IncidentSource, Priority, UnitKind, UnitStatus
from najda.projections.base import Tracked

_STATUSES = {s.value: s for s in UnitStatus}
_KINDS = {k.value: k for k in UnitKind}
_PRIORITIES = {p.value: p for p in Priority}


def unit_status(value: Any) -> UnitStatus:
    """The status an event names (a table look-up: rebuilds translate millions of them)."""
    found = _STATUSES.get(value)
    return found if found is not None else UnitStatus(value)


def unit_kind(value: Any) -> UnitKind:
    """The unit kind an event names."""
    found = _KINDS.get(value)
    return found if found is not None else UnitKind(value)


def priority_of(value: Any) -> Priority:
    """The priority an event names."""
    found = _PRIORITIES.get(value)
    return found if found is not None else Priority(value)


@dataclass(frozen=True)
class UnitRow:
    """One unit as the locator sees it."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: tuple[str, ...]
    station_id: UUID | None
    status: UnitStatus
    incident_id: UUID | None
    lat: float
    lon: float
    position_at: datetime
    status_at: datetime

    @property
    def available(self) -> bool:
        """True when the unit can be recommended."""
        return self.status is UnitStatus.AVAILABLE


@dataclass(frozen=True)
class BoardUnit:
    """A unit working an incident, as shown on the incident board."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    status: UnitStatus


@dataclass(frozen=True)
class BoardRow:
    """One open incident on the incident board."""

    incident_id: UUID
    priority: Priority
    determinant: str
    nature: str
    address: str
    lat: float
    lon: float
    source: str
    call_received_at: datetime
    updated_at: datetime
    dispatched: bool = False
    units: tuple[BoardUnit, ...] = field(default_factory=tuple)

    @property
    def status(self) -> str:
        """Pending, or the most advanced status among the units on it."""
        if not self.units:
            return "dispatched (no units)" if self.dispatched else "pending"
        order = list(UnitStatus)
        return max((u.status for u in self.units), key=order.index).value


# --- locator changes ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitUpserted:
    """A unit joined the roster."""

    row: UnitRow


@dataclass(frozen=True)
class UnitStatusSet:
    """A unit's status (and incident) changed."""

    unit_id: UUID
    status: UnitStatus
    incident_id: UUID | None
    at: datetime


@dataclass(frozen=True)
class UnitMoved:
    """A unit reported a position; applied only if newer than the one held."""

    unit_id: UUID
    lat: float
    lon: float
    at: datetime


LocatorChange = UnitUpserted | UnitStatusSet | UnitMoved


#: The topics of the events `locator_change` reads; it ignores every other event.
LOCATOR_TOPICS = (
    "najda:Unit.Registered",
    "najda:Unit.Dispatched",
    "najda:Unit.StatusChanged",
    "najda:Unit.Released",
    "najda:Unit.PositionReported",
)


def locator_change(item: Tracked) -> LocatorChange | None:
    """The locator's change for one event, or None when the event does not concern it."""
    e = item.event
    topic = item.topic
    if topic == "najda:Unit.Registered":
        return UnitUpserted(
            UnitRow(
                unit_id=item.originator_id,
                call_sign=e.call_sign,
                kind=unit_kind(e.kind),
                capabilities=tuple(sorted(e.capabilities)),
                station_id=e.station_id,
                status=UnitStatus.AVAILABLE,
                incident_id=None,
                lat=e.home.lat,
                lon=e.home.lon,
                position_at=e.at,
                status_at=e.at,
            )
        )
    if topic == "najda:Unit.Dispatched":
        return UnitStatusSet(item.originator_id, UnitStatus.DISPATCHED, e.incident_id, e.at)
    if topic == "najda:Unit.StatusChanged":
        status = unit_status(e.status)
        # The incident link survives committed statuses; the store keeps it (None = unchanged).
        return UnitStatusSet(item.originator_id, status, None, e.at)
    if topic == "najda:Unit.Released":
        return UnitStatusSet(item.originator_id, UnitStatus.AVAILABLE, None, e.at)
    if topic == "najda:Unit.PositionReported":
        return UnitMoved(item.originator_id, e.position.lat, e.position.lon, e.at)
    return None


def next_incident_id(current: UUID | None, change: UnitStatusSet) -> UUID | None:
    """The unit's incident after a status change (kept while committed, cleared otherwise)."""
    if not change.status.is_committed:
        return None
    return change.incident_id if change.incident_id is not None else current


def fold_unit_row(row: UnitRow, change: UnitStatusSet | UnitMoved) -> UnitRow:
    """One change applied to a unit row: the unit projection's folding rule, written once
    for every holder of unit rows (the embedded and PostGIS locators, the live feed).
    Returns `row` itself when the change is a position no newer than the one held."""
    # The rows are built field by field: `dataclasses.replace` costs several times more,
    # and a simulation folds a few thousand changes a simulated day.
    if isinstance(change, UnitStatusSet):
        return UnitRow(
            row.unit_id, row.call_sign, row.kind, row.capabilities, row.station_id,
            change.status, next_incident_id(row.incident_id, change),
            row.lat, row.lon, row.position_at, change.at,
        )
    if change.at > row.position_at:
        return UnitRow(
            row.unit_id, row.call_sign, row.kind, row.capabilities, row.station_id,
            row.status, row.incident_id, change.lat, change.lon, change.at, row.status_at,
        )
    return row


# --- board changes --------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentOpened:
    """A new incident was reported."""

    row: BoardRow


@dataclass(frozen=True)
class IncidentPatched:
    """Some incident fields changed (names match BoardRow)."""

    incident_id: UUID
    fields: dict[str, object]
    at: datetime


@dataclass(frozen=True)
class IncidentUnitAdded:
    """A unit was assigned to the incident."""

    incident_id: UUID
    unit: BoardUnit
    at: datetime


@dataclass(frozen=True)
class IncidentUnitRemoved:
    """A unit was released from, or cleared, the incident."""

    incident_id: UUID
    unit_id: UUID
    at: datetime


@dataclass(frozen=True)
class BoardUnitStatus:
    """A unit's status changed; the incident holding it shows the new status."""

    unit_id: UUID
    status: UnitStatus
    at: datetime


@dataclass(frozen=True)
class IncidentEnded:
    """The incident was closed or cancelled and leaves the board."""

    incident_id: UUID


BoardChange = (
    IncidentOpened
    | IncidentPatched
    | IncidentUnitAdded
    | IncidentUnitRemoved
    | BoardUnitStatus
    | IncidentEnded
)


def reported_row(incident_id: UUID, e: Any) -> BoardRow:
    """The board row an Incident.Reported event opens."""
    return BoardRow(
        incident_id=incident_id,
        priority=priority_of(e.priority),
        determinant=e.determinant,
        nature=e.nature,
        address=e.address,
        lat=e.location.lat,
        lon=e.location.lon,
        source=IncidentSource(e.source).value,
        call_received_at=e.call_received_at,
        updated_at=e.at,
    )


def board_change(item: Tracked) -> BoardChange | None:
    """The board's change for one event, or None when the event does not concern it."""
    e = item.event
    topic = item.topic
    iid = item.originator_id
    if topic == "najda:Incident.Reported":
        return IncidentOpened(reported_row(iid, e))
    if topic == "najda:Incident.PriorityChanged":
        fields: dict[str, object] = {
            "priority": priority_of(e.priority),
            "determinant": e.determinant,
        }
        return IncidentPatched(iid, fields, e.at)
    if topic == "najda:Incident.LocationCorrected":
        fields = {"lat": e.location.lat, "lon": e.location.lon, "address": e.address}
        return IncidentPatched(iid, fields, e.at)
    if topic == "najda:Incident.NoteAdded":
        return IncidentPatched(iid, {}, e.at)
    if topic == "najda:Incident.UnitAssigned":
        unit = BoardUnit(e.unit_id, e.call_sign, unit_kind(e.kind), UnitStatus.DISPATCHED)
        return IncidentUnitAdded(iid, unit, e.at)
    if topic in ("najda:Incident.UnitReleased", "najda:Incident.UnitCleared"):
        return IncidentUnitRemoved(iid, e.unit_id, e.at)
    if topic in ("najda:Incident.Closed", "najda:Incident.Cancelled"):
        return IncidentEnded(iid)
    if topic == "najda:Unit.StatusChanged":
        status = unit_status(e.status)
        if status.is_committed:
            return BoardUnitStatus(item.originator_id, status, e.at)
    return None
