"""Importing the Liechtenstein extract: what it finds, what it leaves out, and bad input.

The whole extract is imported once per test run (`liechtenstein()`); tests of the import's own
behaviour (bbox, re-import, bad choices) read the small cut of it (`small_extract()`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from najda.api.areas import AreaImportError, demo_extract, import_area
from najda.geo.area import Area, load_area
from najda.geo.osm_profile import parse_maxspeed, profile
from najda.geo.osm_read import parse_bbox
from tests.area_fixture import liechtenstein, small_extract

EXTRACT = demo_extract()
SMALL = small_extract()


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Area]]:
    shared, area = liechtenstein()  # imported once for every module that reads it
    data = tmp_path_factory.mktemp("area")
    shutil.copytree(shared / "area", data / "area")
    yield data, area


def test_counts_streets_addresses_places_of_the_country(imported: tuple[Path, Area]) -> None:
    _, area = imported
    counts = area.counts()
    assert 900 <= counts["streets"] <= 1_500
    assert 3_300 <= counts["addresses"] <= 3_750
    assert 60 <= counts["places"] <= 120
    assert counts["municipalities"] == 11
    assert counts["crossings"] > 1_000
    assert {"Vaduz", "Schaan", "Balzers", "Triesenberg"} <= set(area.municipalities)


def test_finds_the_national_hospital_and_the_red_cross_station(imported: tuple[Path, Area]) -> None:
    _, area = imported
    hospitals = [f for f in area.facilities if f.kind == "hospital"]
    assert [h.name for h in hospitals] == ["Liechtensteinisches Landesspital"]
    stations = {f.name: f for f in area.facilities if f.kind == "ambulance_station"}
    red_cross = stations["Rotes Kreuz Liechtenstein"]
    assert red_cross.address == "Zollstrasse 56, 9490 Vaduz"
    assert abs(red_cross.lat - 47.1329) < 0.001 and abs(red_cross.lon - 9.5135) < 0.001


def test_the_alabama_piece_is_left_out_by_the_boundary(imported: tuple[Path, Area]) -> None:
    _, area = imported
    assert not [f for f in area.facilities if "Prattville" in f.name]
    assert not [a for a in area.addresses if a.postcode.startswith("36")]
    assert area.roads.lons.max() < 10.0 and area.roads.lats.min() > 47.0
    assert not [p for p in area.pois if "Prattville" in p.name or "Baptist" in p.name]


def test_road_graph_is_one_strongly_connected_component(imported: tuple[Path, Area]) -> None:
    _, area = imported
    network = area.roads.network()
    count, _ = connected_components(network.graphs[1], directed=True, connection="strong")
    assert count == 1
    assert network.node_count > 10_000
    vaduz, schaan = (47.1410, 9.5215), (47.1650, 9.5100)
    emergency, regular = network.travel_s(vaduz, schaan, 1), network.travel_s(vaduz, schaan, 2)
    assert 60 < emergency < regular < 15 * 60
    assert np.all(area.roads.emergency_s <= area.roads.regular_s)


def test_addresses_carry_municipality_from_the_boundaries(imported: tuple[Path, Area]) -> None:
    _, area = imported
    by_key = {(a.street, a.housenumber): a for a in area.addresses}
    hospital = by_key[("Heiligkreuz", "25")]
    assert hospital.municipality == "Vaduz" and hospital.postcode == "9490"


def test_reimport_reports_no_change_and_keeps_the_area(tmp_path: Path) -> None:
    first = import_area(SMALL, tmp_path, boundary="Liechtenstein")
    assert first.changes == {"previous": "none (first import)"}
    report = import_area(SMALL, tmp_path, boundary="Liechtenstein")
    assert report.changes == {"nothing": "same content as the previous import"}
    assert load_area(tmp_path / "area").counts() == first.area.counts()


def test_bbox_import_is_smaller_and_reports_the_change(tmp_path: Path) -> None:
    vaduz = import_area(SMALL, tmp_path, bbox=(9.50, 47.12, 9.54, 47.15)).area
    assert 200 < vaduz.counts()["addresses"] < 2_000
    assert vaduz.counts()["addresses"] < liechtenstein()[1].counts()["addresses"]
    assert vaduz.roads.lons.min() >= 9.50 - 0.05 and vaduz.roads.lats.min() >= 47.12 - 0.05
    report = import_area(SMALL, tmp_path, boundary="Vaduz")
    assert "addresses" in report.changes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"boundary": "Atlantis"}, "matches no administrative boundary"),
        ({"bbox": (2.0, 48.0, 2.1, 48.1)}, "holds no roads, addresses nor places"),
    ],
)
def test_bad_area_choice_fails_and_leaves_the_previous_area(
    imported: tuple[Path, Area], kwargs: dict[str, object], message: str
) -> None:
    data, _ = imported
    before = (data / "area" / "area.json.gz").read_bytes()
    with pytest.raises(AreaImportError, match=message):
        import_area(SMALL, data, **kwargs)  # type: ignore[arg-type]
    assert (data / "area" / "area.json.gz").read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"this is not a PBF file" * 100])
def test_empty_or_corrupt_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    shutil.copy(EXTRACT, tmp_path / "good.osm.pbf")
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(content)
    with pytest.raises(AreaImportError, match=r"empty|not a readable OpenStreetMap file"):
        import_area(bad, tmp_path / "data")
    assert not (tmp_path / "data" / "area").exists()


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(EXTRACT.read_bytes()[:200_000])
    with pytest.raises(AreaImportError):
        import_area(bad, tmp_path / "data", boundary="Liechtenstein")


@pytest.mark.parametrize("cut", [0, 100, 200_000], ids=["empty", "corrupt", "truncated"])
def test_a_bad_file_leaves_the_previous_area_untouched(
    imported: tuple[Path, Area], tmp_path: Path, cut: int
) -> None:
    data, area = imported
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a PBF " * 10 if cut == 100 else EXTRACT.read_bytes()[:cut])
    before = {p.name: p.read_bytes() for p in (data / "area").iterdir() if p.is_file()}
    with pytest.raises(AreaImportError):
        import_area(bad, data, boundary="Liechtenstein")
    after = {p.name: p.read_bytes() for p in (data / "area").iterdir() if p.is_file()}
    assert after == before
    assert load_area(data / "area").counts() == area.counts()


def test_bbox_text_is_checked() -> None:
    assert parse_bbox("9.5,47.1,9.6,47.2") == (9.5, 47.1, 9.6, 47.2)
    for bad in ("9.6,47.1,9.5,47.2", "a,b,c,d", "1,2,3", "200,0,201,1"):
        with pytest.raises(AreaImportError, match="bbox"):
            parse_bbox(bad)


def test_speed_profile_reads_class_maxspeed_oneway_and_access() -> None:
    assert parse_maxspeed("50") == 50 and parse_maxspeed("CH:urban") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("none") is None and parse_maxspeed("") is None
    residential = profile({"highway": "residential"})
    assert residential is not None and residential.forward and residential.backward
    limited = profile({"highway": "primary", "maxspeed": "50"})
    assert limited is not None and limited.regular_kmh == 50
    assert limited.emergency_kmh > limited.regular_kmh
    oneway = profile({"highway": "secondary", "oneway": "-1"})
    assert oneway is not None and oneway.backward and not oneway.forward
    roundabout = profile({"highway": "tertiary", "junction": "roundabout"})
    assert roundabout is not None and not roundabout.backward
    assert profile({"highway": "service", "access": "private"}) is None
    assert profile({"highway": "residential", "motor_vehicle": "no"}) is None
    assert profile({"highway": "track", "access": "no", "emergency": "yes"}) is not None
    assert profile({"highway": "footway"}) is None
    assert profile({"highway": "pedestrian", "area": "yes"}) is None
