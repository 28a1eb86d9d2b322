"""Address text rules: normalisation (case, accents, ß, abbreviations), trigram similarity, and
reading a typed query into house number, postcode, street words or a crossing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Abbreviations written out before matching (whole words, after lower-casing and accents).
ABBREVIATIONS: dict[str, str] = {
    "str": "strasse",
    "strs": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "hwy": "highway",
    "ln": "lane",
    "pl": "platz",
}
#: Umlaut spellings folded the way the accent-stripped letter reads (Mühle, Muehle -> muhle).
_DIGRAPHS = (("ae", "a"), ("oe", "o"), ("ue", "u"))
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STRASSE = re.compile(r"(?<=\w)str\b")
#: Separators of a crossing: `X / Y`, `X & Y`, `X + Y`, `X and Y` (und, et, y, e, x).
_CROSSING = re.compile(r"\s*[/&+@]\s*|\s+(?:and|und|et|y|e|x|corner of)\s+", re.IGNORECASE)
_HOUSE_NUMBER = re.compile(r"^(\d{1,5})\s*([a-z])?$")
_NUMBER_PART = re.compile(r"(?<![\w])(\d{1,5})\s?([a-zA-Z])?(?![\w])")
MAX_QUERY_CHARS = 200


def fold(text: str) -> str:
    """Lower case, no accents or umlauts, ß as ss, words separated by one space."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("ß", "ss")
    return " ".join(_WORD.findall(text))


def normalise(text: str) -> str:
    """The form names are indexed and matched in: folded, umlaut spellings and abbreviations
    written out (Zollstraße, Zollstr., zollstr -> zollstrasse; Zoll-Str. -> zoll strasse)."""
    words = []
    for word in fold(text).split():
        word = ABBREVIATIONS.get(word, word)
        for digraph, letter in _DIGRAPHS:
            word = word.replace(digraph, letter)
        word = _STRASSE.sub("strasse", word)
        words.append(word)
    return " ".join(" ".join(words).split())


@lru_cache(maxsize=200_000)
def trigrams(text: str) -> frozenset[str]:
    """The trigrams of each word as PostgreSQL's pg_trgm counts them (two spaces before, one
    after); remembered, since the index's names come back again and again."""
    grams: set[str] = set()
    for word in text.split():
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams (pg_trgm's `similarity`), 0..1."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


@lru_cache(maxsize=100_000)
def _runs(name: str, smallest: int, largest: int) -> tuple[str, ...]:
    """The runs of `smallest` to `largest` consecutive words of a name."""
    words = name.split()
    return tuple(
        " ".join(words[start : start + size])
        for size in range(smallest, largest + 1)
        for start in range(0, max(1, len(words) - size + 1))
    )


@lru_cache(maxsize=100_000)
def run_trigrams(name: str, smallest: int, largest: int) -> tuple[frozenset[str], ...]:
    """The trigrams of each run of `smallest` to `largest` words of a name (remembered)."""
    return tuple(trigrams(run) for run in _runs(name, smallest, largest))


def shared_share(ta: frozenset[str], tb: frozenset[str]) -> float:
    """`similarity` on trigram sets already made."""
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)


def word_similarity(query: str, name: str) -> float:
    """How well the query is contained in the name (pg_trgm's idea of `word_similarity`,
    on whole words): the best similarity of the query to a run of the name's words."""
    span = max(1, len(query.split()))
    best = similarity(query, name)
    for run in _runs(name, max(1, span - 1), span + 1):
        best = max(best, similarity(query, run))
    return best


@dataclass(frozen=True)
class HouseNumber:
    """A house number as typed: digits and an optional letter (12b)."""

    number: int
    suffix: str = ""

    @property
    def text(self) -> str:
        """The canonical form, e.g. `12b`."""
        return f"{self.number}{self.suffix}"


def parse_house_number(text: str) -> HouseNumber | None:
    """`12`, `12 b`, `12B` as a house number; None for anything else (`12-14` keeps 12)."""
    head = re.split(r"[-/,;]", text.strip().lower())[0].strip()
    match = _HOUSE_NUMBER.match(head)
    if not match:
        return None
    return HouseNumber(int(match.group(1)), match.group(2) or "")


@dataclass(frozen=True)
class Query:
    """A typed location read into its parts (all text normalised)."""

    text: str
    words: str  # what remains once numbers are taken out: street, place or POI words
    number: HouseNumber | None = None
    postcode: str | None = None
    crossing: tuple[str, str] | None = None


class QueryError(ValueError):
    """Raised when a query is empty or too long to be an address."""


def read_query(text: str, postcodes: frozenset[str] = frozenset()) -> Query:
    """Split a query into a crossing, or words + house number + postcode (known postcodes of
    4 digits or more are postcodes; the first other number is the house number)."""
    stripped = text.strip()
    if not stripped:
        raise QueryError("q must not be empty")
    if len(stripped) > MAX_QUERY_CHARS:
        raise QueryError(f"q is longer than {MAX_QUERY_CHARS} characters")
    parts = [p for p in _CROSSING.split(stripped) if p and p.strip()]
    if len(parts) == 2 and all(normalise(p) for p in parts):
        a, b = (normalise(re.sub(r"\d+", " ", p)) for p in parts)
        if a and b:
            return Query(normalise(stripped), f"{a} {b}", crossing=(a, b))
    number: HouseNumber | None = None
    postcode: str | None = None
    rest = stripped
    for match in list(_NUMBER_PART.finditer(stripped)):
        digits, letter = match.group(1), match.group(2) or ""
        if postcode is None and not letter and len(digits) >= 4 and digits in postcodes:
            postcode = digits
        elif number is None:
            number = HouseNumber(int(digits), letter.lower())
        else:
            continue
        rest = rest.replace(match.group(0), " ", 1)
    words = normalise(rest)
    return Query(normalise(stripped), words, number, postcode)
