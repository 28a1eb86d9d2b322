"""The address index interface each store implements (SQLite FTS5, PostgreSQL pg_trgm), and
the rows it answers with; the geocoder (projections/addresses/geocoder.py) ranks them alike."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from najda.geo.address_text import normalise, parse_house_number
from najda.geo.area import Area

#: Kinds of named rows.
STREET, PLACE, POI = "street", "place", "poi"


@dataclass(frozen=True)
class NameRow:
    """A named street (per municipality), place or point of interest."""

    id: int
    kind: str
    name: str
    norm: str
    municipality: str
    lat: float
    lon: float
    detail: str = ""  # place kind, or POI category and address


@dataclass(frozen=True)
class AddressRow:
    """A house number on a street row."""

    street_id: int
    housenumber: str
    number: int
    suffix: str
    lat: float
    lon: float
    postcode: str
    municipality: str


@dataclass(frozen=True)
class CrossingRow:
    """Where two street rows meet."""

    a: int
    b: int
    lat: float
    lon: float
    municipality: str


@dataclass(frozen=True)
class NearestStreet:
    """The street nearest a point, the closest point on it and how far it is."""

    street: NameRow
    lat: float
    lon: float
    distance_m: float


@dataclass(frozen=True)
class NearestAddress:
    """The address nearest a point, its street and how far it is."""

    address: AddressRow
    street: NameRow
    distance_m: float


class AddressIndex(Protocol):
    """What each store provides to the geocoder."""

    def replace(self, area: Area) -> None:
        """Replace the whole index with the area's, atomically (all or nothing)."""
        ...

    def fingerprint(self) -> str:
        """The fingerprint of the area the index holds ('' when empty)."""
        ...

    def names(self, text: str, limit: int) -> list[NameRow]:
        """Up to `limit` rows whose normalised name shares the most trigrams with `text`."""
        ...

    def bare_trigram_query(self, text: str, limit: int) -> list[int]:
        """The store's plain trigram query alone (benchmarks' baseline): row ids."""
        ...

    def rows(self, ids: Sequence[int]) -> list[NameRow]:
        """Named rows by id."""
        ...

    def addresses_on(self, street_ids: Sequence[int], number: int) -> list[AddressRow]:
        """The addresses on these streets with this number or the nearest numbers around it."""
        ...

    def crossing_streets(self, a_ids: Sequence[int]) -> list[tuple[CrossingRow, NameRow]]:
        """Each crossing of a street of `a_ids`, with the street row it crosses (`b`)."""
        ...

    def postcodes(self) -> dict[str, list[str]]:
        """Each postcode and the municipalities its addresses lie in."""
        ...

    def nearest_address(self, lat: float, lon: float, within_m: float) -> NearestAddress | None:
        """The nearest address within `within_m` metres."""
        ...

    def nearest_street(self, lat: float, lon: float) -> NearestStreet | None:
        """The nearest named street."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class IndexRows:
    """The rows an area loads into an index, numbered the same for every store."""

    names: list[NameRow]
    addresses: list[AddressRow]
    crossings: list[CrossingRow]
    segments: list[tuple[int, float, float, float, float]]  # street id, lat1, lon1, lat2, lon2


def index_rows(area: Area) -> IndexRows:
    """Number the area's streets, places and POIs, and link addresses and crossings to them."""
    names: list[NameRow] = []
    by_key: dict[tuple[str, str], int] = {}
    by_name: dict[str, list[int]] = {}
    segments: list[tuple[int, float, float, float, float]] = []

    def add(kind: str, name: str, municipality: str, lat: float, lon: float, detail: str) -> int:
        row = NameRow(len(names) + 1, kind, name, normalise(name), municipality, lat, lon, detail)
        names.append(row)
        return row.id

    for street in area.streets:
        sid = add(STREET, street.name, street.municipality, street.lat, street.lon, "")
        by_key[(street.name, street.municipality)] = sid
        by_name.setdefault(street.name, []).append(sid)
        for line in street.lines:
            for (x1, y1), (x2, y2) in itertools.pairwise(line):
                segments.append((sid, y1, x1, y2, x2))
    for place in area.places:
        add(PLACE, place.name, place.municipality, place.lat, place.lon, place.kind)
    for poi in area.pois:
        add(POI, poi.name, poi.municipality, poi.lat, poi.lon, f"{poi.category}|{poi.address}")
    addresses = []
    for a in area.addresses:
        found = _street_for(a.street, a.municipality, a.lat, a.lon, by_key, by_name, names)
        if found is None:  # addr:place or a street drawn nowhere: the name alone, as a street
            found = add(STREET, a.street, a.municipality, a.lat, a.lon, "")
        sid = found
        if by_key.setdefault((a.street, a.municipality), sid) == sid and sid not in by_name.get(
            a.street, []
        ):
            by_name.setdefault(a.street, []).append(sid)
        number = parse_house_number(a.housenumber)
        addresses.append(
            AddressRow(
                sid,
                a.housenumber,
                number.number if number else -1,
                number.suffix if number else "",
                a.lat,
                a.lon,
                a.postcode,
                a.municipality,
            )
        )
    crossings = []
    for c in area.crossings:
        sa = _street_for(c.a, c.municipality, c.lat, c.lon, by_key, by_name, names)
        sb = _street_for(c.b, c.municipality, c.lat, c.lon, by_key, by_name, names)
        if sa is not None and sb is not None and sa != sb:
            crossings.append(CrossingRow(sa, sb, c.lat, c.lon, c.municipality))
    return IndexRows(names, addresses, crossings, segments)


def _street_for(
    name: str,
    municipality: str,
    lat: float,
    lon: float,
    by_key: dict[tuple[str, str], int],
    by_name: dict[str, list[int]],
    names: list[NameRow],
) -> int | None:
    """The street row of that name in that municipality, else the nearest of that name."""
    sid = by_key.get((name, municipality))
    if sid is None and by_name.get(name):
        sid = min(by_name[name], key=lambda i: _d2(names[i - 1], lat, lon))
    return sid


def _d2(row: NameRow, lat: float, lon: float) -> float:
    return (row.lat - lat) ** 2 + (row.lon - lon) ** 2


def chunks(items: Sequence[object], size: int) -> Iterator[Sequence[object]]:
    """Slices of at most `size` items."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def area_fingerprint(area: Area) -> str:
    """Identifies an imported area's content (its source and counts)."""
    counts = ",".join(f"{k}={v}" for k, v in sorted(area.counts().items()))
    return f"{area.name}|{area.source.get('sha256', '')}|{counts}"
