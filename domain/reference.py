"""Reference data aggregates: stations and hospitals with their locations."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.values import Position

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
    """A receiving hospital."""

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
