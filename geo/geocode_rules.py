"""Matching rules of the geocoder: how a name's score, a municipality or postcode hint, the
distance to `near` and the kind of match combine, and how house numbers are interpolated."""

from __future__ import annotations

import math
from collections.abc import Sequence

from najda.geo.address_text import run_trigrams, shared_share, similarity, trigrams

#: Names scoring below this (raw) are not offered.
MIN_SCORE = 0.32
#: A street must score this much before its house numbers are looked up.
STREET_FOR_NUMBER = 0.45
#: Bonus when the municipality (or the postcode's municipality) named in the query matches.
MUNICIPALITY_BONUS = 0.15
#: Penalty when the query names another municipality than the candidate's.
OTHER_MUNICIPALITY_PENALTY = 0.1
#: Largest bonus for being near the `near` point (halved every `NEAR_HALF_M`).
NEAR_BONUS = 0.08
NEAR_HALF_M = 2_000.0
#: Small preferences between kinds when names tie: towns over hamlets, streets over POIs.
KIND_BONUS = {
    "city": 0.04, "town": 0.035, "village": 0.03, "suburb": 0.02, "hamlet": 0.015,
    "locality": 0.0, "isolated_dwelling": 0.0, "street": 0.01, "poi": 0.0,
}  # fmt: skip


def name_score(query: str, norm: str) -> float:
    """How well typed words match a normalised name: the better of whole-name similarity and
    the query found as a run of the name's words (so `landesspital` finds the hospital)."""
    if query == norm:
        return 1.0
    # word_similarity(query, norm) * 0.9 against similarity(query, norm), in one pass over
    # trigram sets made once per query and once per name
    tq = trigrams(query)
    whole = shared_share(tq, trigrams(norm))
    span = max(1, len(query.split()))
    runs = run_trigrams(norm, max(1, span - 1), span + 1)
    part = max((shared_share(tq, t) for t in runs), default=0.0)
    return max(whole, part * 0.9)


def near_bonus(distance_m: float | None) -> float:
    """Bonus for closeness to the `near` point."""
    if distance_m is None:
        return 0.0
    return NEAR_BONUS * math.pow(0.5, distance_m / NEAR_HALF_M)


def split_municipality(words: str, municipalities: Sequence[str]) -> tuple[str, str | None]:
    """Take a municipality named at the start or end of the words off them: (rest, name).
    Nothing is taken when the words are only a municipality's name (that is a place query)."""
    tokens = words.split()
    best: tuple[float, str, str] | None = None
    for municipality in municipalities:
        size = len(municipality.split())
        if len(tokens) <= size:
            continue
        for rest, tail in (
            (tokens[:-size], tokens[-size:]),
            (tokens[size:], tokens[:size]),
        ):
            score = similarity(" ".join(tail), municipality)
            if score >= 0.6 and (best is None or score > best[0]):
                best = (score, " ".join(rest), municipality)
    if best is None:
        return words, None
    return best[1], best[2]


def interpolate(
    number: int, below: tuple[int, float, float], above: tuple[int, float, float]
) -> tuple[float, float]:
    """Position of `number` between two known house numbers (number, lat, lon) on a street."""
    n1, lat1, lon1 = below
    n2, lat2, lon2 = above
    t = 0.5 if n2 == n1 else (number - n1) / (n2 - n1)
    return lat1 + t * (lat2 - lat1), lon1 + t * (lon2 - lon1)


#: Two known numbers further apart than this do not bracket an interpolation.
MAX_INTERPOLATION_GAP = 20
