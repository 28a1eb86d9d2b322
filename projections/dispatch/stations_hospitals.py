"""In-memory directory of stations and hospitals, fed from the notification log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.domain.dispatch.hospital_status import EdStatus, HospitalStatus
from najda.domain.dispatch.stations_hospitals import Hospital, Station
from najda.projections.base import Tracked


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
    """Stations and hospitals by id, hospitals with their status (rebuilt by catch-up at
    start; reference data is small)."""

    name = "reference_directory"
    SAVED_FIELDS = ("stations", "hospitals", "statuses", "_position")

    def __init__(self) -> None:
        self.stations: dict[UUID, Place] = {}
        self.hospitals: dict[UUID, Place] = {}
        self.statuses: dict[UUID, HospitalStatus] = {}
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self.stations.clear()
        self.hospitals.clear()
        self.statuses.clear()
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
            elif item.topic == "najda:Hospital.StatusUpdated":
                self._status_updated(item)
            self._position = item.position

    def _status_updated(self, item: Tracked) -> None:
        e = item.event
        self.statuses[item.originator_id] = status_of_event(e)
        place = self.hospitals.get(item.originator_id)
        if place is not None:
            self.hospitals[item.originator_id] = replace(place, services=tuple(e.services))

    def hospital_status(self, hospital_id: UUID) -> HospitalStatus:
        """A hospital's last reported status (normal, beds unknown, until one is reported)."""
        return self.statuses.get(hospital_id) or HospitalStatus()

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


def status_of_event(e: Any) -> HospitalStatus:
    """The status a Hospital.StatusUpdated event reports."""
    return HospitalStatus(
        ed_status=EdStatus(e.ed_status),
        beds=dict(e.beds),
        reason=e.reason,
        updated_by=e.actor,
        updated_at=e.at,
    )


def status_of(hospital: Hospital) -> HospitalStatus:
    """The status read straight from the aggregate."""
    return HospitalStatus(
        ed_status=hospital.ed_status,
        beds=dict(hospital.beds),
        reason=hospital.status_reason,
        updated_by=hospital.status_by,
        updated_at=hospital.status_at,
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
