"""Issue 7's care features in headless Chromium against a real `najda serve`: destinations on
the crew screen; hospital ED status, teleconsults and monitoring alerts on the console, live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.browser import (
    DESKTOP,
    PHONE,
    SHOW_MS,
    PageErrors,
    acknowledge_job,
    chromium,
    screenshot,
    sign_in,
)
from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, NajdaServer, build_world, offset, ok, report
from tests.e2e.test_destinations import CREW_UNIT, HOSPITALS  # the same world of hospitals
from tests.e2e.test_monitoring import FHIR_JSON, HOME, spo2

#: The codes the crew page lists, in its order.
SHOWN_CODES = "() => [...document.querySelectorAll('#dest-list li.dest')].map(i => i.dataset.code)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    with chromium() as launched:
        yield launched


class Site:
    """A server with the test world, four hospitals and an admin client."""

    def __init__(self, server: NajdaServer) -> None:
        self.server = server
        self.admin = server.client()
        build_world(self.admin)
        for code, km, services in HOSPITALS:
            lat, lon = offset(*CENTRE, north_m=km * 1000)
            body = {"code": code, "name": f"Hospital {code}", "lat": lat, "lon": lon}
            ok(self.admin.post("/hospitals", json={**body, "services": services}), 201)

    def status(self, code: str, **body: Any) -> Any:
        """Set a hospital's status as the admin (PATCH /hospitals/{code}/status)."""
        return ok(self.admin.patch(f"/hospitals/{code}/status", json=body))

    def stroke_incident(self) -> str:
        """A stroke call worked by CREW_UNIT; its id."""
        incident = report(self.admin, "D", nature="stroke symptoms, facial droop")
        body = {"units": [CREW_UNIT]}
        ok(self.admin.post(f"/incidents/{incident['id']}/assignments", json=body))
        return str(incident["id"])


@pytest.fixture
def site(start_server: StartServer) -> Iterator[Site]:
    site = Site(start_server("--no-demo"))
    try:
        yield site
    finally:
        site.admin.close()


def _crew_page(browser: Any, server: NajdaServer, token: str) -> tuple[Any, Any, PageErrors]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = PageErrors(page)
    sign_in(page, server.url + "/crew", token)
    return context, page, errors


def _wait_codes(page: Any, codes: list[str]) -> None:
    """Wait until the crew page lists exactly these destinations, in this order."""
    page.wait_for_function(
        f"codes => JSON.stringify(({SHOWN_CODES})()) === JSON.stringify(codes)",
        arg=codes,
        timeout=SHOW_MS,
    )


def _server_order(crew: httpx.Client) -> list[str]:
    ranking = ok(crew.get(f"/units/{CREW_UNIT}/destinations"))
    return [d["code"] for d in ranking["destinations"]]


def test_the_crew_sees_destinations_ranked_by_the_server_with_a_closed_one_absent(
    browser: Any, site: Site
) -> None:
    site.status("H-NEAR", ed_status="closed", reason="CT scanner down")
    site.status("H-MID", ed_status="advisory", reason="corridor care")
    site.stroke_incident()
    token = site.server.add_user("crew.a", "crew", unit=CREW_UNIT)
    context, page, errors = _crew_page(browser, site.server, token)
    page.wait_for_selector("#job:not([hidden])", timeout=SHOW_MS)
    assert page.eval_on_selector_all("#dest-list li", "items => items.length") == 0
    acknowledge_job(page)

    for step in ("en_route", "on_scene", "transporting"):
        page.click(f'.sbtn[data-status="{step}"]')
        page.wait_for_selector(f'#status-now [data-status="{step}"]', timeout=SHOW_MS)

    # Going transporting offers the hospitals for the incident's need (stroke), as ranked by
    # the server: H-NEAR is closed, so never offered; H-MID, on advisory, after H-FAR.
    with site.server.client(token) as crew:
        expected = _server_order(crew)
    assert expected == ["H-FAR", "H-MID"]
    _wait_codes(page, expected)
    assert "For stroke (from the incident)" in page.inner_text("#dest-meta")
    far = page.inner_text('#dest-list li[data-code="H-FAR"]')
    mid = page.inner_text('#dest-list li[data-code="H-MID"]')
    assert "Hospital H-FAR" in far and "ED normal" in far and "4.0 km" in far and "ETA" in far
    assert "ED advisory: corridor care" in mid, mid
    excluded = str(page.text_content("#dest-excluded"))  # folded away: not inner text
    assert "H-NEAR" in excluded and "emergency department closed: CT scanner down" in excluded
    for target in page.query_selector_all("#dest-list li.dest, #dest-button"):
        size = target.bounding_box()
        assert size["height"] >= 48 and size["width"] >= 48, size
    page.locator("#destinations").scroll_into_view_if_needed()
    screenshot(page, "crew-destinations")

    # On request: H-NEAR reopens, the crew presses Destinations and gets the new ranking.
    site.status("H-NEAR", ed_status="normal")
    page.click("#dest-button")
    with site.server.client(token) as crew:
        expected = _server_order(crew)
    assert expected == ["H-NEAR", "H-FAR", "H-MID"]
    _wait_codes(page, expected)

    # A screen opened while transporting asks for the ranking itself.
    _, again, again_errors = _crew_page(browser, site.server, token)
    _wait_codes(again, expected)
    assert not errors.lines and not again_errors.lines, errors.lines + again_errors.lines
    context.close()


