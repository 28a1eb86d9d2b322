"""The console's coverage view in headless Chromium: zones covered within the target as the
API says, a move-up accepted with one key, and the crew screen told where to wait."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.area_fixture import liechtenstein
from tests.e2e.browser import DESKTOP, PHONE, SHOW_MS, PageErrors, chromium, sign_in
from tests.e2e.harness import NajdaServer, clean_env, ok
from tests.waiting import eventually

SHOWN_ZONES = """() => Object.fromEntries([...document.querySelectorAll('#coverage-zones li')]
    .map(li => [li.dataset.zone, Number(li.dataset.covered)]))"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    work = tmp_path_factory.mktemp("coverage-console")
    shutil.copytree(liechtenstein()[0] / "area", work / "data" / "area")
    env = clean_env(NAJDA_DEMO_AREA="liechtenstein")
    started = NajdaServer(work, args=["--policy", "coverage"], env=env).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def test_a_dispatcher_accepts_a_move_up_with_one_key_and_the_crew_sees_it(
    server: NajdaServer, browser: Any
) -> None:
    with server.client(server.printed_tokens()["demo-dispatcher"]) as api:
        before = ok(api.get("/coverage"))
        move = before["move_ups"][0]
        crew_token = server.add_user(f"crew.{move['call_sign'].lower()}", "crew",
                                     unit=move["call_sign"])
        console = browser.new_context(viewport=DESKTOP).new_page()
        crew = browser.new_context(viewport=PHONE).new_page()
        errors, crew_errors = PageErrors(console), PageErrors(crew)
        sign_in(crew, server.url + "/crew", crew_token)
        sign_in(console, server.url + "/", server.printed_tokens()["demo-dispatcher"])
        console.wait_for_selector("#move-ups li.move-up", timeout=SHOW_MS)
        shown = console.evaluate(SHOWN_ZONES)
        assert shown == {z["name"]: z["covered"] for z in before["zones"]}
        first = console.locator("#move-ups li.move-up").first
        assert first.get_attribute("data-unit") == move["call_sign"]
        assert first.get_attribute("data-station") == move["to_station"]
        # The suggestions are the coverage policy's redeploy plan, each saying why.
        assert before["move_ups_by"] == "redeploy-plan"
        assert "coverage (move-ups: its redeploy plan)" in console.inner_text("#coverage-summary")
        assert first.get_attribute("data-post") == str(move["post"])
        assert first.locator(".why").inner_text() == move["reason"]
        assert console.locator("#relocation").count() == 0  # the crew's, not the console's
        console.locator("body").press("u")
        console.wait_for_selector('#toast[data-kind="ok"]:not([hidden])', timeout=SHOW_MS)
        assert move["call_sign"] in console.inner_text("#toast")
        crew.wait_for_selector("#relocation:not([hidden])", timeout=SHOW_MS)
        told = crew.inner_text("#relocation")
        assert move["to_station"] in told and "demo-dispatcher" in told
        after = ok(api.get("/coverage"))
        assert after["covered"] == pytest.approx(before["covered"] + move["gain"], abs=1e-3)
        expected = f"{round(after['covered'] * 100)} %"
        eventually(lambda: expected in console.inner_text("#coverage-summary"), 10)
        # A call: each recommended ambulance says what its departure does to coverage.
        body = {"lat": 47.1370, "lon": 9.5170, "nature": "chest pain", "priority": "E",
                "address": "near the station"}
        incident = ok(api.post("/incidents", json=body), 201)
        row = f'.queue-item[data-incident="{incident["id"]}"]'
        console.click(f"{row} .queue-button", timeout=SHOW_MS)
        console.wait_for_selector(f"{row}.selected", timeout=SHOW_MS)
        console.wait_for_selector("#recs li .cover", timeout=SHOW_MS)
        rec = ok(api.get(f"/incidents/{incident['id']}/recommendations?alternatives=4"))
        line = rec["requirements"][0]
        expected_text = {c["call_sign"]: c["coverage"]["text"]
                         for c in line["proposed"] + line["alternatives"]}
        shown_text = console.eval_on_selector_all(
            "#recs li", "rows => rows.map(r => [r.dataset.unit, "
            "(r.querySelector('.cover') || {}).textContent || ''])")
        shown_map = {sign: text for sign, text in shown_text if sign in expected_text}
        assert shown_map and shown_map == {s: expected_text[s] for s in shown_map}
    assert not errors.lines and not crew_errors.lines, errors.lines + crew_errors.lines
