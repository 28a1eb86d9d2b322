"""The crew screen for a moving ambulance, in headless Chromium against one real `najda serve`,
at 390×844 and 844×390: the status bar, the undo of a step that ends the job, the take-overs
(new job, re-assignment, cancellation) with sound, vibration and a wake lock, presses queued
offline and replayed on reconnect, the phone's GPS, the destination chosen and re-ranked live."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.browser import DESKTOP, SHOW_MS, PageErrors, chromium, screenshot, sign_in
from tests.e2e.harness import CENTRE, NajdaServer, offset, ok, report
from tests.waiting import eventually

PORTRAIT = {"width": 390, "height": 844}
LANDSCAPE = {"width": 844, "height": 390}
VIEWPORTS = [pytest.param(PORTRAIT, id="390x844"), pytest.param(LANDSCAPE, id="844x390")]
HOSPITALS = (("H-NEAR", 1.5), ("H-FAR", 4.0))
_serial = itertools.count(1)


class Site:
    """The module's server: two hospitals, and a fresh unit with its crew for each test."""

    def __init__(self, server: NajdaServer) -> None:
        self.server = server
        self.admin = server.client()
        for code, km in HOSPITALS:
            lat, lon = offset(*CENTRE, north_m=km * 1000)
            body = {"code": code, "name": f"Hospital {code}", "lat": lat, "lon": lon}
            ok(self.admin.post("/hospitals", json={**body, "services": ["emergency"]}), 201)

    def crew(self) -> tuple[str, str]:
        """A new ALS unit 500 m north of CENTRE and its crew token: (call sign, token)."""
        call_sign = f"M-{next(_serial)}"
        lat, lon = offset(*CENTRE, north_m=500)
        body = {"call_sign": call_sign, "kind": "als", "lat": lat, "lon": lon}
        ok(self.admin.post("/units", json=body), 201)
        return call_sign, self.server.add_user(f"crew.{call_sign.lower()}", "crew", unit=call_sign)

    def job(self, call_sign: str, nature: str = "cardiac arrest") -> str:
        """A new incident with the unit assigned; its id."""
        incident = report(self.admin, "E", nature=nature, address=f"{nature} street 1")
        body = {"units": [call_sign]}
        ok(self.admin.post(f"/incidents/{incident['id']}/assignments", json=body))
        return str(incident["id"])

    def unit(self, call_sign: str) -> Any:
        return ok(self.admin.get(f"/units/{call_sign}"))

    def timeline(self, incident_id: str) -> list[str]:
        return [
            e["text"] for e in ok(self.admin.get(f"/incidents/{incident_id}/timeline"))["entries"]
        ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = NajdaServer(tmp_path_factory.mktemp("crew-screen"), ["--no-demo"]).start()
    try:
        built = Site(server)
        yield built
        built.admin.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


class Phone:
    """A crew's phone: a mobile context at a viewport, signed in to /crew."""

    def __init__(self, browser: Any, site: Site, viewport: dict[str, int], **context: Any) -> None:
        self.viewport = viewport
        self.call_sign, token = site.crew()
        self.context = browser.new_context(
            viewport=viewport, is_mobile=True, has_touch=True, **context
        )
        self.page = self.context.new_page()
        self.page.clock.install()  # time flows; the tests may jump it (the undo's 5 s)
        self.errors = PageErrors(self.page)
        sign_in(self.page, site.server.url + "/crew", token)

    def shot(self, name: str) -> None:
        """A screenshot among the test artefacts (tests/e2e/screenshots, named with the
        viewport)."""
        screenshot(self.page, f"{name}-{self.viewport['width']}x{self.viewport['height']}")

    def takeover(self, kind: str) -> str:
        """Wait for the take-over of that kind; its text."""
        self.page.wait_for_selector(f'#takeover[data-kind="{kind}"]:not([hidden])', timeout=SHOW_MS)
        return str(self.page.inner_text("#takeover"))

    def buttons(self) -> dict[str, dict[str, float]]:
        """The status bar's visible buttons: name -> bounding box."""
        found: dict[str, dict[str, float]] = self.page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('#status-buttons .sbtn')]
                .filter(b => !b.hidden && !b.disabled)
                .map(b => { const r = b.getBoundingClientRect();
                    return [b.dataset.status || b.dataset.action,
                            {x: r.x, y: r.y, width: r.width, height: r.height}]; }))"""
        )
        return found

    def press(self, step: str) -> None:
        self.page.click(f'#status-buttons .sbtn[data-status="{step}"]')

    def shows_status(self, step: str) -> None:
        self.page.wait_for_selector(f'#status-now [data-status="{step}"]', timeout=SHOW_MS)

    def close(self) -> None:
        assert not self.errors.lines, self.errors.lines
        self.context.close()


@pytest.fixture
def phones(browser: Any, site: Site) -> Iterator[list[Phone]]:
    opened: list[Phone] = []
    yield opened
    for phone in opened:
        phone.close()


def _in_view(box: dict[str, float], viewport: dict[str, int]) -> bool:
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"] + 0.5
        and box["y"] + box["height"] <= viewport["height"] + 0.5
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_new_job_takes_the_screen_and_the_bar_offers_the_next_step_largest(
    browser: Any, site: Site, phones: list[Phone], viewport: dict[str, int]
) -> None:
    phone = Phone(browser, site, viewport)
    phones.append(phone)
    page = phone.page
    incident = site.job(phone.call_sign)

    text = phone.takeover("new_job")
    assert "NEW JOB" in text and "cardiac arrest" in text and "cardiac arrest street 1" in text
    cover = page.eval_on_selector("#takeover", "e => e.getBoundingClientRect().toJSON()")
    assert (cover["width"], cover["height"]) == (viewport["width"], viewport["height"])
    rung = eventually(
        lambda: page.evaluate("window.najdaCrew.alerts.filter(a => a.kind === 'new_job')")
    )
    assert rung[0]["tones"] == 3 and rung[0]["vibrated"] is not None, rung
    wake = page.evaluate("window.najdaCrew.wake")
    assert wake["wanted"] is True and wake["requests"] >= 1, wake
    phone.shot("crew-new-job")

    page.click("#takeover-ok")
    page.wait_for_selector("#takeover", state="hidden", timeout=SHOW_MS)
    page.wait_for_function(
        "() => document.querySelector('#job-ack').textContent === 'Acknowledged'", timeout=SHOW_MS
    )
    sounded = len(page.evaluate("window.najdaCrew.alerts"))
    page.clock.fast_forward(10_000)
    assert len(page.evaluate("window.najdaCrew.alerts")) == sounded  # silent once acknowledged

    for step in ("en_route", "on_scene"):
        buttons = phone.buttons()
        assert list(buttons) == [step] or step in buttons, buttons
        phone.press(step)
        phone.shows_status(step)
    buttons = phone.buttons()
    assert set(buttons) == {"transporting", "available"}, buttons
    big, small = buttons["transporting"], buttons["available"]
    assert big["width"] * big["height"] > 1.3 * small["width"] * small["height"], buttons
    assert all(_in_view(box, viewport) for box in buttons.values()), buttons
    assert page.evaluate("window.scrollY") == 0
    phone.shot("crew-status-bar")

    # Available clears the unit from a cardiac arrest: it waits 5 s, and Undo cancels it.
    phone.press("available")
    page.wait_for_selector("#undo:not([hidden])", timeout=SHOW_MS)
    assert _in_view(
        page.eval_on_selector("#undo-button", "e => e.getBoundingClientRect().toJSON()"), viewport
    )
    phone.shot("crew-undo")
    page.click("#undo-button")
    page.clock.fast_forward(6_000)
    sent = page.evaluate("window.najdaCrew.outbox.sent.map(c => c.status || c.type)")
    assert "available" not in sent, sent
    assert site.unit(phone.call_sign)["status"] == "on_scene"

    # Without Undo it goes after 5 s; the crew cleared it itself: no take-over.
    phone.press("available")
    page.clock.fast_forward(5_100)
    phone.shows_status("available")
    assert site.unit(phone.call_sign)["status"] == "available"
    assert page.is_hidden("#takeover")
    assert page.evaluate("window.najdaCrew.wake.wanted") is False
    assert sum("back in service" in line for line in site.timeline(incident)) == 1


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_reassignment_and_a_cancellation_each_take_the_screen_until_acknowledged(
    browser: Any, site: Site, phones: list[Phone], viewport: dict[str, int]
) -> None:
    phone = Phone(browser, site, viewport)
    phones.append(phone)
    first = site.job(phone.call_sign, "fall")
    phone.takeover("new_job")
    phone.page.click("#takeover-ok")
    phone.page.wait_for_selector("#takeover", state="hidden", timeout=SHOW_MS)

    moved = {"reason": "re-assigned to a cardiac arrest"}
    ok(site.admin.post(f"/incidents/{first}/assignments/{phone.call_sign}/release", json=moved))
    second = site.job(phone.call_sign, "cardiac arrest")
    phone.page.wait_for_function(
        "() => document.querySelector('#takeover-body').textContent.includes('arrest street 1')",
        timeout=SHOW_MS,
    )
    text = phone.takeover("reassigned")
    assert "RE-ASSIGNED" in text and "Leave: fall, fall street 1" in text, text
    assert phone.page.evaluate("window.najdaCrew.alerts.some(a => a.kind === 'reassigned')")
    phone.shot("crew-reassigned")
    phone.page.click("#takeover-ok")
    phone.page.wait_for_function(
        "() => document.querySelector('#job-ack').textContent === 'Acknowledged'", timeout=SHOW_MS
    )

    ok(site.admin.post(f"/incidents/{second}/cancel", json={"reason": "caller cancelled"}))
    text = phone.takeover("cancelled")
    assert "STAND DOWN" in text and "cancelled" in text and "cardiac arrest" in text, text
    phone.shot("crew-cancelled")
    phone.page.click("#takeover-ok")
    phone.page.wait_for_selector("#takeover", state="hidden", timeout=SHOW_MS)
    phone.page.wait_for_selector("#no-assignment:not([hidden])", timeout=SHOW_MS)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_presses_made_offline_are_queued_and_replayed_once_when_the_network_returns(
    browser: Any, site: Site, phones: list[Phone], viewport: dict[str, int]
) -> None:
    phone = Phone(browser, site, viewport)
    phones.append(phone)
    page = phone.page
    incident = site.job(phone.call_sign)
    phone.takeover("new_job")
    page.click("#takeover-ok")
    page.wait_for_function(
        "() => document.querySelector('#job-ack').textContent === 'Acknowledged'", timeout=SHOW_MS
    )

    phone.context.set_offline(True)
    page.wait_for_selector('#conn[data-state="offline"]', timeout=SHOW_MS)
    phone.press("en_route")
    phone.press("on_scene")  # offered next, from the queued press
    queued = page.eval_on_selector_all(
        "#outbox li.queued", "items => items.map(i => i.textContent)"
    )
    assert len(queued) == 2 and all("queued" in q for q in queued), queued
    assert "En route" in queued[0] and "On scene" in queued[1], queued
    phone.shot("crew-queued-offline")
    assert site.unit(phone.call_sign)["status"] == "dispatched"

    phone.context.set_offline(False)  # no reload, no tap: it reconnects by itself
    page.wait_for_selector('#conn[data-state="connected"]', timeout=SHOW_MS)
    phone.shows_status("on_scene")
    page.wait_for_selector("#outbox", state="hidden", timeout=SHOW_MS)
    history = page.evaluate("window.najdaLive.history")
    assert history[-1] == "connected" and "offline" in history, history
    lines = site.timeline(incident)
    assert sum("en route" in line for line in lines) == 1, lines
    assert sum("on scene" in line for line in lines) == 1, lines
    ids = page.evaluate("window.najdaCrew.outbox.sent.map(c => c.command_id)")
    assert len(ids) == len(set(ids)) == 3, ids  # the ack, then each queued press once


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_phone_gps_moves_the_unit_and_the_destination_is_chosen_and_reranked(
    browser: Any, site: Site, phones: list[Phone], viewport: dict[str, int]
) -> None:
    here = offset(*CENTRE, north_m=300)
    fix = {"latitude": here[0], "longitude": here[1], "accuracy": 8}
    phone = Phone(browser, site, viewport, geolocation=fix, permissions=["geolocation"])
    phones.append(phone)
    page = phone.page

    page.click("#gps-toggle")

    def at(point: tuple[float, float]) -> bool:
        unit = site.unit(phone.call_sign)
        return abs(unit["lat"] - point[0]) < 1e-6 and abs(unit["lon"] - point[1]) < 1e-6

    eventually(lambda: at(here))
    page.wait_for_selector('#gps-state[data-state="sharing"]', timeout=SHOW_MS)
    coarse = offset(*CENTRE, north_m=20_000)  # a cell-tower fix: not a vehicle position
    phone.context.set_geolocation({"latitude": coarse[0], "longitude": coarse[1], "accuracy": 3000})
    page.wait_for_function("() => window.najdaCrew.gps.skipped >= 1", timeout=SHOW_MS)
    assert at(here)
    # A 10 m nudge is sent too (the page measures no distances, it keeps a cadence): the map
    # shows it, and the server alone decides that it is not worth an event.
    nudged = offset(*CENTRE, north_m=310)
    counts = "() => [window.najdaCrew.gps.reports, window.najdaCrew.gps.recorded]"
    sent, kept = page.evaluate(counts)
    phone.context.set_geolocation({"latitude": nudged[0], "longitude": nudged[1], "accuracy": 8})
    page.clock.fast_forward(3_500)  # past the cadence's gap
    eventually(lambda: at(nudged))
    eventually(lambda: page.evaluate(counts) == [sent + 1, kept])
    moved = offset(*CENTRE, north_m=1300)
    phone.context.set_geolocation({"latitude": moved[0], "longitude": moved[1], "accuracy": 8})
    page.clock.fast_forward(3_500)
    eventually(lambda: at(moved))
    eventually(lambda: page.evaluate(counts) == [sent + 2, kept + 1])  # a kilometre: an event

    incident = site.job(phone.call_sign, "abdominal pain")
    phone.takeover("new_job")
    page.click("#takeover-ok")
    for step in ("en_route", "on_scene", "transporting"):
        page.wait_for_selector(f'#status-buttons .sbtn[data-status="{step}"]:not([hidden])')
        phone.press(step)
        phone.shows_status(step)
    page.wait_for_selector('#dest-list li.dest[data-code="H-NEAR"]', timeout=SHOW_MS)
    codes = "() => [...document.querySelectorAll('#dest-list li.dest')].map(i => i.dataset.code)"
    assert page.evaluate(codes) == ["H-NEAR", "H-FAR"]

    page.click('#dest-list button[data-choose="H-NEAR"]')
    page.wait_for_selector("#dest-chosen:not([hidden])", timeout=SHOW_MS)
    assert "Hospital H-NEAR (H-NEAR)" in page.inner_text("#dest-chosen")
    chosen = [t for t in site.timeline(incident) if "destination" in t]
    who = f"crew.{phone.call_sign.lower()}"
    assert chosen == [f"{who} chose Hospital H-NEAR (H-NEAR) as {phone.call_sign}'s destination"]
    phone.shot("crew-destination")

    # The nearest hospital closes: the list re-ranks by itself.
    closed = {"ed_status": "closed", "reason": "CT scanner down"}
    try:
        ok(site.admin.patch("/hospitals/H-NEAR/status", json=closed))
        page.wait_for_function(f"() => ({codes})().join() === 'H-FAR'", timeout=SHOW_MS)
        assert "CT scanner down" in str(page.text_content("#dest-excluded"))
    finally:
        ok(site.admin.patch("/hospitals/H-NEAR/status", json={"ed_status": "normal"}))
    page.wait_for_function(f"() => ({codes})().join() === 'H-NEAR,H-FAR'", timeout=SHOW_MS)


def test_a_bad_destination_is_refused_with_the_field_named(site: Site) -> None:
    call_sign, token = site.crew()
    site.job(call_sign)
    with httpx.Client(
        base_url=site.server.url, headers={"Authorization": f"Bearer {token}"}
    ) as crew:
        for step in ("en_route", "on_scene"):
            ok(crew.post(f"/units/{call_sign}/status", json={"status": step}))
        unknown = crew.post(f"/units/{call_sign}/destination", json={"hospital": "NOPE"})
        assert unknown.status_code == 422
        assert unknown.json()["detail"][0]["loc"] == ["body", "hospital"]
        first = crew.post(
            f"/units/{call_sign}/destination", json={"hospital": "H-FAR", "command_id": "k"}
        )
        other = crew.post(
            f"/units/{call_sign}/destination", json={"hospital": "H-NEAR", "command_id": "k"}
        )
        again = crew.post(
            f"/units/{call_sign}/destination", json={"hospital": "H-FAR", "command_id": "k"}
        )
    assert ok(first) == {"destination": "H-FAR", "name": "Hospital H-FAR", "replayed": False}
    assert other.status_code == 409 and other.json()["detail"].startswith("command_id: 'k'")
    assert ok(again)["replayed"] is True


def test_the_console_shows_the_destination_a_crew_chose_live_and_on_the_timeline(
    browser: Any, site: Site
) -> None:
    call_sign, token = site.crew()
    incident = site.job(call_sign, "abdominal pain")
    context = browser.new_context(viewport=DESKTOP)
    console = context.new_page()
    errors = PageErrors(console)
    sign_in(console, site.server.url + "/", site.server.add_user(f"d.{call_sign}", "dispatcher"))
    console.click(f'.queue-item[data-incident="{incident}"]')
    console.wait_for_selector(f'#assigned li[data-unit="{call_sign}"]', timeout=SHOW_MS)

    with httpx.Client(
        base_url=site.server.url, headers={"Authorization": f"Bearer {token}"}
    ) as crew:
        for step in ("en_route", "on_scene"):
            ok(crew.post(f"/units/{call_sign}/status", json={"status": step}))
        ok(crew.post(f"/units/{call_sign}/destination", json={"hospital": "H-FAR"}))

    shown = console.wait_for_selector(
        f'#assigned li[data-unit="{call_sign}"] .dest-chosen[data-code="H-FAR"]', timeout=SHOW_MS
    )
    assert shown.inner_text().strip() == "→ Hospital H-FAR (H-FAR)"
    line = console.wait_for_selector(
        '#timeline li[data-event="Incident.DestinationChosen"]', timeout=SHOW_MS
    )
    assert f"chose Hospital H-FAR (H-FAR) as {call_sign}'s destination" in line.inner_text()
    assert not errors.lines, errors.lines
    context.close()
