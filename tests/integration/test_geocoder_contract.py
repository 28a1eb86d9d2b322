"""The geocoder contract: the same queries, the same answers, on the SQLite and PostgreSQL
address indexes of the Liechtenstein extract (queries written from the extract's own data)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest

from najda.geo.area import Area
from najda.geo.planar import point_m
from najda.projections.addresses.geocoder import Geocoder, QueryError
from najda.projections.addresses.index import AddressIndex
from najda.projections.addresses.sqlite_index import SqliteAddressIndex
from tests.area_fixture import liechtenstein
from tests.pgdatabases import cloned_database, unavailable

#: (query, what the best candidate's label starts with, its precision, its municipality).
SEARCHES: list[tuple[str, str, str, str]] = [
    # house number + street (+ postcode / municipality), either order
    ("Zollstrasse 56, 9490 Vaduz", "Zollstrasse 56", "address", "Vaduz"),
    ("Zollstrasse 56", "Zollstrasse 56", "address", "Vaduz"),
    ("56 Zollstrasse Vaduz", "Zollstrasse 56", "address", "Vaduz"),
    ("Heiligkreuz 25 Vaduz", "Heiligkreuz 25", "address", "Vaduz"),
    ("Städtle 14", "Städtle 14", "address", "Vaduz"),
    ("Egertastrasse 14, Vaduz", "Egertastrasse 14", "address", "Vaduz"),
    ("Gapetschstrasse 15 Schaan", "Gapetschstrasse 15", "address", "Schaan"),
    ("9494 Schaan, Gapetschstrasse 21", "Gapetschstrasse 21", "address", "Schaan"),
    ("Im Pardiel 61a", "Im Pardiel 61a", "address", "Schaan"),
    ("Im Pardiel 13, Schaan", "Im Pardiel 13", "address", "Schaan"),
    ("Habrüti 7 Ruggell", "Habrüti 7", "address", "Ruggell"),
    ("Noflerstrasse 59", "Noflerstrasse 59", "address", "Ruggell"),
    ("Dröschistrasse 15, Triesen", "Dröschistrasse 15", "address", "Triesen"),
    ("Simsgasse 10 Eschen", "Simsgasse 10", "address", "Eschen"),
    ("Fürst-Franz-Josef-Strasse 84", "Fürst-Franz-Josef-Strasse 84", "address", "Vaduz"),
    ("Dominik Banzer-Strasse 16", "Dominik Banzer-Strasse 16", "address", "Triesen"),
    ("Sückastrasse 19 9497", "Sückastrasse 19", "address", "Triesenberg"),
    ("Zweistäpfle 6 Balzers", "Zweistäpfle 6", "address", "Balzers"),
    ("Schifflände 2, Balzers", "Schifflände 2", "address", "Balzers"),
    # abbreviations, ß/ss, missing umlauts and accents, case, typos
    ("zollstr. 56", "Zollstrasse 56", "address", "Vaduz"),
    ("ZOLLSTR 56", "Zollstrasse 56", "address", "Vaduz"),
    ("Zollstraße 56", "Zollstrasse 56", "address", "Vaduz"),
    ("Zolstrasse 56", "Zollstrasse 56", "address", "Vaduz"),
    ("Stadtle 14", "Städtle 14", "address", "Vaduz"),
    ("Staedtle 14 vaduz", "Städtle 14", "address", "Vaduz"),
    ("Drosch­istr 15 Triesen", "Dröschistrasse 15", "address", "Triesen"),
    ("Duroschistrasse 15", "Dröschistrasse 15", "address", "Triesen"),
    ("Egertastr 14", "Egertastrasse 14", "address", "Vaduz"),
    ("Aeulestrasse 51", "Äulestrasse 51", "address", "Vaduz"),
    ("Geisszipfelstraße 22", "Geisszipfelstrasse 22", "address", "Ruggell"),
    ("Geißzipfelstr. 22", "Geisszipfelstrasse 22", "address", "Ruggell"),
    ("giessenstrasse 18 ruggell", "Giessenstrasse 18", "address", "Ruggell"),
    # a street alone, or with a house number it does not have
    ("Spaniagasse", "Spaniagasse", "street", "Vaduz"),
    ("Toniäulestrasse", "Toniäulestrasse", "street", "Vaduz"),
    ("Wingertgasse, Vaduz", "Wingertgasse", "street", "Vaduz"),
    ("Dohlenweg 9999", "Dohlenweg", "street", "Vaduz"),
    # crossings
    ("Zollstrasse / Auweg", "Zollstrasse / Auweg", "intersection", "Vaduz"),
    ("Landstrasse & Austrasse", "Landstrasse / Austrasse", "intersection", "Vaduz"),
    ("Bahnhofstrasse and Landstrasse", "Bahnhofstrasse / Landstrasse", "intersection", "Schaan"),
    ("Felbaweg und Zollstr.", "Felbaweg / Zollstrasse", "intersection", "Vaduz"),
    ("zollstrasse/binnendamm", "Zollstrasse / Binnendamm", "intersection", "Vaduz"),
    # places (towns, villages, hamlets, localities)
    ("Malbun", "Malbun", "place", "Triesenberg"),
    ("Masescha", "Masescha", "place", "Triesenberg"),
    ("Gamprin", "Gamprin", "place", "Gamprin"),
    ("Bendern", "Bendern", "place", "Gamprin"),
    ("Lawena", "Lawena", "place", "Triesen"),
    # points of interest
    ("Landesspital", "Liechtensteinisches Landesspital", "poi", "Vaduz"),
    ("Rotes Kreuz", "Rotes Kreuz Liechtenstein", "poi", "Vaduz"),
    ("Feuerwehr Vaduz", "Feuerwehr Vaduz", "poi", "Vaduz"),
    ("Landesbibliothek", "Landesbibliothek", "poi", "Vaduz"),
    ("Walsermuseum", "Walsermuseum", "poi", "Triesenberg"),
    ("Post Schaan", "Post Schaan", "poi", "Schaan"),
    ("Schloss Apotheke", "Schloss Apotheke", "poi", "Vaduz"),
]


@pytest.fixture(scope="module")
def area() -> Area:
    return liechtenstein()[1]


@pytest.fixture(scope="module")
def module_pg_url(pg_template: str) -> Iterator[str]:
    """One PostGIS database shared by the module's read-only geocoding tests."""
    with cloned_database(pg_template, prefix="najda_geo") as url:
        yield url


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def geocoder(
    request: pytest.FixtureRequest, area: Area, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Geocoder]:
    index: AddressIndex
    if request.param == "sqlite":
        index = SqliteAddressIndex(Path(tmp_path_factory.mktemp("idx")) / "geocode.sqlite")
    else:
        from najda.projections.addresses.postgres_index import PostgresAddressIndex

        try:
            index = PostgresAddressIndex(request.getfixturevalue("module_pg_url"))
        except psycopg.Error as exc:
            unavailable(f"cannot create the address index: {exc}")
    index.replace(area)
    yield Geocoder(index, area.municipalities)
    index.close()