def test_the_console_shows_hospital_status_and_teleconsults_live(browser: Any, site: Site) -> None:
    incident = site.stroke_incident()
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, site.server.url + "/", site.server.add_user("d.ali", "dispatcher"))
    page.wait_for_selector('#hospitals li[data-code="H-MID"][data-ed="normal"]', timeout=SHOW_MS)
    page.wait_for_selector('.hospital-marker[data-code="H-MID"][data-ed="normal"]', timeout=SHOW_MS)
    assert "ED normal" in page.inner_text('#hospitals li[data-code="H-MID"]')

    # A status update reaches the console live: the list and the marker say it in words.
    site.status("H-MID", ed_status="closed", reason="flooded", beds={"icu": 0})
    closed = '#hospitals li[data-code="H-MID"][data-ed="closed"]'
    row = page.wait_for_selector(closed, timeout=SHOW_MS)
    assert "ED closed: flooded" in row.inner_text() and "icu 0" in row.inner_text()
    mark = page.wait_for_selector('.hospital-marker[data-code="H-MID"][data-ed="closed"]')
    assert "CLOSED" in mark.inner_text()
    assert "ED closed: flooded" in str(mark.get_attribute("title"))
    assert page.inner_text("#hospitals li:first-child").startswith("H-MID")  # closed ones first

    # A teleconsult on the selected incident appears, then its specialist and recommendation.
    page.click(f'.queue-item[data-incident="{incident}"] button')
    page.wait_for_selector("#consults li.hint", timeout=SHOW_MS)
    body = {"specialty": "stroke", "reason": "thrombolysis window?"}
    consult = ok(site.admin.post(f"/incidents/{incident}/consults", json=body), 201)
    item = f'#consults li[data-consult="{consult["id"]}"]'
    shown = page.wait_for_selector(f'{item}[data-status="requested"]', timeout=SHOW_MS)
    assert "stroke" in shown.inner_text() and "thrombolysis window?" in shown.inner_text()
    doctor = site.server.add_user("dr.k", "specialist", specialties=["stroke"])
    with site.server.client(doctor) as specialist:
        path = f"/incidents/{incident}/consults/{consult['id']}"
        ok(specialist.post(path + "/accept"))
        page.wait_for_selector(f'{item}[data-status="in_progress"]', timeout=SHOW_MS)
        assert "dr.k" in page.inner_text(item)
        advice = {"recommendation": "go to H-FAR, alert stroke team"}
        ok(specialist.post(path + "/end", json=advice))
    ended = page.wait_for_selector(f'{item}[data-status="ended"]', timeout=SHOW_MS)
    assert "Recommendation: go to H-FAR, alert stroke team" in ended.inner_text()
    screenshot(page, "console-care")

    # A console opened later shows the ended consult (from the API) and the closed hospital.
    late = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(late, site.server.url + "/", site.server.add_user("d.late", "dispatcher"))
    late.wait_for_selector('.hospital-marker[data-code="H-MID"][data-ed="closed"]', timeout=SHOW_MS)
    late.click(f'.queue-item[data-incident="{incident}"] button')
    late.wait_for_selector(f'{item}[data-status="ended"]', timeout=SHOW_MS)
    assert not errors.lines, errors.lines


def test_the_console_lists_monitoring_alerts_live_and_from_its_snapshot(
    browser: Any, site: Site
) -> None:
    with site.server.client(site.server.add_user("nurse.amal", "nurse")) as nurse:
        body = {"identifier": "mrn-0042", "name": "Amina Haddad", "lat": HOME[0], "lon": HOME[1]}
        home = {"address": "4 Rue Didouche", "phone": "+213 555 00 00", "conditions": ["copd"]}
        home["devices"] = ["gw-7731"]
        ok(nurse.post("/patients", json={**body, **home}), 201)
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, site.server.url + "/", site.server.add_user("d.ali", "dispatcher"))
    page.wait_for_selector("#alerts li.hint", timeout=SHOW_MS)

    with site.server.client(site.server.add_user("gw-7731", "device")) as device:
        ok(device.post("/fhir/Observation", json=spo2(78), headers=FHIR_JSON))
    # The alert, then the incident it raised: a button to select it.
    critical = '#alerts li[data-level="critical"]'
    shown = page.wait_for_selector(f"{critical} button", timeout=SHOW_MS)
    text = shown.evaluate("b => b.closest('li').innerText")
    assert text.startswith("CRITICAL Amina Haddad: spo2 78 % (low)"), text
    assert page.inner_text("#alerts-count") == "1"
    shown.click()
    page.wait_for_selector(".queue-item.selected", timeout=SHOW_MS)
    assert "SpO2" in page.inner_text("#detail-head")

    # A console opened later has it from its snapshot.
    late = browser.new_context(viewport=DESKTOP).new_page()
    sign_in(late, site.server.url + "/", site.server.add_user("d.late", "dispatcher"))
    again = late.wait_for_selector(f"{critical} button", timeout=SHOW_MS)
    assert again.evaluate("b => b.closest('li').innerText") == text
    assert not errors.lines, errors.lines


