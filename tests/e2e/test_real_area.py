"""The zero-configuration demo on the real area: Liechtenstein from the bundled OSM extract,
its hospital and stations, road ETAs, and offline geocoding over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from najda.api.areas import demo_extract
from najda.api.cli import main
from najda.geo.area import EMERGENCY_MODE, load_area
from tests.area_fixture import liechtenstein
from tests.e2e.harness import NajdaServer, clean_env, ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    work = tmp_path_factory.mktemp("real")
    # The first start would import the bundled extract (tests/integration/test_area_start.py
    # covers that); the server here starts from the same import, made once for the tests.
    shutil.copytree(liechtenstein()[0] / "area", work / "data" / "area")
    started = NajdaServer(work, env=clean_env(NAJDA_DEMO_AREA="liechtenstein")).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def dispatcher(server: NajdaServer) -> Iterator[httpx.Client]:
    with server.client(server.printed_tokens()["demo-dispatcher"]) as client:
        yield client


def test_the_demo_has_the_real_hospital_and_stations(dispatcher: httpx.Client) -> None:
    hospitals = {h["name"] for h in ok(dispatcher.get("/hospitals"))}
    assert hospitals == {"Liechtensteinisches Landesspital"}  # not Prattville, Alabama
    stations = {s["name"]: s for s in ok(dispatcher.get("/stations"))}
    assert "Rotes Kreuz Liechtenstein" in stations
    red_cross = stations["Rotes Kreuz Liechtenstein"]
    units = {u["call_sign"]: u for u in ok(dispatcher.get("/units"))}
    assert abs(units["A10"]["lat"] - red_cross["lat"]) < 1e-6
    assert abs(units["A10"]["lon"] - red_cross["lon"]) < 1e-6


def test_a_geocoded_address_gets_units_ranked_by_road_eta(
    server: NajdaServer, dispatcher: httpx.Client
) -> None:
    found = ok(dispatcher.get("/geocode", params={"q": "Sückastrasse 19, Triesenberg"}))
    best = found["candidates"][0]
    assert best["precision"] == "address" and best["municipality"] == "Triesenberg"
    body = {
        "lat": best["lat"],
        "lon": best["lon"],
        "nature": "fall",
        "priority": "C",
        "address": best["label"],
        "location_fix": {"typed": "Sückastr 19", "label": best["label"], "precision": "address"},
    }
    incident = ok(dispatcher.post("/incidents", json=body), 201)
    assert incident["location_fix"]["label"] == best["label"]
    assert incident["location_fix"]["typed"] == "Sückastr 19"
    line = incident["recommendation"]["requirements"][0]
    offered = line["proposed"] + line["alternatives"]
    assert offered
    network = load_area(server.data_dir / "area").roads.network()
    for unit in offered:
        by_road = network.travel_s(
            (unit["lat"], unit["lon"]), (best["lat"], best["lon"]), EMERGENCY_MODE
        )
        assert unit["eta_s"] == pytest.approx(by_road, abs=1.0)
    etas = [u["eta_s"] for u in offered]
    assert etas == sorted(etas)
    again = ok(dispatcher.get(f"/incidents/{incident['id']}"))
    assert again["location_fix"]["precision"] == "address"


def test_reverse_geocoding_over_http(dispatcher: httpx.Client) -> None:
    found = ok(dispatcher.get("/geocode/reverse", params={"lat": 47.1404393, "lon": 9.522387}))
    assert found["label"] == "Städtle 14, 9490 Vaduz" and found["precision"] == "address"
    assert found["distance_m"] < 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 1_000}, "q"),
        ({"q": "Städtle", "limit": 0}, "limit"),
        ({"q": "Städtle", "limit": 51}, "limit"),
        ({"q": "Städtle", "near": "north"}, "near"),
        ({"q": "Städtle", "near": "91,9.5"}, "near"),
        ({}, "q"),
    ],
)
def test_bad_geocode_queries_are_refused_naming_the_field(
    dispatcher: httpx.Client, params: dict[str, object], field: str
) -> None:
    response = dispatcher.get("/geocode", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", field]


@pytest.mark.parametrize("params", [{"lat": 91, "lon": 9.5}, {"lat": 47.1}, {"lat": "x", "lon": 1}])
def test_bad_reverse_queries_are_refused(
    dispatcher: httpx.Client, params: dict[str, object]
) -> None:
    assert dispatcher.get("/geocode/reverse", params=params).status_code == 422


def test_geocoding_needs_a_token_and_a_role(server: NajdaServer) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get("/geocode", params={"q": "Städtle"}).status_code == 401
    with server.client(server.printed_tokens()["demo-avl"]) as avl:
        assert avl.get("/geocode", params={"q": "Städtle"}).status_code == 403


def test_a_restart_reuses_the_cached_area(server: NajdaServer) -> None:
    cached = server.data_dir / "area" / "area.json.gz"
    before = cached.stat().st_mtime_ns
    server.stop()
    server.start()
    assert cached.stat().st_mtime_ns == before
    with server.client(server.printed_tokens()["demo-dispatcher"]) as client:
        assert ok(client.get("/geocode", params={"q": "Landesspital"}))["candidates"]


def test_a_reimport_updates_the_area_and_keeps_the_incidents(
    server: NajdaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with server.client() as admin:
        before = {i["id"] for i in ok(admin.get("/incidents"))}
    assert before  # reported by the tests above
    server.stop()
    vaduz_only = ["area", "import", str(demo_extract()), "--bbox", "9.50,47.12,9.54,47.15"]
    assert main([*vaduz_only, "--data-dir", str(server.data_dir)]) == 0
    assert "streets removed" in capsys.readouterr().out
    server.start()
    with server.client(server.printed_tokens()["demo-dispatcher"]) as client:
        assert {i["id"] for i in ok(client.get("/incidents"))} == before
        found = ok(client.get("/geocode", params={"q": "Zweistäpfle 6, Balzers"}))
        assert all(c["municipality"] != "Balzers" for c in found["candidates"]), found
        assert (
            ok(client.get("/geocode", params={"q": "Städtle 14"}))["candidates"][0]["precision"]
            == "address"
        )


def test_the_invented_town_has_no_area_to_geocode(tmp_path: Path) -> None:
    town = NajdaServer(tmp_path / "sahil").start()  # the harness picks the invented town
    try:
        with town.client() as admin:
            response = admin.get("/geocode", params={"q": "Städtle"})
            assert response.status_code == 503 and "area import" in response.json()["detail"]
    finally:
        town.stop()