def test_there_are_forty_realistic_queries_of_every_kind() -> None:
    assert len(SEARCHES) >= 40
    kinds = {precision for _, _, precision, _ in SEARCHES}
    assert kinds == {"address", "street", "intersection", "place", "poi"}


@pytest.mark.parametrize(("query", "label", "precision", "municipality"), SEARCHES)
def test_best_candidate(
    geocoder: Geocoder, query: str, label: str, precision: str, municipality: str
) -> None:
    found = geocoder.search(query, 5)
    assert found, f"nothing for {query!r}"
    best = found[0]
    assert best.label.startswith(label), (query, found[:3])
    assert best.precision == precision, (query, found[:3])
    assert best.municipality == municipality, (query, found[:3])
    assert all(a.score >= b.score for a, b in itertools.pairwise(found))
    assert 0 < best.score <= 1


def test_an_address_is_where_the_data_puts_it(geocoder: Geocoder, area: Area) -> None:
    best = geocoder.search("Zollstrasse 56, Vaduz", 1)[0]
    red_cross = next(f for f in area.facilities if f.name == "Rotes Kreuz Liechtenstein")
    assert point_m(best.lat, best.lon, red_cross.lat, red_cross.lon) < 30


def test_unknown_number_falls_back_to_the_street_and_says_so(geocoder: Geocoder) -> None:
    found = geocoder.search("Dohlenweg 9999", 3)
    assert found[0].precision == "street"
    assert "9999 not found" in found[0].note


def test_a_missing_number_between_known_ones_is_interpolated(
    geocoder: Geocoder, area: Area
) -> None:
    numbers = sorted(
        int(a.housenumber)
        for a in area.addresses
        if a.street == "Landstrasse" and a.municipality == "Triesen" and a.housenumber.isdigit()
    )
    gap = next(n for a, b in itertools.pairwise(numbers) for n in range(a + 2, b, 2)
               if b - a <= 10)  # fmt: skip
    best = geocoder.search(f"Landstrasse {gap} Triesen", 1)[0]
    assert best.precision == "interpolated" and best.municipality == "Triesen"
    assert best.label.startswith(f"Landstrasse {gap}")


