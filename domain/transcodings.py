"""JSON transcodings so stored events hold plain JSON for our value types."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.values import Position


class PositionAsList(Transcoding):
    """A Position is stored as [lat, lon]."""

    type = Position
    name = "position"

    def encode(self, obj: Position) -> list[float]:
        return [obj.lat, obj.lon]

    def decode(self, data: Any) -> Position:
        return Position(float(data[0]), float(data[1]))


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding our events need (str enums are stored as their value)."""
    transcoder.register(PositionAsList())
