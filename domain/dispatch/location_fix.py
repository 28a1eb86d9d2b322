"""How a call's location was found: the text typed, the geocoder's label, point and precision."""

from __future__ import annotations

from dataclasses import dataclass

from najda.domain.errors import InvalidValue
from najda.domain.values import Position

#: Precisions a location can be fixed with (the geocoder's, or typed coordinates, or a map click).
PRECISIONS = frozenset(
    {"address", "interpolated", "street", "intersection", "place", "poi", "coordinates", "map"}
)
MAX_TEXT = 300


@dataclass(frozen=True)
class LocationFix:
    """The typed text, the chosen candidate's label, its point and precision."""

    typed: str
    label: str
    precision: str
    position: Position

    @classmethod
    def checked(cls, typed: str, label: str, precision: str, position: Position) -> LocationFix:
        """A fix with its fields validated (InvalidValue names the field)."""
        if precision not in PRECISIONS:
            raise InvalidValue(
                "location_fix.precision", f"must be one of {', '.join(sorted(PRECISIONS))}"
            )
        for field, text in (("typed", typed), ("label", label)):
            if len(text) > MAX_TEXT:
                raise InvalidValue(f"location_fix.{field}", f"at most {MAX_TEXT} characters")
        return cls(typed.strip(), label.strip(), precision, position)
