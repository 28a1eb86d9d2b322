"""The geocoder: reads a query, asks the store's address index for candidates and ranks them
with the rules of geo/geocode_rules.py (the same ranking for every store)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from najda.geo.address_text import HouseNumber, Query, QueryError, normalise, read_query
from najda.geo.geocode_rules import (
    KIND_BONUS,
    MAX_INTERPOLATION_GAP,
    MIN_SCORE,
    MUNICIPALITY_BONUS,
    OTHER_MUNICIPALITY_PENALTY,
    STREET_FOR_NUMBER,
    interpolate,
    name_score,
    near_bonus,
    split_municipality,
)
from najda.geo.planar import point_m
from najda.projections.addresses.index import PLACE, POI, STREET, AddressIndex, AddressRow, NameRow

#: Precisions, best first.
PRECISIONS = ("address", "interpolated", "intersection", "street", "poi", "place")
#: Reverse geocoding returns an address only this close.
ADDRESS_RADIUS_M = 50.0
CANDIDATES = 30
MAX_LIMIT = 50

__all__ = ["Candidate", "Geocoder", "QueryError", "Reverse"]


@dataclass(frozen=True)
class Candidate:
    """One answer to a query."""

    label: str
    lat: float
    lon: float
    precision: str
    municipality: str
    score: float
    note: str = ""


@dataclass(frozen=True)
class Reverse:
    """What is at a point: the nearest address (within 50 m) or the nearest named street."""

    label: str
    lat: float
    lon: float
    precision: str
    municipality: str
    distance_m: float


def street_label(row: NameRow) -> str:
    """`Zollstrasse, Vaduz`."""
    return f"{row.name}, {row.municipality}" if row.municipality else row.name


def address_label(street: NameRow, housenumber: str, postcode: str, municipality: str) -> str:
    """`Zollstrasse 56, 9490 Vaduz`."""
    town = " ".join(p for p in (postcode, municipality or street.municipality) if p)
    return f"{street.name} {housenumber}" + (f", {town}" if town else "")


def name_label(row: NameRow) -> str:
    """A place or POI as a dispatcher reads it."""
    if row.kind == POI:
        address = row.detail.split("|", 1)[1] if "|" in row.detail else ""
        where = address if address and address != row.municipality else row.municipality
        return f"{row.name}, {where}" if where else row.name
    if row.municipality and row.municipality != row.name:
        return f"{row.name}, {row.municipality}"
    return row.name


class Geocoder:
    """Search and reverse geocoding over one store's address index."""

    def __init__(self, index: AddressIndex, municipalities: list[str]) -> None:
        self.index = index
        self.municipalities = [normalise(m) for m in municipalities]
        self._names = dict(zip(self.municipalities, municipalities, strict=True))
        #: Each row municipality's normalised form (a few per area, asked for every candidate).
        self._folded: dict[str, str] = {}
        self._postcodes: dict[str, list[str]] | None = None
        self._lock = threading.Lock()

    def postcodes(self) -> dict[str, list[str]]:
        """Known postcodes and their municipalities (read once)."""
        with self._lock:
            if self._postcodes is None:
                self._postcodes = self.index.postcodes()
            return self._postcodes

    def search(
        self, text: str, limit: int = 5, near: tuple[float, float] | None = None
    ) -> list[Candidate]:
        """Candidates for a typed location, best first (QueryError when it is unusable)."""
        postcodes = self.postcodes()
        query = read_query(text, frozenset(postcodes))
        found: list[Candidate] = []
        if query.crossing is not None:
            found = self._crossings(query, near)
        if not found:
            found = self._named(query, near)
        found.sort(key=lambda c: (-c.score, PRECISIONS.index(c.precision), c.label))
        unique: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        for c in found:
            if (c.label, c.precision) not in seen:
                seen.add((c.label, c.precision))
                unique.append(c)
        return unique[:limit]

    def _hint(self, query: Query) -> tuple[str, str | None]:
        words, municipality = split_municipality(query.words, self.municipalities)
        if municipality is None and query.postcode is not None:
            towns = self.postcodes().get(query.postcode, [])
            if len(towns) == 1:
                municipality = normalise(towns[0])
        return words, municipality

    def _score(
        self, words: str, row: NameRow, municipality: str | None, near: tuple[float, float] | None
    ) -> float:
        score = name_score(words, row.norm)
        if municipality is not None:
            folded = self._folded.get(row.municipality)
            if folded is None:
                folded = self._folded[row.municipality] = normalise(row.municipality)
            if folded == municipality:
                score += MUNICIPALITY_BONUS
            else:
                score -= OTHER_MUNICIPALITY_PENALTY
        if near is not None:
            score += near_bonus(point_m(near[0], near[1], row.lat, row.lon))
        kind = row.detail if row.kind == PLACE else row.kind
        return score + KIND_BONUS.get(kind, 0.0)

    def _named(self, query: Query, near: tuple[float, float] | None) -> list[Candidate]:
        words, municipality = self._hint(query)
        if not words:
            return []
        rows = self.index.names(words, CANDIDATES)
        scored = sorted(
            ((self._score(words, r, municipality, near), r) for r in rows),
            key=lambda pair: (-pair[0], pair[1].id),
        )
        scored = [(s, r) for s, r in scored if s >= MIN_SCORE]
        out: list[Candidate] = []
        if query.number is not None:
            streets = [(s, r) for s, r in scored if r.kind == STREET and s >= STREET_FOR_NUMBER]
            out += self._numbers(query.number, streets[:6])
        for score, row in scored:
            if row.kind == STREET:
                note = ""
                if query.number is not None:
                    note = f"house number {query.number.text} not found: the street"
                    score -= 0.1
                out.append(
                    Candidate(street_label(row), row.lat, row.lon, "street", row.municipality,
                              _round(score), note)
                )  # fmt: skip
            else:
                if query.number is not None:
                    score -= 0.15
                precision = "poi" if row.kind == POI else "place"
                out.append(
                    Candidate(name_label(row), row.lat, row.lon, precision, row.municipality,
                              _round(score))
                )  # fmt: skip
        return out

    def _numbers(
        self, number: HouseNumber, streets: list[tuple[float, NameRow]]
    ) -> list[Candidate]:
        """Exact house numbers on the best streets, else one interpolated between neighbours."""
        by_id = {r.id: (s, r) for s, r in streets}
        rows = self.index.addresses_on(list(by_id), number.number)
        out: list[Candidate] = []
        for sid, (score, street) in by_id.items():
            on = [a for a in rows if a.street_id == sid]
            exact = [a for a in on if a.number == number.number]
            exact.sort(key=lambda a: (a.suffix != number.suffix, a.suffix, a.lat))
            if exact:
                best = exact[0]
                bonus = 0.2 if best.suffix == number.suffix else 0.1
                out.append(self._address(street, best, best.housenumber, score + bonus))
                continue
            spot = _interpolated(number.number, on)
            if spot is not None:
                lat, lon, postcode = spot
                label = address_label(street, number.text, postcode, street.municipality)
                out.append(
                    Candidate(label, lat, lon, "interpolated", street.municipality,
                              _round(score + 0.1), "position estimated between house numbers")
                )  # fmt: skip
        return out

    @staticmethod
    def _address(street: NameRow, a: AddressRow, housenumber: str, score: float) -> Candidate:
        label = address_label(street, housenumber, a.postcode, a.municipality)
        return Candidate(label, a.lat, a.lon, "address", a.municipality or street.municipality,
                         _round(score))  # fmt: skip

    def _crossings(self, query: Query, near: tuple[float, float] | None) -> list[Candidate]:
        assert query.crossing is not None
        a_words, b_words = (split_municipality(p, self.municipalities)[0] for p in query.crossing)
        # One trigram search, for the first street; the second is looked for among the streets
        # that cross the first's candidates (an index lookup, not a second trigram search).
        a_side: dict[int, tuple[float, NameRow]] = {}
        for r in self.index.names(a_words, CANDIDATES):
            score = name_score(a_words, r.norm) if r.kind == STREET else 0.0
            if score >= STREET_FOR_NUMBER:
                a_side[r.id] = (score, r)
        out = []
        for c, rb in self.index.crossing_streets(list(a_side)):
            sb = name_score(b_words, rb.norm)
            if sb < STREET_FOR_NUMBER:
                continue
            sa, ra = a_side[c.a]
            score = (sa + sb) / 2 + near_bonus(
                None if near is None else point_m(near[0], near[1], c.lat, c.lon)
            )
            label = f"{ra.name} / {rb.name}" + (f", {c.municipality}" if c.municipality else "")
            out.append(
                Candidate(label, c.lat, c.lon, "intersection", c.municipality, _round(score))
            )
        return out

    def reverse(self, lat: float, lon: float) -> Reverse | None:
        """The nearest address within 50 m, else the nearest named street (None: no data)."""
        hit = self.index.nearest_address(lat, lon, ADDRESS_RADIUS_M)
        if hit is not None:
            a = hit.address
            return Reverse(
                address_label(hit.street, a.housenumber, a.postcode, a.municipality),
                a.lat, a.lon, "address", a.municipality or hit.street.municipality,
                round(hit.distance_m, 1),
            )  # fmt: skip
        street = self.index.nearest_street(lat, lon)
        if street is None:
            return None
        return Reverse(
            street_label(street.street), round(street.lat, 7), round(street.lon, 7), "street",
            street.street.municipality, round(street.distance_m, 1),
        )  # fmt: skip


def _interpolated(number: int, on: list[AddressRow]) -> tuple[float, float, str] | None:
    """Between the nearest known numbers below and above (same parity when there are)."""
    same = [a for a in on if a.number % 2 == number % 2] or on
    below = max((a for a in same if a.number < number), key=lambda a: a.number, default=None)
    above = min((a for a in same if a.number > number), key=lambda a: a.number, default=None)
    if below is None or above is None or above.number - below.number > MAX_INTERPOLATION_GAP:
        return None
    lat, lon = interpolate(
        number, (below.number, below.lat, below.lon), (above.number, above.lat, above.lon)
    )
    return round(lat, 7), round(lon, 7), below.postcode or above.postcode


#: The best raw score a candidate can reach (name 1, exact number, municipality, near, kind).
TOP_SCORE = 1.0 + 0.2 + MUNICIPALITY_BONUS + 0.08 + 0.04


def _round(score: float) -> float:
    """A raw score scaled to 0..1 (ordering kept: nothing is clipped at the top)."""
    return round(max(0.0, min(1.0, score / TOP_SCORE)), 4)
