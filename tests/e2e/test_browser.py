"""The console and the crew screen in headless Chromium against a real `najda serve`."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import (
    DESKTOP,
    FREE_SPOT,
    PHONE,
    RECORDER,
    SHOW_MS,
    PageErrors,
    acknowledge_job,
    board_status,
    chromium,
    marker,
    screenshot,
    sign_in,
    wait_unit_shown,
)
from tests.e2e.conftest import StartServer
from tests.e2e.harness import NajdaServer, offset, ok, report

#: What the map marker writes for each status (the console's short codes), and the words.
CODES = {
    "dispatched": "DSP",
    "en_route": "ENR",
    "on_scene": "ONS",
    "transporting": "TRN",
    "at_hospital": "HSP",
    "available": "AVL",
}
WORDS = {
    "dispatched": "Dispatched",
    "en_route": "En route",
    "on_scene": "On scene",
    "transporting": "Transporting",
    "at_hospital": "At hospital",
    "available": "Available",
}
#: The crew's steps after the assignment, in order.
STEPS = ("en_route", "on_scene", "transporting", "at_hospital", "available")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(start_server: StartServer) -> NajdaServer:
    """A server seeded with the demo city."""
    return start_server()


def _console(browser: Any, server: NajdaServer, name: str) -> tuple[Any, PageErrors]:
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, server.url + "/", server.add_user(name, "dispatcher"))
    with server.client() as admin:
        units = len(ok(admin.get("/units")))
    page.wait_for_function(f"document.querySelectorAll('#board tr').length === {units}")
    return page, errors


def _crew(browser: Any, server: NajdaServer, call_sign: str) -> tuple[Any, Any, PageErrors]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = PageErrors(page)
    token = server.add_user(f"crew.{call_sign.lower()}", "crew", unit=call_sign)
    sign_in(page, server.url + "/crew", token)
    return context, page, errors


def _enabled_buttons(page: Any) -> set[str]:
    names: list[str] = page.eval_on_selector_all(
        "#status-buttons .sbtn:not([disabled])",
        "bs => bs.map(b => b.dataset.status || b.dataset.action)",
    )
    return set(names)


def test_a_call_reported_in_the_console_is_worked_by_the_crew_and_followed_by_the_console(
    browser: Any, server: NajdaServer
) -> None:
    console, console_errors = _console(browser, server, "d.intake")
    # Keyboard first: `n` goes to the form; a click on the map gives the location.
    console.keyboard.press("n")
    assert console.evaluate("document.activeElement.id") == "f-location"
    spot = console.evaluate(FREE_SPOT)
    assert spot is not None, "no free spot on the map"
    console.mouse.click(*spot)
    typed = console.input_value("#f-location")
    lat, lon = (float(v) for v in re.split(r",\s*", typed))
    with server.client() as admin:
        west, south, east, north = ok(admin.get("/map"))["bbox"]
    assert south <= lat <= north and west <= lon <= east, typed
    console.fill("#f-address", "12 Rue des Oliviers")
    console.fill("#f-nature", "Chest pain")
    console.select_option("#f-priority", "D")
    console.focus("#f-nature")
    console.keyboard.press("Enter")

    # The incident is queued and selected, with the server's recommendation.
    item = console.wait_for_selector(".queue-item.selected", timeout=SHOW_MS)
    incident_id = item.get_attribute("data-incident")
    assert "Chest pain" in item.inner_text()
    first = console.wait_for_selector('#recs li[data-index="1"]', timeout=SHOW_MS)
    call_sign = first.get_attribute("data-unit")
    with server.client() as admin:
        rec = ok(admin.get(f"/incidents/{incident_id}/recommendations"))
    assert call_sign == rec["requirements"][0]["proposed"][0]["call_sign"]
    assert re.search(r"\d+(\.\d)? k?m", first.inner_text()) and "ETA" in first.inner_text()
    assert board_status(console, call_sign) == "available"

    # One key assigns the first recommended unit.
    console.keyboard.press("1")
    wait_unit_shown(console, call_sign, "dispatched")
    assert marker(console, call_sign)["code"] == CODES["dispatched"]
    console.wait_for_selector(f'#assigned li[data-unit="{call_sign}"]', timeout=SHOW_MS)

    # The crew's phone: the assignment arrives with address, nature, priority and a map.
    context, crew, crew_errors = _crew(browser, server, call_sign)
    crew.wait_for_selector("#job:not([hidden])", timeout=SHOW_MS)
    assert crew.inner_text("#job-nature") == "Chest pain"
    assert crew.inner_text("#job-address") == "12 Rue des Oliviers"
    assert crew.inner_text("#job-priority") == "D"
    crew.wait_for_selector("#crew-map .incident-marker", timeout=SHOW_MS)
    for button in crew.query_selector_all("#status-buttons .sbtn:not([hidden])"):
        size = button.bounding_box()
        assert size["height"] >= 48 and size["width"] >= 48, size
    assert _enabled_buttons(crew) == {"ack", "en_route"}
    acknowledge_job(crew)  # the new job took the screen until acknowledged
    console.wait_for_selector(f'#board tr[data-unit="{call_sign}"] .ack', timeout=SHOW_MS)

    for step in STEPS:
        assert step in _enabled_buttons(crew), (step, _enabled_buttons(crew))
        crew.click(f'.sbtn[data-status="{step}"]')
        crew.wait_for_selector(f'#status-now [data-status="{step}"]', timeout=SHOW_MS)
        wait_unit_shown(console, call_sign, step)
        shown = marker(console, call_sign)
        assert shown is not None and shown["code"] == CODES[step], shown
        assert WORDS[step] in shown["label"], shown
        row = console.inner_text(f'#board tr[data-unit="{call_sign}"]')
        assert WORDS[step] in row, row
        if step == "on_scene":
            screenshot(console, "console-on-scene")
            screenshot(crew, "crew-on-scene")
        if step == "at_hospital":
            assert _enabled_buttons(crew) == {"available"}
    crew.wait_for_selector("#no-assignment:not([hidden])", timeout=SHOW_MS)
    console.wait_for_function(
        f"""() => !document.querySelector('#assigned li[data-unit="{call_sign}"]')""",
        timeout=SHOW_MS,
    )
    # Every unit has cleared: `c` closes the incident; it leaves the queue, its timeline stays.
    console.keyboard.press("c")
    assert console.evaluate("document.activeElement.id") == "end-text"
    console.keyboard.press("Enter")
    console.wait_for_selector(f'.queue-item[data-incident="{incident_id}"]', state="detached")
    console.wait_for_selector('#timeline li[data-event="Incident.Closed"]', timeout=SHOW_MS)
    screenshot(console, "console-after-run")
    screenshot(crew, "crew-after-run")
    assert not console_errors.lines and not crew_errors.lines, (
        console_errors.lines + crew_errors.lines
    )
    context.close()


def test_a_unit_is_reassigned_and_released_from_the_keyboard(
    browser: Any, server: NajdaServer
) -> None:
    console, errors = _console(browser, server, "d.keys")
    with server.client() as admin:
        first = report(admin, "E", lat=36.752, lon=3.058, nature="Unconscious person")
        second = report(admin, "B", lat=36.753, lon=3.06, nature="Sick person")
    console.wait_for_selector(f'.queue-item[data-incident="{second["id"]}"]', timeout=SHOW_MS)
    console.keyboard.press("j")  # the most urgent call heads the queue
    assert console.get_attribute(".queue-item.selected", "data-incident") == first["id"]
    unit = console.wait_for_selector('#recs li[data-index="1"]').get_attribute("data-unit")
    console.keyboard.press("1")
    wait_unit_shown(console, unit, "dispatched")

    console.keyboard.press("e")  # re-assign: the other open call is offered
    assert console.evaluate("document.activeElement.id") == "reassign-target"
    assert console.input_value("#reassign-target") == second["id"]
    console.keyboard.press("Enter")
    console.wait_for_selector(f'.queue-item.selected[data-incident="{second["id"]}"]')
    console.wait_for_selector(f'#assigned li[data-unit="{unit}"]', timeout=SHOW_MS)
    assert "Sick person" in console.inner_text(f'#board tr[data-unit="{unit}"]')
    with server.client() as admin:
        ended = ok(admin.get(f"/incidents/{first['id']}"))["assignments"][0]
        assert ended["unit_id"] and ended["active"] is False
        assert ended["end_reason"].startswith("re-assigned to B Sick person")

    # Closing while a unit is still on it: the API refuses, and the console says why.
    console.keyboard.press("c")
    console.keyboard.press("Enter")
    toast = console.wait_for_selector("#toast:not([hidden])", timeout=SHOW_MS)
    with server.client() as admin:
        body = {"disposition": "treated and transported"}
        refused = admin.post(f"/incidents/{second['id']}/close", json=body)
    assert refused.status_code == 409
    assert toast.inner_text() == f"Closing: {refused.json()['detail']}"
    console.keyboard.press("Escape")

    console.keyboard.press("r")  # release, with the reason given
    console.fill("#release-reason", "caller cancelled")
    console.keyboard.press("Enter")
    wait_unit_shown(console, unit, "available")
    console.wait_for_selector('#timeline li[data-event="Incident.UnitReleased"]', timeout=SHOW_MS)
    assert "caller cancelled" in console.inner_text("#timeline")
    assert not errors.lines, errors.lines


def test_another_dispatchers_assignment_shows_within_a_second_and_never_goes_back(
    browser: Any, server: NajdaServer
) -> None:
    console, errors = _console(browser, server, "d.watch")
    other = server.add_user("d.other", "dispatcher")
    with server.client() as admin, server.client(other) as dispatcher:
        incident = report(dispatcher, "E", lat=36.752, lon=3.058, nature="Cardiac arrest")
        call_sign = incident["recommendation"]["proposed"][0]["call_sign"]
        console.wait_for_selector(f'.queue-item[data-incident="{incident["id"]}"]')
        assert board_status(console, call_sign) == "available"
        console.evaluate(RECORDER, call_sign)

        started = time.monotonic()
        body = {"units": [call_sign]}
        ok(dispatcher.post(f"/incidents/{incident['id']}/assignments", json=body))
        wait_unit_shown(console, call_sign, "dispatched", timeout_ms=1_000)
        shown_after_s = time.monotonic() - started
        assert shown_after_s < 1.0, shown_after_s

        # A dropped connection resumes after the last position seen; changes made meanwhile
        # arrive in order, and the unit is never drawn available again.
        before = console.evaluate("window.najdaLive.history.length")
        console.evaluate("window.najdaLive.socket.close()")
        ok(admin.post(f"/units/{call_sign}/status", json={"status": "en_route"}))
        console.wait_for_function(
            f"() => najdaLive.history.length > {before} && najdaLive.state === 'connected'",
            timeout=SHOW_MS,
        )
        assert "reconnecting" in console.evaluate("window.najdaLive.history")[before:]
        assert console.evaluate("window.najdaLive.lastHello.resumed") is True
        wait_unit_shown(console, call_sign, "en_route")
        # A new call's recommendation does not offer the committed unit.
        second = report(dispatcher, "C", lat=36.752, lon=3.059, nature="Fall")
        console.click(f'.queue-item[data-incident="{second["id"]}"] button')
        console.wait_for_selector('#recs li[data-index="1"]', timeout=SHOW_MS)
        offered = console.eval_on_selector_all(
            "#recs li[data-unit]", "ls => ls.map(l => l.dataset.unit)"
        )
        assert call_sign not in offered

    trail: list[list[Any]] = console.evaluate("window.__trail")
    shown = [(board, mark) for _, board, mark in trail]
    assert shown[0] == ("available", "available"), trail
    first = next(i for i, s in enumerate(shown) if "dispatched" in s)
    assert all("available" not in s for s in shown[first:]), trail
    assert shown[-1] == ("en_route", "en_route"), trail
    assert not errors.lines, errors.lines


def test_a_silent_unit_is_flagged_stale_on_the_board_and_map_until_heard_again(
    browser: Any, start_server: StartServer
) -> None:
    server = start_server(NAJDA_STALE_AFTER_S="3")
    console, errors = _console(browser, server, "d.stale")
    unit = console.get_attribute("#board tr", "data-unit")  # the first unit by call sign
    console.wait_for_selector(f'#board tr.is-stale[data-unit="{unit}"]', timeout=SHOW_MS)
    assert "STALE" in console.inner_text(f'#board tr[data-unit="{unit}"]')
    console.wait_for_selector(f'.unit-marker.is-stale[data-unit="{unit}"]', timeout=SHOW_MS)
    shown = marker(console, unit)
    assert shown is not None and "STALE" in shown["text"] and "stale" in shown["label"], shown
    with server.client() as admin:
        row = ok(admin.get(f"/units/{unit}"))
        lat, lon = offset(row["lat"], row["lon"], north_m=300.0)
        ok(admin.post(f"/units/{unit}/position", json={"lat": lat, "lon": lon}))
    console.wait_for_selector(f'#board tr[data-unit="{unit}"]:not(.is-stale)', timeout=SHOW_MS)
    shown = marker(console, unit)
    assert shown is not None and "STALE" not in shown["text"], shown
    assert not errors.lines, errors.lines


@pytest.mark.postgres
def test_on_postgis_a_console_on_another_process_shows_a_keyed_assignment_within_a_second(
    browser: Any, start_server: StartServer, pg_url: str
) -> None:
    first = start_server("--database-url", pg_url, "--demo", name="first")
    second = start_server("--database-url", pg_url, "--no-demo", name="second")
    assigning, errors = _console(browser, first, "d.pg.one")
    watching, watch_errors = _console(browser, second, "d.pg.two")
    with first.client() as admin:
        incident = report(admin, "E", lat=36.7401, lon=3.0702, nature="Cardiac arrest")
    for page in (assigning, watching):
        page.wait_for_selector(f'.queue-item[data-incident="{incident["id"]}"]', timeout=SHOW_MS)
    assigning.keyboard.press("j")
    unit = assigning.wait_for_selector('#recs li[data-index="1"]').get_attribute("data-unit")
    watching.evaluate(RECORDER, unit)
    started = time.monotonic()
    assigning.keyboard.press("1")
    wait_unit_shown(watching, unit, "dispatched", timeout_ms=1_000)
    shown_after_s = time.monotonic() - started
    assert shown_after_s < 1.0, shown_after_s
    trail = [tuple(t[1:]) for t in watching.evaluate("window.__trail")]
    assert trail == [("available", "available"), ("dispatched", "dispatched")], trail
    assert not errors.lines and not watch_errors.lines, errors.lines + watch_errors.lines


def test_the_crew_screen_shows_its_connection_and_resumes_after_a_drop(
    browser: Any, server: NajdaServer
) -> None:
    with server.client() as admin:
        incident = report(admin, "D", lat=36.74, lon=3.09, nature="Breathing problems")
        call_sign = incident["recommendation"]["proposed"][0]["call_sign"]
        ok(admin.post(f"/incidents/{incident['id']}/assignments", json={"units": [call_sign]}))
        context, crew, errors = _crew(browser, server, call_sign)
        crew.wait_for_selector("#job:not([hidden])", timeout=SHOW_MS)

        # Offline: the screen says so by itself (a press would be queued, not lost).
        context.set_offline(True)
        crew.wait_for_selector('#conn[data-state="offline"]', timeout=SHOW_MS)
        assert _enabled_buttons(crew) == {"ack", "en_route"}
        screenshot(crew, "crew-offline")
        note = {"text": "Gate code 4711, third floor"}
        ok(admin.post(f"/incidents/{incident['id']}/notes", json=note))
        ok(admin.post(f"/units/{call_sign}/status", json={"status": "en_route"}))

        # Back online: it resumes after the last position it saw and catches up.
        context.set_offline(False)
        crew.wait_for_selector('#conn[data-state="connected"]', timeout=SHOW_MS)
        crew.wait_for_selector('#status-now [data-status="en_route"]', timeout=SHOW_MS)
        crew.wait_for_function(
            "() => document.querySelector('#job-notes').textContent.includes('Gate code 4711')",
            timeout=SHOW_MS,
        )
        assert crew.evaluate("window.najdaLive.lastHello.resumed") is True
        history = crew.evaluate("window.najdaLive.history")
        assert history[-1] == "connected" and "offline" in history, history

        # A drop while online: it shows reconnecting, comes back by itself, and resumes.
        crew.evaluate("window.najdaLive.socket.close()")
        ok(admin.post(f"/units/{call_sign}/status", json={"status": "on_scene"}))
        crew.wait_for_selector('#status-now [data-status="on_scene"]', timeout=SHOW_MS)
        history = crew.evaluate("window.najdaLive.history")
        assert "reconnecting" in history[history.index("offline") :], history
        assert crew.evaluate("window.najdaLive.lastHello.resumed") is True
        assert _enabled_buttons(crew) == {"ack", "transporting", "available"}  # never acknowledged
        assert not errors.lines, errors.lines
        context.close()


def test_the_pages_make_no_request_beyond_the_server(browser: Any, server: NajdaServer) -> None:
    outside: list[str] = []
    failed: list[str] = []
    context = browser.new_context(viewport=DESKTOP)

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on("requestfailed", lambda r: failed.append(f"{r.url} {r.failure}"))
    context.on(
        "response", lambda r: failed.append(f"{r.url} {r.status}") if r.status >= 400 else None
    )
    page = context.new_page()
    errors = PageErrors(page)
    sign_in(page, server.url + "/", server.add_user("d.offline", "dispatcher"))
    with server.client() as admin:
        stations = ok(admin.get("/stations"))
        hospitals = ok(admin.get("/hospitals"))
    # The base map is our own: a zone labelled per station, every station and hospital.
    page.wait_for_function(
        f"document.querySelectorAll('.zone-label').length === {len(stations)}", timeout=SHOW_MS
    )
    assert page.locator(".place-station").count() == len(stations)
    assert page.locator(".place-hospital").count() == len(hospitals)
    # Coordinates typed instead of clicked.
    page.keyboard.press("n")
    page.keyboard.type("36.7401, 3.0702")
    page.fill("#f-nature", "Overdose")
    page.focus("#f-nature")
    page.keyboard.press("Enter")
    page.wait_for_selector('#recs li[data-index="1"]', timeout=SHOW_MS)
    crew = context.new_page()
    sign_in(crew, server.url + "/crew", server.add_user("crew.r12", "crew", unit="R12"))
    crew.wait_for_selector("#no-assignment:not([hidden])")
    assert outside == [], outside
    assert failed == [], failed
    assert not errors.lines, errors.lines
    context.close()
