"""The console tells the truth about requirements, assigns any unit on purpose and re-assigns
in one call: headless Chromium against one demo server for the module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from najda.api.input_limits import MAX_AS_OF, MAX_SEARCH_WORDS, MAX_UNIT_REF
from najda.domain.values import MAX_NOTE, MAX_REASON
from tests.e2e.browser import (
    DESKTOP,
    SHOW_MS,
    PageErrors,
    chromium,
    screenshot,
    wait_unit_shown,
)
from tests.e2e.console_truth import expected, open_console, select, shows
from tests.e2e.harness import NajdaServer, clean_env, ok, report


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    """One server seeded with the demo city for the module (E calls: 3 s targets)."""
    workdir = tmp_path_factory.mktemp("console-truth")
    # Short targets for E calls, so the overdue marks and the alarm show within seconds.
    targets = workdir / "targets.json"
    targets.write_text(json.dumps({"E": {"call_to_dispatch_s": 3, "turnout_s": 3}}))
    started = NajdaServer(workdir, env=clean_env(NAJDA_TARGETS=str(targets))).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def admin(server: NajdaServer) -> Iterator[httpx.Client]:
    """The administrator's client; every open incident is cancelled after each test."""
    with server.client() as client:
        yield client
        for row in ok(client.get("/incidents")):
            ok(client.post(f"/incidents/{row['id']}/cancel", json={"reason": "test over"}))


def _shot(page: Any, name: str) -> None:
    screenshot(page, f"console-{name}")


def test_a_filled_requirement_is_never_proposed_and_a_short_call_reads_short(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    page, errors = open_console(browser, server, "d.truth")
    incident_id = report(admin, "D", lat=36.7520, lon=3.0580, nature="chest pain")["id"]
    select(page, incident_id)
    shows(page, expected(admin, incident_id))
    first = page.get_attribute('#recs li[data-index="1"]', "data-unit")
    assert page.get_attribute('#recs li[data-index="1"]', "data-role") == "proposed"
    page.keyboard.press("1")
    wait_unit_shown(page, first, "dispatched")
    answer = expected(admin, incident_id)
    assert answer[0][1] == "filled" and answer[1][1] == "proposed"
    shows(page, answer)
    # `1` now proposes the other requirement's unit, never a second unit for the filled one.
    assert page.get_attribute('#recs li[data-index="1"]', "data-requirement") == answer[1][0]
    assert page.get_attribute('#recs li[data-index="1"]', "data-unit") == answer[1][3]
    # One unit on a two-unit plan: SHORT in the queue and in the incident view, not DISPATCHED.
    row = f'.queue-item[data-incident="{incident_id}"]'
    page.wait_for_selector(f'{row}[data-attention="short"] .short-flag', timeout=SHOW_MS)
    assert "SHORT" in page.inner_text(".detail-state")
    _shot(page, "short")
    page.keyboard.press("1")
    page.wait_for_selector(f'{row}[data-attention=""]', timeout=SHOW_MS)
    shows(page, expected(admin, incident_id))
    assert page.query_selector('#recs li[data-role="proposed"]') is None
    # Released, a unit's need comes back (short); finished, the call reads UNITS CLEARED.
    units = [a["call_sign"] for a in ok(admin.get(f"/incidents/{incident_id}"))["assignments"]]
    release = {"reason": "needed elsewhere"}
    ok(admin.post(f"/incidents/{incident_id}/assignments/{units[1]}/release", json=release))
    page.wait_for_selector(f'{row}[data-attention="short"]', timeout=SHOW_MS)
    for status in ("en_route", "on_scene", "available"):
        ok(admin.post(f"/units/{units[0]}/status", json={"status": status}))
    page.wait_for_selector(f'{row}[data-attention="cleared"]', timeout=SHOW_MS)
    assert "UNITS CLEARED" in page.inner_text(row)
    # Closed with a confirmation (the disposition asked for), and a visible result.
    page.keyboard.press("c")
    page.wait_for_selector("#end-form:not([hidden])", timeout=SHOW_MS)
    assert ok(admin.get(f"/incidents/{incident_id}"))["status"] != "closed"  # not yet
    page.fill("#end-text", "treated on scene")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent.includes('closed: treated on scene')",
        timeout=SHOW_MS,
    )
    page.wait_for_selector(row, state="detached", timeout=SHOW_MS)
    closed = ok(admin.get(f"/incidents/{incident_id}"))
    assert (closed["status"], closed["disposition"]) == ("closed", "treated on scene")
    assert not errors.lines, errors.lines


