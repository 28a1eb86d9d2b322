"""The Unit aggregate: a response team and its guarded status lifecycle."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from najda.domain.errors import InvalidTransition, UnitNotAvailable, UnitNotOnIncident
from najda.domain.values import Position, UnitKind, UnitStatus

UNIT_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a01")

S = UnitStatus

#: Status changes a crew or dispatcher may report directly. Dispatch happens only through an
#: assignment, and release only through a release; both have their own commands.
ALLOWED_STATUS_CHANGES: dict[UnitStatus, frozenset[UnitStatus]] = {
    S.AVAILABLE: frozenset({S.OUT_OF_SERVICE}),
    S.DISPATCHED: frozenset({S.EN_ROUTE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.AVAILABLE}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.AVAILABLE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE}),
}

#: Statuses from which a dispatcher may release (cancel) a unit back to available.
RELEASABLE: frozenset[UnitStatus] = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE})


def unit_id_for(call_sign: str) -> UUID:
    """Deterministic unit id from its call sign (case-insensitive natural key)."""
    return uuid5(UNIT_NAMESPACE, call_sign.strip().upper())


class Unit(Aggregate):
    """A response team (ambulance, crisis team, responder) with status and position."""

    TOPIC = "najda:Unit"

    class Created(Aggregate.Created):
        """Base of the unit's creation event (never stored itself)."""

        TOPIC = "najda:Unit.Created"

    @event("Registered", topic="najda:Unit.Registered")
    def __init__(
        self,
        *,
        id: UUID,
        call_sign: str,
        kind: UnitKind,
        capabilities: list[str],
        station_id: UUID | None,
        home: Position,
        actor: str,
        at: datetime,
    ) -> None:
        self.call_sign = call_sign
        self.kind = UnitKind(kind)
        self.capabilities = tuple(sorted(capabilities))
        self.station_id = station_id
        self.home = home
        self.position = home
        self.position_at = at
        self.status = UnitStatus.AVAILABLE
        self.incident_id: UUID | None = None
        self.acknowledged_incident_id: UUID | None = None
        self.status_at = at
        self.last_actor = actor
        self.post_id: UUID | None = None  # the station it was moved up to, if any

    # --- commands ------------------------------------------------------------------------

    def dispatch(self, incident_id: UUID, actor: str, at: datetime) -> None:
        """Commit the unit to an incident; only an available unit can be dispatched."""
        if self.status is not UnitStatus.AVAILABLE:
            raise UnitNotAvailable(self.call_sign, self.status.value)
        self._dispatched(incident_id=incident_id, actor=actor, at=at)

    def change_status(self, status: UnitStatus, actor: str, at: datetime, reason: str = "") -> None:
        """Move along the lifecycle; a refused change names the current and requested status."""
        status = UnitStatus(status)
        if status is UnitStatus.DISPATCHED:
            raise InvalidTransition(
                f"unit {self.call_sign}",
                self.status.value,
                status.value,
                "assign it to an incident",
            )
        if status not in ALLOWED_STATUS_CHANGES[self.status]:
            raise InvalidTransition(f"unit {self.call_sign}", self.status.value, status.value)
        self._status_changed(status=status, reason=reason, actor=actor, at=at)

    def release(self, incident_id: UUID, reason: str, actor: str, at: datetime) -> None:
        """Take the unit off its incident and make it available again."""
        if self.incident_id != incident_id:
            raise UnitNotOnIncident(self.call_sign, incident_id)
        if self.status not in RELEASABLE:
            raise InvalidTransition(
                f"unit {self.call_sign}",
                self.status.value,
                UnitStatus.AVAILABLE.value,
                "a unit transporting or at hospital finishes its run instead",
            )
        self._released(incident_id=incident_id, reason=reason, actor=actor, at=at)

    def acknowledge(self, actor: str, at: datetime) -> bool:
        """The crew confirms it received its assignment; False when already acknowledged."""
        if self.incident_id is None:
            raise InvalidTransition(
                f"unit {self.call_sign}", self.status.value, "acknowledged", "it has no assignment"
            )
        if self.acknowledged_incident_id == self.incident_id:
            return False
        self._acknowledged(incident_id=self.incident_id, actor=actor, at=at)
        return True

    def relocate(self, station_id: UUID, station_code: str, actor: str, at: datetime) -> None:
        """Move an available unit up to another station to wait there (a move-up)."""
        if self.status is not UnitStatus.AVAILABLE:
            raise InvalidTransition(
                f"unit {self.call_sign}", self.status.value, "relocated",
                "only an available unit is moved up",
            )
        self._relocated(station_id=station_id, station_code=station_code, actor=actor, at=at)

    def report_position(self, position: Position, actor: str, at: datetime) -> None:
        """Record a position worth keeping in the audit trail."""
        self._position_reported(position=position, actor=actor, at=at)

    # --- events --------------------------------------------------------------------------

    @event("Dispatched", topic="najda:Unit.Dispatched")
    def _dispatched(self, incident_id: UUID, actor: str, at: datetime) -> None:
        self.status = UnitStatus.DISPATCHED
        self.incident_id = incident_id
        self.status_at = at
        self.last_actor = actor

    @event("StatusChanged", topic="najda:Unit.StatusChanged")
    def _status_changed(self, status: UnitStatus, reason: str, actor: str, at: datetime) -> None:
        self.status = UnitStatus(status)
        if not self.status.is_committed:
            self.incident_id = None
        self.status_at = at
        self.last_actor = actor

    @event("Released", topic="najda:Unit.Released")
    def _released(self, incident_id: UUID, reason: str, actor: str, at: datetime) -> None:
        self.status = UnitStatus.AVAILABLE
        self.incident_id = None
        self.status_at = at
        self.last_actor = actor

    @event("Acknowledged", topic="najda:Unit.Acknowledged")
    def _acknowledged(self, incident_id: UUID, actor: str, at: datetime) -> None:
        self.acknowledged_incident_id = incident_id

    @event("Relocated", topic="najda:Unit.Relocated")
    def _relocated(self, station_id: UUID, station_code: str, actor: str, at: datetime) -> None:
        self.post_id = station_id
        self.last_actor = actor

    @event("PositionReported", topic="najda:Unit.PositionReported")
    def _position_reported(self, position: Position, actor: str, at: datetime) -> None:
        self.position = position
        self.position_at = at
