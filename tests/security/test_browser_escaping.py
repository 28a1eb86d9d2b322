"""Station, hospital and unit text is always shown as text in the browser: a name holding
`<img onerror>` reaches the console's map as those characters, never as an element."""

from __future__ import annotations

from tests.e2e.browser import DESKTOP, SHOW_MS, PageErrors, chromium, sign_in
from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, offset, ok

HOSTILE = '<img src="x" onerror="document.title=\'pwned\'">'


def test_hostile_station_and_hospital_names_are_shown_as_text(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    with server.client() as admin:
        lat, lon = CENTRE
        station = {"code": "ST<b>1</b>", "name": "Station " + HOSTILE, "lat": lat, "lon": lon}
        ok(admin.post("/stations", json=station), 201)
        h_lat, h_lon = offset(lat, lon, north_m=2_000)
        hospital = {"code": "H<i>1", "name": "Hospital " + HOSTILE, "lat": h_lat, "lon": h_lon,
                    "services": ["emergency"]}  # fmt: skip
        ok(admin.post("/hospitals", json=hospital), 201)
        u_lat, u_lon = offset(lat, lon, north_m=-1_500, east_m=1_500)  # not over the places
        ok(admin.post("/units", json={"call_sign": "A-1", "kind": "als", "lat": u_lat,
                                      "lon": u_lon}), 201)  # fmt: skip
    token = server.add_user("d.escape", "dispatcher")
    with chromium() as browser:
        page = browser.new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        sign_in(page, server.url + "/", token)
        page.wait_for_selector(".place-station", timeout=SHOW_MS)
        page.dispatch_event(".place-station", "mouseover")  # wherever the map has it
        tooltip = page.wait_for_selector(".leaflet-tooltip:not(.zone-label)", timeout=SHOW_MS)
        station_text = tooltip.text_content()
        page.wait_for_selector(".hospital-marker", timeout=SHOW_MS)
        hospital_label = page.get_attribute(".hospital-marker", "aria-label")
        injected = page.evaluate(
            "() => document.querySelectorAll('#map img[src=\"x\"], #map b, #map i').length"
        )
        zone_labels = page.eval_on_selector_all(".zone-label", "ls => ls.map(l => l.textContent)")
        title = page.title()
    assert station_text is not None and HOSTILE in station_text
    assert "ST<b>1</b>" in station_text
    assert hospital_label is not None and HOSTILE in hospital_label
    assert injected == 0
    assert "ST<b>1</b>" in zone_labels
    assert title != "pwned"
    assert not [line for line in errors.lines if "Content Security Policy" not in line]
