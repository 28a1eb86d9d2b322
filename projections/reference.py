"""In-memory directory of stations and hospitals, fed from the notification log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.reference import Hospital, Station
from projections.base import Tracked


@dataclass(frozen=True)
class Place:
    """A station or hospital as listed by the API."""

    id: UUID
    code: str
    name: str
    lat: float
    lon: float
    registered_at: datetime
    services: tuple[str, ...] = ()


class ReferenceDirectory:
    """Stations and hospitals by id (rebuilt by catch-up at start; reference data is small)."""

    name = "reference_directory"

    def __init__(self) -> None:
        self.stations: dict[UUID, Place] = {}
        self.hospitals: dict[UUID, Place] = {}
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self.stations.clear()
        self.hospitals.clear()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            if item.topic == "najda:Station.Registered":
                self.stations[item.originator_id] = _place(item)
            elif item.topic == "najda:Hospital.Registered":
                place = _place(item, tuple(item.event.services))
                self.hospitals[item.originator_id] = place
            self._position = item.position

    def list_stations(self) -> list[Place]:
        """Every station, by code."""
        return sorted(self.stations.values(), key=lambda p: p.code)

    def list_hospitals(self) -> list[Place]:
        """Every hospital, by code."""
        return sorted(self.hospitals.values(), key=lambda p: p.code)


def place_of(aggregate: Station | Hospital) -> Place:
    """The listing of a station or hospital read straight from its aggregate."""
    return Place(
        id=aggregate.id,
        code=aggregate.code,
        name=aggregate.name,
        lat=aggregate.location.lat,
        lon=aggregate.location.lon,
        registered_at=aggregate.registered_at,
        services=tuple(getattr(aggregate, "services", ())),
    )


def _place(item: Tracked, services: tuple[str, ...] = ()) -> Place:
    e = item.event
    return Place(
        id=item.originator_id,
        code=e.code,
        name=e.name,
        lat=e.location.lat,
        lon=e.location.lon,
        registered_at=e.at,
        services=services,
    )