def test_near_prefers_the_street_in_the_nearer_municipality(geocoder: Geocoder) -> None:
    schaan, vaduz = (47.1650, 9.5100), (47.1330, 9.5180)
    assert geocoder.search("Zollstrasse", 1, near=schaan)[0].municipality == "Schaan"
    assert geocoder.search("Zollstrasse", 1, near=vaduz)[0].municipality == "Vaduz"


def test_limit_is_respected(geocoder: Geocoder) -> None:
    assert len(geocoder.search("Landstrasse", 3)) == 3
    assert len(geocoder.search("Landstrasse", 1)) == 1


@pytest.mark.parametrize("query", ["", "   ", "x" * 1_000])
def test_empty_or_overlong_query_is_refused(geocoder: Geocoder, query: str) -> None:
    with pytest.raises(QueryError, match="q "):
        geocoder.search(query, 5)


def test_nonsense_finds_nothing(geocoder: Geocoder) -> None:
    assert geocoder.search("qxzjvwk", 5) == []


def test_reverse_gives_the_address_at_a_building(geocoder: Geocoder) -> None:
    found = geocoder.reverse(47.1404393, 9.522387)
    assert found is not None
    assert found.label == "Städtle 14, 9490 Vaduz" and found.precision == "address"
    assert found.distance_m < 1


def test_reverse_away_from_houses_gives_the_nearest_street(geocoder: Geocoder, area: Area) -> None:
    lats = np.array([a.lat for a in area.addresses])
    lons = np.array([a.lon for a in area.addresses])
    checked = 0
    for street in area.streets[::7]:
        line = max(street.lines, key=len)
        (x1, y1), (x2, y2) = line[len(line) // 2 - 1], line[len(line) // 2]
        lat, lon = (y1 + y2) / 2, (x1 + x2) / 2
        nearest = np.min(np.hypot((lats - lat) * 111_320, (lons - lon) * 75_700))
        if nearest < 120:
            continue
        found = geocoder.reverse(lat, lon)
        assert found is not None and found.precision == "street", (street.name, found)
        assert found.distance_m < 3, (street.name, found)
        checked += 1
        if checked == 10:
            break
    assert checked == 10


def test_reverse_within_fifty_metres_only(geocoder: Geocoder, area: Area) -> None:
    lats = np.array([a.lat for a in area.addresses])
    lons = np.array([a.lon for a in area.addresses])
    lonely = None
    for a in area.addresses:
        d = np.hypot((lats - a.lat) * 111_320, (lons - a.lon) * 75_700)
        if np.sort(d)[1] > 150:
            lonely = a
            break
    assert lonely is not None
    east_40m, east_65m = lonely.lon + 40 / 75_700, lonely.lon + 65 / 75_700
    near = geocoder.reverse(lonely.lat, east_40m)
    assert near is not None and near.precision == "address", near
    assert near.label.startswith(f"{lonely.street} {lonely.housenumber}")
    assert 35 < near.distance_m <= 45
    far = geocoder.reverse(lonely.lat, east_65m)
    assert far is not None and far.precision == "street", far


def _plan_nodes(plan: dict[str, object]) -> Iterator[dict[str, object]]:
    yield plan
    for child in plan.get("Plans", []):  # type: ignore[attr-defined]
        yield from _plan_nodes(child)


@pytest.mark.postgres
@pytest.mark.parametrize("geocoder", ["postgres"], indirect=True)
@pytest.mark.parametrize("words", ["zollstrasse", "bahnhofstrasse landstrasse", "malbun"])
def test_postgres_trigram_search_uses_the_gin_index(geocoder: Geocoder, words: str) -> None:
    from najda.projections.addresses.postgres_index import BARE_SQL, NAMES_SQL, PostgresAddressIndex

    index = geocoder.index
    assert isinstance(index, PostgresAddressIndex)
    with index.pool.connection() as conn:
        for sql in (NAMES_SQL, BARE_SQL):
            (plan,) = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", (words, words, 30)).fetchone()
            nodes = list(_plan_nodes(plan[0]["Plan"]))
            assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], nodes
            assert [n for n in nodes if n.get("Index Name") == "najda_geo_name_trgm"], nodes
    assert geocoder.index.names(words, 30)  # and it finds what it is asked for
