"""The console speaks addresses: type, choose with the keyboard, report; a map click fills the
address (headless Chromium against a real `najda serve` on the Liechtenstein area)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from najda.geo.area import EMERGENCY_MODE, load_area
from tests.area_fixture import liechtenstein
from tests.e2e.browser import DESKTOP, FREE_SPOT, SHOW_MS, PageErrors, chromium, sign_in
from tests.e2e.harness import NajdaServer, clean_env, ok


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    work = tmp_path_factory.mktemp("console-area")
    staging, _ = liechtenstein()  # imported once; the server's start-up reuses it
    shutil.copytree(staging / "area", work / "data" / "area")
    started = NajdaServer(work, env=clean_env(NAJDA_DEMO_AREA="liechtenstein")).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def page(server: NajdaServer) -> Iterator[tuple[Any, PageErrors]]:
    with chromium() as browser:
        console = browser.new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(console)
        sign_in(console, server.url + "/", server.printed_tokens()["demo-dispatcher"])
        # The base map (with its attribution) says whether addresses can be looked up.
        console.wait_for_selector(".leaflet-control-attribution", timeout=SHOW_MS)
        yield console, errors


def test_type_an_address_choose_it_with_the_keyboard_and_report(
    server: NajdaServer, page: tuple[Any, PageErrors]
) -> None:
    console, errors = page
    console.keyboard.press("n")
    assert console.evaluate("document.activeElement.id") == "f-location"
    console.keyboard.type("Sückastr 19 Triesenb")
    console.wait_for_selector("#f-candidates li.candidate", timeout=SHOW_MS)
    first = console.inner_text("#f-candidates li.active")
    assert "Sückastrasse 19" in first and "address" in first and "Triesenberg" in first
    console.keyboard.press("ArrowDown")
    assert console.get_attribute("#f-candidates li:nth-child(2)", "aria-selected") == "true"
    console.keyboard.press("ArrowUp")
    console.keyboard.press("Enter")  # chooses the highlighted candidate, does not submit
    label = console.input_value("#f-location")
    assert label.startswith("Sückastrasse 19") and label.endswith("Triesenberg")
    assert console.input_value("#f-address") == label
    assert console.evaluate("document.activeElement.id") == "f-nature"
    console.keyboard.type("Fall")
    console.keyboard.press("Enter")

    item = console.wait_for_selector(".queue-item.selected", timeout=SHOW_MS)
    incident_id = item.get_attribute("data-incident")
    first_rec = console.wait_for_selector('#recs li[data-index="1"]', timeout=SHOW_MS)
    assert "ETA" in first_rec.inner_text()
    with server.client() as admin:
        incident = ok(admin.get(f"/incidents/{incident_id}"))
        rec = ok(admin.get(f"/incidents/{incident_id}/recommendations"))
    assert incident["address"] == label
    assert incident["location_fix"] == {
        "typed": "Sückastr 19 Triesenb",
        "label": label,
        "precision": "address",
        "lat": incident["lat"],
        "lon": incident["lon"],
    }
    proposed = rec["requirements"][0]["proposed"]
    assert first_rec.get_attribute("data-unit") == proposed[0]["call_sign"]
    offered = proposed + rec["requirements"][0]["alternatives"]
    assert [u["eta_s"] for u in offered] == sorted(u["eta_s"] for u in offered)
    network = load_area(server.data_dir / "area").roads.network()  # by road, not straight
    for unit in offered:
        by_road = network.travel_s(
            (unit["lat"], unit["lon"]), (incident["lat"], incident["lon"]), EMERGENCY_MODE
        )
        assert unit["eta_s"] == pytest.approx(by_road, abs=1.0), unit
    assert errors.lines == []


def test_a_map_click_fills_the_nearest_address(
    server: NajdaServer, page: tuple[Any, PageErrors]
) -> None:
    console, errors = page
    console.keyboard.press("Escape")
    console.keyboard.press("n")
    spot = console.evaluate(FREE_SPOT)
    assert spot is not None
    console.mouse.click(*spot)
    lat, lon = (float(v) for v in re.split(r",\s*", console.input_value("#f-location")))
    console.wait_for_function(
        "() => document.getElementById('f-address').value.length > 0", timeout=SHOW_MS
    )
    with server.client() as admin:
        there = ok(admin.get("/geocode/reverse", params={"lat": lat, "lon": lon}))
    shown = console.input_value("#f-address")
    assert there["label"] in shown
    if there["precision"] != "address":
        assert shown.startswith("near ")
    attribution = console.inner_text(".leaflet-control-attribution")
    assert "OpenStreetMap" in attribution
    assert errors.lines == []
