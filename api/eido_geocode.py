"""Locate an EIDO's civic address with the area's geocoder (when it carries no coordinates)."""

from __future__ import annotations

from collections.abc import Callable

from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.values import Position
from najda.geo.address_text import QueryError
from najda.projections.addresses.geocoder import Geocoder

#: A civic address names a street: a place or POI match is too vague to send units to.
CIVIC_PRECISIONS = frozenset({"address", "interpolated", "intersection", "street"})
#: The best candidate must score at least this (0..1) to be trusted.
MIN_CIVIC_SCORE = 0.5

Locate = Callable[[str], tuple[Position, LocationFix] | None]


def civic_query(address: str) -> str:
    """The civic address as a query: country and state codes (`US`, `DE`, `LI`) left out."""
    parts = [p.strip() for p in address.split(",") if p.strip()]
    while len(parts) > 1 and parts[-1].isupper() and parts[-1].isalpha() and len(parts[-1]) <= 3:
        parts.pop()
    return ", ".join(parts)


def civic_locator(geocoder: Geocoder) -> Locate:
    """A function giving the point and fix of a civic address, or None when not found well."""

    def locate(address: str) -> tuple[Position, LocationFix] | None:
        query = civic_query(address)
        try:
            found = geocoder.search(query, 1)
        except QueryError:
            return None
        if not found:
            return None
        best = found[0]
        if best.precision not in CIVIC_PRECISIONS or best.score < MIN_CIVIC_SCORE:
            return None
        if best.precision == "street" and best.note:  # the house number is not known there
            return None
        position = Position(best.lat, best.lon)
        return position, LocationFix.checked(address, best.label, best.precision, position)

    return locate