def test_the_crew_sees_its_incidents_teleconsult_and_the_recommendation(
    browser: Any, site: Site
) -> None:
    incident = site.stroke_incident()
    token = site.server.add_user("crew.a", "crew", unit=CREW_UNIT)
    context, page, errors = _crew_page(browser, site.server, token)
    page.wait_for_selector("#job-consults li.hint", timeout=SHOW_MS)
    with site.server.client(token) as crew:
        body = {"specialty": "stroke", "reason": "onset 40 min ago, NIHSS 12"}
        consult = ok(crew.post(f"/incidents/{incident}/consults", json=body), 201)
    item = f'#job-consults li[data-consult="{consult["id"]}"]'
    page.wait_for_selector(f'{item}[data-status="requested"]', timeout=SHOW_MS)
    doctor = site.server.add_user("dr.k", "specialist", specialties=["stroke"])
    with site.server.client(doctor) as specialist:
        path = f"/incidents/{incident}/consults/{consult['id']}"
        ok(specialist.post(path + "/accept"))
        advice = {"recommendation": "thrombolysis candidate: go to H-NEAR"}
        ok(specialist.post(path + "/end", json=advice))
    ended = page.wait_for_selector(f'{item}[data-status="ended"]', timeout=SHOW_MS)
    assert "Recommendation: thrombolysis candidate: go to H-NEAR" in ended.inner_text()
    assert "dr.k" in ended.inner_text()

    # Reopened, the screen still shows the ended consult (from the API: snapshots hold open ones).
    _, again, again_errors = _crew_page(browser, site.server, token)
    again.wait_for_selector(f'{item}[data-status="ended"]', timeout=SHOW_MS)
    assert not errors.lines and not again_errors.lines, errors.lines + again_errors.lines
    context.close()


def test_the_console_lists_a_device_sending_implausible_values_live_until_it_is_right(
    browser: Any, site: Site
) -> None:
    with site.server.client(site.server.add_user("nurse.amal", "nurse")) as nurse:
        body = {"identifier": "mrn-0042", "name": "Amina Haddad", "lat": HOME[0], "lon": HOME[1]}
        home = {"address": "4 Rue Didouche", "conditions": ["copd"], "devices": ["gw-7731"]}
        ok(nurse.post("/patients", json={**body, **home}), 201)
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, site.server.url + "/", site.server.add_user("d.ali", "dispatcher"))
    page.wait_for_selector("#devices li.hint", timeout=SHOW_MS)
    incidents = ok(site.admin.get("/incidents"))

    with site.server.client(site.server.add_user("gw-7731", "device")) as device:
        refused = device.post("/fhir/Observation", json=spo2(0.97), headers=FHIR_JSON)
        assert refused.status_code == 422, refused.text
        problem = ok(site.admin.get("/patients/mrn-0042"))["device_problem"]
        # Live: the patient, the refused element and value, the time; no alert, no incident.
        row = page.wait_for_selector('#devices li.device[data-vital="spo2"]', timeout=SHOW_MS)
        text = row.inner_text()
        assert "Amina Haddad (mrn-0042)" in text and "spo2 0.97 % refused" in text, text
        [issue] = refused.json()["issue"]  # the element the refusal named
        assert problem["field"] and issue["expression"][0].endswith(problem["field"]), issue
        assert f" · {problem['field']} · " in text, text
        assert problem["value"] == "0.97 %"
        assert page.inner_text("#devices-count") == "1"
        assert page.query_selector("#alerts li.alert") is None
        assert page.eval_on_selector("#alarm", "n => n.dataset.active") in ("0", None)
        assert ok(site.admin.get("/incidents")) == incidents
        # Not alarming: plain text, not the red of an unmet requirement or a critical alert.
        colour = row.evaluate("li => getComputedStyle(li).color")
        assert colour not in ("rgb(185, 28, 28)", "rgb(180, 83, 9)"), colour
        screenshot(page, "console-device-problem")

        # A console opened later has it from its snapshot, the same.
        late = browser.new_context(viewport=DESKTOP).new_page()
        sign_in(late, site.server.url + "/", site.server.add_user("d.late", "dispatcher"))
        again = late.wait_for_selector('#devices li.device[data-vital="spo2"]', timeout=SHOW_MS)
        assert again.inner_text() == text

        # A good SpO2 from the device: the row leaves both consoles, live.
        ok(device.post("/fhir/Observation", json=spo2(95), headers=FHIR_JSON))
    for console in (page, late):
        console.wait_for_selector("#devices li.device", state="detached", timeout=SHOW_MS)
        assert console.inner_text("#devices-count") == ""
    assert ok(site.admin.get("/patients/mrn-0042"))["device_problem"] is None
    assert not errors.lines, errors.lines
