"""Compact JSON shapes of units, incidents and recommendations for live messages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from najda.api.views import hold_public
from najda.projections.dispatch.locator import Candidate
from najda.projections.dispatch.read_model_changes import BoardRow, UnitRow
from najda.projections.dispatch.recommendations import Recommendation
from najda.projections.dispatch.stations_hospitals import Place


def iso(at: datetime) -> str:
    """UTC time in ISO 8601 with milliseconds."""
    return at.isoformat(timespec="milliseconds")


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text of one message."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(value: object) -> object:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def unit_json(row: UnitRow, stale: bool, acknowledged: bool = False) -> dict[str, Any]:
    """A unit with status, incident, latest position, the stale flag, and whether its crew
    acknowledged its current assignment."""
    return {
        "id": str(row.unit_id),
        "call_sign": row.call_sign,
        "kind": row.kind.value,
        "capabilities": list(row.capabilities),
        "station_id": None if row.station_id is None else str(row.station_id),
        "status": row.status.value,
        "incident_id": None if row.incident_id is None else str(row.incident_id),
        "lat": row.lat,
        "lon": row.lon,
        "position_at": iso(row.position_at),
        "status_at": iso(row.status_at),
        "stale": stale,
        "acknowledged": acknowledged,
    }


def incident_json(
    row: BoardRow,
    notes: list[dict[str, Any]] | None,
    open_: bool,
    note_count: int = 0,
    short: list[str] | None = None,
    finished: bool = False,
) -> dict[str, Any]:
    """An incident with location, nature, priority, status, units, how many notes it has and,
    when given (snapshots, assignments), the notes themselves; the labels of the response
    plan's requirements its units leave unfilled, and whether a unit finished its work there
    (cleared, as opposed to released)."""
    body = {
        "id": str(row.incident_id),
        "open": open_,
        "priority": row.priority.value,
        "determinant": row.determinant,
        "nature": row.nature,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "source": row.source,
        "status": row.status,
        "call_received_at": iso(row.call_received_at),
        "updated_at": iso(row.updated_at),
        "units": [
            {
                "unit_id": str(u.unit_id),
                "call_sign": u.call_sign,
                "kind": u.kind.value,
                "status": u.status.value,
            }
            for u in row.units
        ],
        "note_count": len(notes) if notes is not None else note_count,
        "short": short or [],
        "finished": finished,
    }
    if notes is not None:
        body["notes"] = notes
    return body


def place_json(place: Place) -> dict[str, Any]:
    """A station or hospital."""
    return {
        "id": str(place.id),
        "code": place.code,
        "name": place.name,
        "lat": place.lat,
        "lon": place.lon,
        "services": list(place.services),
    }


def report_json(rec: Recommendation) -> dict[str, Any]:
    """What a report's message adds: the recommendation's lines and the policy's hold (null:
    dispatch now), the hold in the REST answer's shape (HoldPublic)."""
    hold = None if rec.hold is None else hold_public(rec.hold).model_dump(mode="json")
    return {"recommendation": recommendation_json(rec), "hold": hold}


def recommendation_json(rec: Recommendation) -> list[dict[str, Any]]:
    """Requirement by requirement: its state and the proposed units with distance and ETA."""

    def candidate(c: Candidate) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit_id": str(c.unit_id),
            "call_sign": c.call_sign,
            "kind": c.kind.value,
            "distance_m": round(c.distance_m, 1),
            "eta_s": round(c.eta_s, 1),
        }
        impact = rec.impacts.get(c.unit_id)
        if impact is not None:
            out["coverage"] = impact.text
        return out

    return [
        {
            "label": line.requirement.label,
            "count": line.requirement.count,
            "state": line.state.value,
            "filled": line.filled,
            "proposed": [candidate(c) for c in line.proposed],
            "substitute": candidate(line.substitute) if line.substitute else None,
        }
        for line in rec.lines
    ]
