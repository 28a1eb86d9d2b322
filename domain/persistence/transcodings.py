"""JSON transcodings so stored events hold plain JSON for our value types."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from najda.domain.care.alerting import Reading
from najda.domain.care.vitals import Bounds, Vital
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.values import Position


class PositionAsList(Transcoding):
    """A Position is stored as [lat, lon]."""

    type = Position
    name = "position"

    def encode(self, obj: Position) -> list[float]:
        return [obj.lat, obj.lon]

    def decode(self, data: Any) -> Position:
        return Position(float(data[0]), float(data[1]))


class BoundsAsList(Transcoding):
    """A vital's alert bounds are stored as [critical_low, warning_low, warning_high,
    critical_high], null where not watched."""

    type = Bounds
    name = "vital_bounds"

    def encode(self, obj: Bounds) -> list[float | None]:
        return obj.as_list()

    def decode(self, data: Any) -> Bounds:
        return Bounds(*data)


class ReadingAsDict(Transcoding):
    """A vital-sign reading is stored as a plain object (its time as ISO 8601 text)."""

    type = Reading
    name = "vital_reading"

    def encode(self, obj: Reading) -> dict[str, Any]:
        return {
            "vital": obj.vital.value,
            "value": obj.value,
            "at": obj.at,
            "reported": obj.reported,
            "source": obj.source,
            "device": obj.device,
        }

    def decode(self, data: Any) -> Reading:
        return Reading(
            vital=Vital(data["vital"]),
            value=float(data["value"]),
            at=data["at"],
            reported=data["reported"],
            source=data["source"],
            device=data["device"],
        )


class LocationFixAsDict(Transcoding):
    """How a call's location was found, stored as a plain object."""

    type = LocationFix
    name = "location_fix"

    def encode(self, obj: LocationFix) -> dict[str, Any]:
        return {
            "typed": obj.typed,
            "label": obj.label,
            "precision": obj.precision,
            "lat": obj.position.lat,
            "lon": obj.position.lon,
        }

    def decode(self, data: Any) -> LocationFix:
        position = Position(float(data["lat"]), float(data["lon"]))
        return LocationFix(data["typed"], data["label"], data["precision"], position)


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding our events need (str enums are stored as their value)."""
    transcoder.register(PositionAsList())
    transcoder.register(BoundsAsList())
    transcoder.register(ReadingAsDict())
    transcoder.register(LocationFixAsDict())