def test_any_unit_by_call_sign_and_taking_a_committed_one_with_a_confirmation(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    page, errors = open_console(browser, server, "d.any")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    source = report(admin, "C", lat=36.7700, lon=3.0700, nature="fall")["id"]
    ok(admin.post(f"/incidents/{source}/assignments", json={"units": ["A20"]}))
    target = report(admin, "E", lat=36.7520, lon=3.0580, nature="cardiac arrest")["id"]
    select(page, target)

    # An available unit far from the plan's choice: typed, shown with its ETA, assigned.
    page.fill("#any-unit", "b91")
    page.wait_for_function(
        "() => /B91 .*available.*ETA/.test(document.querySelector('#any-info').textContent)",
        timeout=SHOW_MS,
    )
    page.press("#any-unit", "Enter")
    wait_unit_shown(page, "B91", "dispatched")
    assert ok(admin.get("/units/B91"))["incident_id"] == target

    # An unknown call sign: the API's message, nothing sent.
    page.fill("#any-unit", "ZZ-99")
    page.wait_for_function(
        "() => document.querySelector('#any-info').textContent.includes('ZZ-99 not found')",
        timeout=SHOW_MS,
    )

    # A unit committed elsewhere: taken only after the confirmation, in one call.
    posts.clear()
    page.fill("#any-unit", "A20")
    page.wait_for_function(
        "() => document.querySelector('#any-info').textContent.includes('on C fall')",
        timeout=SHOW_MS,
    )
    page.press("#any-unit", "Enter")
    page.wait_for_selector("#any-take:not([hidden])", timeout=SHOW_MS)
    _shot(page, "take-confirm")
    assert ok(admin.get("/units/A20"))["incident_id"] == source  # not yet
    page.click("#any-take")
    page.wait_for_selector('#assigned li[data-unit="A20"]', timeout=SHOW_MS)
    assert ok(admin.get("/units/A20"))["incident_id"] == target
    assert [p.split(server.url)[1] for p in posts] == [f"/incidents/{target}/assignments/reassign"]
    # The source's need reappears: its row reads short, with no unit.
    page.wait_for_selector(
        f'.queue-item[data-incident="{source}"][data-attention="short"]', timeout=SHOW_MS
    )
    assert "NO UNIT" in page.inner_text(f'.queue-item[data-incident="{source}"]')
    assert not errors.lines, errors.lines


def test_the_reassign_form_makes_one_call(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    page, errors = open_console(browser, server, "d.reassign")
    first = report(admin, "C", lat=36.7350, lon=3.0350, nature="breathing problems")["id"]
    second = report(admin, "E", lat=36.7360, lon=3.0360, nature="choking")["id"]
    ok(admin.post(f"/incidents/{first}/assignments", json={"units": ["A30"]}))
    select(page, first)
    page.wait_for_selector('#assigned li[data-unit="A30"]', timeout=SHOW_MS)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.keyboard.press("e")
    page.select_option("#reassign-target", second)
    page.keyboard.press("Enter")
    page.wait_for_selector(f'.queue-item.selected[data-incident="{second}"]', timeout=SHOW_MS)
    page.wait_for_selector('#assigned li[data-unit="A30"]', timeout=SHOW_MS)
    assert [p.split(server.url)[1] for p in posts] == [f"/incidents/{second}/assignments/reassign"]
    assert ok(admin.get("/units/A30"))["incident_id"] == second
    # The limits come from the server's rules (the socket's hello), not from the page.
    assert page.eval_on_selector("#note-text", "e => e.maxLength") == MAX_NOTE
    assert page.eval_on_selector("#release-reason", "e => e.maxLength") == MAX_REASON
    assert not errors.lines, errors.lines


def _alarm(page: Any) -> dict[str, str]:
    found: dict[str, str] = page.eval_on_selector("#alarm", "n => ({...n.dataset})")
    return found


def test_overdue_calls_and_units_are_marked_and_the_alarm_repeats_until_acknowledged(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    page, errors = open_console(browser, server, "d.alarm")
    assert ok(admin.get("/floor/settings"))["targets"]["E"]["call_to_dispatch_s"] == 3
    page.wait_for_function("() => document.querySelector('#now').textContent !== ''")
    # A low-acuity phone call sounds nothing; an E call from another dispatcher does, and
    # the alarm repeats while nobody acknowledges it.
    report(admin, "A", lat=36.7400, lon=3.0500, nature="minor injury")
    urgent = report(admin, "E", lat=36.7520, lon=3.0580, nature="cardiac arrest")["id"]
    page.wait_for_function(
        "() => document.querySelector('#alarm').dataset.active !== '0'", timeout=SHOW_MS
    )
    assert "cardiac arrest" in page.inner_text("#alarm .alarm-text")
    assert "minor injury" not in page.inner_text("#alarm .alarm-text")
    page.wait_for_function(
        "() => Number(document.querySelector('#alarm').dataset.beeps) >= 2", timeout=SHOW_MS
    )
    # Past its 3 s call-to-dispatch target the pending call is highlighted and alarms again.
    row = f'.queue-item[data-incident="{urgent}"]'
    page.wait_for_selector(f'{row}.overdue[data-overdue="call_to_dispatch"]', timeout=SHOW_MS)
    page.wait_for_function(
        "() => document.querySelector('#alarm .alarm-text').textContent.includes('unassigned')",
        timeout=SHOW_MS,
    )
    _shot(page, "overdue-alarm")
    page.keyboard.press("a")
    assert _alarm(page)["active"] == "0"
    # A unit that does not turn out within the target is marked on the board.
    ok(admin.post(f"/incidents/{urgent}/assignments", json={"units": ["A10"]}))
    page.wait_for_selector('#board tr[data-unit="A10"][data-overdue="turnout"]', timeout=SHOW_MS)
    # Muted: a monitoring incident (any priority) is listed but makes no sound.
    page.click("#mute-button")
    beeps = _alarm(page)["beeps"]
    report(admin, "A", lat=36.7410, lon=3.0510, nature="low SpO2", source="monitoring")
    page.wait_for_function(
        "() => document.querySelector('#alarm .alarm-text').textContent.includes('monitoring')",
        timeout=SHOW_MS,
    )
    assert _alarm(page)["muted"] == "true" and _alarm(page)["beeps"] == beeps
    page.keyboard.press("a")
    assert not errors.lines, errors.lines


def test_floor_controls_duplicates_radio_status_triage_and_ending(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    page, errors = open_console(browser, server, "d.floor")
    first = report(admin, "C", lat=36.7440, lon=3.0480, nature="fall", callback="+213 555 0101")
    second = report(
        admin, "C", lat=36.7444, lon=3.0480, nature="fall in street", callback="+213 555 0202"
    )
    select(page, second["id"])
    # The callback number is a tel: link; the nearby open call is offered as a duplicate.
    assert page.get_attribute("#callback-line a.callback", "href") == "tel:+2135550202"
    page.wait_for_selector(f'#duplicates .duplicate[data-incident="{first["id"]}"]')
    _shot(page, "possible-duplicate")
    page.click("#duplicates .dup-link")
    page.wait_for_selector(f'.queue-item.selected[data-incident="{first["id"]}"]')
    page.wait_for_selector(f'.queue-item[data-incident="{second["id"]}"]', state="detached")
    linked = ok(admin.get(f"/incidents/{second['id']}"))
    assert (linked["status"], linked["duplicate_of"]) == ("cancelled", first["id"])

    # A crew on the radio: the dispatcher records its status for it.
    ok(admin.post(f"/incidents/{first['id']}/assignments", json={"units": ["A13"]}))
    page.click('#assigned li[data-unit="A13"] button.radio[data-next="en_route"]')
    wait_unit_shown(page, "A13", "en_route")
    page.wait_for_function(
        "() => document.querySelector('#timeline').textContent.includes('by radio')",
        timeout=SHOW_MS,
    )
    assert "d.floor reported A13 en route" in page.inner_text("#timeline")

    # Re-triage and a corrected location from the incident view.
    page.select_option("#t-priority", "E")
    page.fill("#t-location", "36.7450, 3.0490")
    page.click("#triage-form button[type=submit]")
    page.wait_for_selector(
        f'.queue-item[data-incident="{first["id"]}"] .prio-badge.prio-e', timeout=SHOW_MS
    )
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent === 'Incident updated'",
        timeout=SHOW_MS,
    )
    moved = ok(admin.get(f"/incidents/{first['id']}"))
    assert (moved["priority"], moved["lat"], moved["lon"]) == ("E", 36.745, 3.049)

    # Cancel with a confirmation (the reason), and a visible result.
    page.keyboard.press("x")
    page.fill("#end-text", "caller says no longer needed")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#toast').textContent.includes('cancelled: caller says')",
        timeout=SHOW_MS,
    )
    page.wait_for_selector(f'.queue-item[data-incident="{first["id"]}"]', state="detached")
    assert ok(admin.get(f"/incidents/{first['id']}"))["status"] == "cancelled"

    # Escape closes a suggestion list first and never wipes the intake form.
    page.keyboard.press("n")
    page.fill("#f-address", "12 Rue des Oliviers")
    page.fill("#f-nature", "chest pain")
    page.evaluate(
        """() => { const ul = document.createElement('ul'); ul.className = 'suggestions';
        ul.id = 'test-suggestions'; ul.append(document.createElement('li'));
        document.getElementById('intake').append(ul); }"""
    )
    page.focus("#f-address")
    page.keyboard.press("Escape")
    assert page.is_hidden("#test-suggestions")
    assert page.evaluate("document.activeElement.id") == "f-address"
    page.keyboard.press("Escape")
    assert page.input_value("#f-address") == "12 Rue des Oliviers"
    assert page.input_value("#f-nature") == "chest pain"
    assert not errors.lines, errors.lines


def test_history_search_in_the_console_and_the_auditors_read_only_view(
    browser: Any, server: NajdaServer, admin: httpx.Client
) -> None:
    ended = report(admin, "C", lat=36.7300, lon=3.0900, nature="quartz fall")["id"]
    ok(admin.post(f"/incidents/{ended}/assignments", json={"units": ["B11"]}))
    ok(admin.post(f"/incidents/{ended}/cancel", json={"reason": "quartz patient refused"}))

    # The dispatcher finds the ended incident and reads it (read-only: it has ended).
    page, errors = open_console(browser, server, "d.history")
    page.click("#history-panel summary")
    # The search's limits are the server's (rules), as the API refuses beyond them.
    assert page.eval_on_selector('#history-form [name="q"]', "e => e.maxLength") == MAX_SEARCH_WORDS
    assert page.eval_on_selector('#history-form [name="unit"]', "e => e.maxLength") == MAX_UNIT_REF
    assert page.eval_on_selector("#any-unit", "e => e.maxLength") == MAX_UNIT_REF
    page.fill('#history-form [name="q"]', "quartz")
    page.select_option('#history-form [name="state"]', "closed")
    page.click('#history-form button[type="submit"]')
    found = f'#history li[data-incident="{ended}"][data-status="cancelled"]'
    page.wait_for_selector(found, timeout=SHOW_MS)
    assert page.eval_on_selector_all("#history li", "rows => rows.length") == 1
    page.click(f"{found} button")
    page.wait_for_selector('#timeline li[data-event="Incident.Cancelled"]', timeout=SHOW_MS)
    assert "has ended" in page.inner_text("#detail-head")
    assert not errors.lines, errors.lines

    # The auditor: search, timeline, the state at a chosen entry, and the store verified.
    token = server.add_user("a.history", "auditor")
    head = ok(admin.get("/health"))["head"]
    auditor = browser.new_context(viewport=DESKTOP).new_page()
    audit_errors = PageErrors(auditor)
    auditor.goto(server.url + "/audit")
    auditor.fill("#login-token", token)
    auditor.keyboard.press("Enter")
    auditor.wait_for_selector("#login", state="hidden", timeout=SHOW_MS)
    # The auditor's page has no socket: it takes the same rules from GET /floor/rules.
    auditor.wait_for_function(
        f"document.querySelector('#asof').maxLength === {MAX_AS_OF}", timeout=SHOW_MS
    )
    assert auditor.eval_on_selector('#history-form [name="q"]', "e => e.maxLength") == (
        MAX_SEARCH_WORDS
    )
    auditor.fill('#history-form [name="q"]', "quartz")
    auditor.click('#history-form button[type="submit"]')
    auditor.click(f'#history li[data-incident="{ended}"] button', timeout=SHOW_MS)
    auditor.wait_for_selector('#incident .audit-incident[data-status="cancelled"]')
    auditor.click('#timeline li[data-event="Incident.UnitAssigned"] button', timeout=SHOW_MS)
    past = auditor.wait_for_selector("#asof-result .audit-incident", timeout=SHOW_MS)
    assert past.get_attribute("data-status") == "dispatched"
    assert "units on it: B11" in past.inner_text()
    timeline = ok(admin.get(f"/incidents/{ended}/timeline"))["entries"]
    assigned = next(e for e in timeline if e["event"] == "Incident.UnitAssigned")
    assert auditor.input_value("#asof") == str(assigned["position"])
    auditor.click("#verify-button")
    auditor.wait_for_selector('#verify[data-state="ok"]', timeout=30_000)
    screenshot(auditor, "auditor-view")
    # Read-only: nothing the auditor did wrote an event.
    assert ok(admin.get("/health"))["head"] == head
    assert not audit_errors.lines, audit_errors.lines
