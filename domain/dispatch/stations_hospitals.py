"""Reference data aggregates: stations and hospitals with their locations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from najda.domain.dispatch.hospital_status import EdStatus, StatusChange
from najda.domain.values import Position

STATION_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a02")
HOSPITAL_NAMESPACE = UUID("6f1c3c1e-55a3-4c43-9d1e-7b0c7f6a1a03")


def station_id_for(code: str) -> UUID:
    """Deterministic station id from its code."""
    return uuid5(STATION_NAMESPACE, code.strip().upper())


def hospital_id_for(code: str) -> UUID:
    """Deterministic hospital id from its code."""
    return uuid5(HOSPITAL_NAMESPACE, code.strip().upper())


class Station(Aggregate):
    """A station where units are based."""

    TOPIC = "najda:Station"

    class Created(Aggregate.Created):
        """Base of the station's creation event (never stored itself)."""

        TOPIC = "najda:Station.Created"

    @event("Registered", topic="najda:Station.Registered")
    def __init__(
        self,
        *,
        id: UUID,
        code: str,
        name: str,
        location: Position,
        actor: str,
        at: datetime,
    ) -> None:
        self.code = code
        self.name = name
        self.location = location
        self.registered_at = at


class Hospital(Aggregate):
    """A receiving hospital, with its emergency department status and available beds."""

    TOPIC = "najda:Hospital"

    class Created(Aggregate.Created):
        """Base of the hospital's creation event (never stored itself)."""

        TOPIC = "najda:Hospital.Created"

    @event("Registered", topic="najda:Hospital.Registered")
    def __init__(
        self,
        *,
        id: UUID,
        code: str,
        name: str,
        location: Position,
        services: list[str],
        actor: str,
        at: datetime,
    ) -> None:
        self.code = code
        self.name = name
        self.location = location
        self.services = tuple(sorted(services))
        self.registered_at = at
        self.ed_status = EdStatus.NORMAL
        self.beds: dict[str, int] = {}
        self.status_reason = ""
        self.status_by: str | None = None
        self.status_at: datetime | None = None

    def update_status(self, change: StatusChange, actor: str, at: datetime) -> None:
        """Record a checked status change; the event holds the whole resulting status."""
        self._status_updated(
            ed_status=EdStatus(change.ed_status or self.ed_status),
            beds={**self.beds, **(change.beds or {})},
            services=list(self.services if change.services is None else change.services),
            reason=change.reason,
            actor=actor,
            at=at,
        )

    @event("StatusUpdated", topic="najda:Hospital.StatusUpdated")
    def _status_updated(
        self,
        ed_status: EdStatus,
        beds: dict[str, int],
        services: list[str],
        reason: str,
        actor: str,
        at: datetime,
    ) -> None:
        self.ed_status = EdStatus(ed_status)
        self.beds = dict(beds)
        self.services = tuple(services)
        self.status_reason = reason
        self.status_by = actor
        self.status_at = at
