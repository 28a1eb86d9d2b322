"""The live feed's part for remote care: hospital status messages, the places (stations and
hospitals) as they register, destinations offered to a crew when it starts transporting, and
teleconsult messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from najda.api.live.messages import encode, iso, place_json
from najda.api.live.subscribers import Message
from najda.api.views_care import destinations_public
from najda.domain.dispatch.hospital_status import HospitalStatus
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.projections.base import Tracked
from najda.projections.care.consult_queue import ConsultBook, OpenConsult
from najda.projections.dispatch.destinations import TravelTimes
from najda.projections.dispatch.read_model_changes import BoardRow, UnitRow
from najda.projections.dispatch.stations_hospitals import Place, ReferenceDirectory, status_of_event


def status_json(status: HospitalStatus) -> dict[str, Any]:
    """A hospital's status: ED status, beds by type, reason, who and when."""
    return {
        "ed_status": status.ed_status.value,
        "beds": dict(status.beds),
        "reason": status.reason,
        "updated_by": status.updated_by,
        "updated_at": None if status.updated_at is None else iso(status.updated_at),
    }


def hospital_json(place: Place, status: HospitalStatus) -> dict[str, Any]:
    """A hospital with its status."""
    return {**place_json(place), "status": status_json(status)}


def hospital_status_message(
    item: Tracked, base: dict[str, Any], reference: ReferenceDirectory
) -> Message | None:
    """The `hospital` message of a status update, as the event reports it."""
    place = reference.hospitals.get(item.originator_id)
    if place is None:
        return None
    services = tuple(item.event.services)
    shown = Place(
        place.id, place.code, place.name, place.lat, place.lon, place.registered_at, services
    )
    base["type"] = "hospital"
    base["hospital"] = hospital_json(shown, status_of_event(item.event))
    return Message(item.position, encode(base), ((place.lat, place.lon),))


def place_message(
    item: Tracked, base: dict[str, Any], reference: ReferenceDirectory
) -> Message | None:
    """The `station` or `hospital` message of a registration (None for a place unknown)."""
    kind = "station" if item.topic.startswith("najda:Station") else "hospital"
    places = reference.stations if kind == "station" else reference.hospitals
    place = places.get(item.originator_id)
    if place is None:
        return None
    base["type"] = kind
    base[kind] = place_json(place)
    if kind == "hospital":
        base[kind] = hospital_json(place, reference.hospital_status(place.id))
    return Message(item.position, encode(base), ((place.lat, place.lon),))


def destinations_json(
    unit: UnitRow,
    incident: BoardRow | None,
    reference: ReferenceDirectory,
    plan: ResponsePlan,
    travel: TravelTimes,
    now: datetime,
) -> dict[str, Any]:
    """The destinations offered to a unit where it is now (as GET /units/{unit}/destinations)."""
    ranked = destinations_public(unit, incident, None, reference, plan, travel, now)
    return ranked.model_dump(mode="json")


def destination_json(e: Any) -> dict[str, Any]:
    """The hospital a unit's crew chose (from its `Incident.DestinationChosen` event)."""
    return {
        "unit_id": str(e.unit_id),
        "call_sign": e.call_sign,
        "code": e.code,
        "name": e.name,
        "by": e.actor,
        "at": iso(e.at),
    }


def consult_json(found: OpenConsult) -> dict[str, Any]:
    """A teleconsult with its incident's id."""
    c = found.consult
    return {
        "id": str(c.consult_id),
        "incident_id": str(found.incident_id),
        "specialty": c.specialty.value,
        "status": c.status.value,
        "reason": c.reason,
        "requested_by": c.requested_by,
        "requested_at": iso(c.requested_at),
        "unit_id": None if c.unit_id is None else str(c.unit_id),
        "specialist": c.specialist,
        "started_at": None if c.started_at is None else iso(c.started_at),
        "ended_at": None if c.ended_at is None else iso(c.ended_at),
        "recommendation": c.recommendation,
        "closed_by": c.closed_by,
        "closing_reason": c.closing_reason,
    }


def consult_message(
    item: Tracked, base: dict[str, Any], book: ConsultBook, incident: BoardRow | None, build: bool
) -> Message | None:
    """Apply a teleconsult event to the feed's book; the `consult` message, for consoles,
    the crews of the units on the incident and the specialists in its specialty."""
    found = book.take(item)
    if found is None or not build:
        return None
    base["type"] = "consult"
    base["consult"] = consult_json(found)
    if incident is None:
        return Message(item.position, encode(base), specialty=found.consult.specialty.value)
    base["incident"] = {
        "id": str(incident.incident_id),
        "priority": incident.priority.value,
        "nature": incident.nature,
        "address": incident.address,
    }
    return Message(
        item.position,
        encode(base),
        ((incident.lat, incident.lon),),
        frozenset(u.unit_id for u in incident.units),
        specialty=found.consult.specialty.value,
    )


def specialist_snapshot(position: int, book: ConsultBook, specialties: frozenset[str]) -> str:
    """A specialist's snapshot: the open teleconsults in its specialties."""
    shown = [consult_json(c) for c in book.listed(specialties=specialties)]
    return encode({"type": "snapshot", "pos": position, "consults": shown})
