"""The coverage policy's "hold this call" on a real server: with the last ambulance of the
area left, a lower-priority call is recommended as held with the reason; urgent calls are
not; a dispatcher may still send the unit; once ambulances free up (seen on the console
socket) the held call is dispatchable again, and the console says all of it: in the selected
call's panel and, at a glance, in the queue row of every held call. A report's live message
carries the hold in the REST answer's shape."""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from najda.projections.policies.dispatch import POLICIES, Coverage
from tests.area_fixture import liechtenstein
from tests.e2e.browser import DESKTOP, SHOW_MS, PageErrors, chromium, sign_in
from tests.e2e.harness import NajdaServer, clean_env, offset, ok
from tests.e2e.live import Listener, has_event
from tests.waiting import eventually

#: Red Cross Liechtenstein, the ambulance station of the demo (A10, A11 and B12 wait there).
RED_CROSS = (47.1329089, 9.5135467)
#: The ambulance left free when every other one is sent far away.
LAST = "A10"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    work = tmp_path_factory.mktemp("hold")
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


def _report(client: httpx.Client, where: tuple[float, float], priority: str) -> dict[str, Any]:
    body = {"lat": where[0], "lon": where[1], "nature": "fall", "priority": priority,
            "address": f"{where[0]:.5f}, {where[1]:.5f}"}
    return ok(client.post("/incidents", json=body), 201)  # type: ignore[no-any-return]


def _others(client: httpx.Client) -> list[str]:
    """Every ambulance but LAST."""
    units = ok(client.get("/units"))
    return sorted(u["call_sign"] for u in units
                  if u["kind"] in ("als", "bls") and u["call_sign"] != LAST)


def _send_away(client: httpx.Client) -> list[str]:
    """Every ambulance but LAST on an incident of its own far to the south; their ids."""
    jobs = []
    for sign in _others(client):
        job = _report(client, offset(*RED_CROSS, north_m=-9000.0), "A")
        ok(client.post(f"/incidents/{job['id']}/assignments", json={"units": [sign]}))
        jobs.append(job["id"])
    return jobs


def _cancel(client: httpx.Client, *incidents: str) -> None:
    for incident in incidents:
        ok(client.post(f"/incidents/{incident}/cancel", json={"reason": "test over"}))


def _recommendation(client: httpx.Client, incident: str) -> dict[str, Any]:
    return ok(client.get(f"/incidents/{incident}/recommendations"))  # type: ignore[no-any-return]


def test_a_held_call_says_why_and_is_dispatchable_once_units_free(server: NajdaServer) -> None:
    token = server.printed_tokens()["demo-dispatcher"]
    near = offset(*RED_CROSS, north_m=600.0, east_m=200.0)
    with server.client(token) as client:
        jobs = _send_away(client)
        lower = _report(client, near, "C")
        rec = lower["recommendation"]
        assert rec["state"] == "hold" and rec["policy"] == "coverage"
        hold = rec["hold"]
        assert hold["reason"].startswith("hold: dispatching now leaves ")
        ambulances = len(_others(client)) + 1
        reserve = math.floor(_live_policy().reserve_share * ambulances)  # a share of them
        assert hold["reserve"] == reserve >= 1 and hold["floor"] is None
        assert (" uncovered within 8 min (expected cover 0% of demand; the policy holds while "
                f"{reserve} or fewer ambulances are free); re-evaluate when a unit frees "
                "(at the latest ") in hold["reason"]
        assert hold["zones"] and all(zone in hold["reason"] for zone in hold["zones"])
        assert hold["call_sign"] == LAST and hold["until"] is not None
        assert hold["unit"]["covered_after"] < hold["unit"]["covered_before"]
        # The units are still offered: nothing hidden.
        assert [c["call_sign"] for c in rec["requirements"][0]["proposed"]] == [LAST]
        assert _recommendation(client, lower["id"])["hold"] == hold  # asked again: the same
        # An urgent call at the same place is not held.
        urgent = _report(client, near, "E")
        assert urgent["recommendation"]["state"] == "dispatch"
        assert urgent["recommendation"]["hold"] is None
        _cancel(client, urgent["id"])
        # Freed ambulances (the console's socket says so): the call is dispatchable again.
        with Listener(server.ws_url("/ws/console"), token) as console:
            _cancel(client, *jobs)
            for sign in _others(client):
                assert console.wait_for(has_event("Unit.Released", call_sign=sign), 10), sign
        again = _recommendation(client, lower["id"])
        assert again["state"] == "dispatch" and again["hold"] is None
        # Held or not, a dispatcher may send the unit on purpose.
        jobs = _send_away(client)
        assert _recommendation(client, lower["id"])["state"] == "hold"
        body = {"units": [LAST]}
        sent = ok(client.post(f"/incidents/{lower['id']}/assignments", json=body))
        assert [a["call_sign"] for a in sent["assignments"]] == [LAST]
        _cancel(client, lower["id"], *jobs)


def _console_on(
    browser: Any, server: NajdaServer, token: str, incident: str
) -> tuple[Any, PageErrors]:
    """A console page with `incident` selected, once it shows the incident held (and the
    page's script errors)."""
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, server.url + "/", token)
    row = f'.queue-item[data-incident="{incident}"]'
    page.click(f"{row} .queue-button", timeout=SHOW_MS)
    page.wait_for_selector("#rec-hold:not([hidden])", timeout=SHOW_MS)
    return page, errors


def test_the_console_shows_the_hold_and_clears_it_when_units_free(
    server: NajdaServer, browser: Any
) -> None:
    token = server.printed_tokens()["demo-dispatcher"]
    with server.client(token) as client:
        jobs = _send_away(client)
        lower = _report(client, offset(*RED_CROSS, north_m=600.0, east_m=200.0), "C")
        reason = _recommendation(client, lower["id"])["hold"]["reason"]
        page, errors = _console_on(browser, server, token, lower["id"])
        assert reason in page.inner_text("#rec-hold")
        assert "overrides the hold" in page.inner_text("#rec-hold")
        assert page.locator("#recs.held").count() == 1
        assert page.locator(f'#recs li[data-unit="{LAST}"] button.assign').count() == 1
        # Ambulances free up: the console's live messages bring the hold down.
        _cancel(client, *jobs)
        page.wait_for_selector("#rec-hold", state="hidden", timeout=SHOW_MS)
        eventually(lambda: page.locator("#recs.held").count() == 0, 10)
        assert page.locator(f'#recs li[data-unit="{LAST}"]').count() == 1
        _cancel(client, lower["id"])
    assert not errors.lines, errors.lines


def test_the_console_asks_again_when_the_hold_runs_out(server: NajdaServer, browser: Any) -> None:
    """A call received 12 s less than the policy's hold limit ago is held for its last
    seconds; with nothing else happening on the floor, the console looks again once the
    hold's time is up."""
    token = server.printed_tokens()["demo-dispatcher"]
    with server.client(token) as client:
        jobs = _send_away(client)
        limit = timedelta(seconds=_live_policy().max_hold_s)
        received = datetime.now(UTC) - limit + timedelta(seconds=12)
        body = {"lat": RED_CROSS[0] + 0.005, "lon": RED_CROSS[1], "nature": "fall",
                "priority": "C", "address": "near the station",
                "call_received_at": received.isoformat()}
        lower = ok(client.post("/incidents", json=body), 201)
        page, errors = _console_on(browser, server, token, lower["id"])
        until = datetime.fromisoformat(page.get_attribute("#rec-hold", "data-until") or "")
        assert until == received + limit
        row = f'.queue-item[data-incident="{lower["id"]}"] .hold-flag'
        held_until = lower["recommendation"]["hold"]["until"]
        assert page.get_attribute(row, "data-hold-until") == held_until
        page.wait_for_selector("#rec-hold", state="hidden", timeout=30_000)
        assert datetime.now(UTC) >= until
        page.wait_for_selector(row, state="detached", timeout=SHOW_MS)  # the queue's mark too
        assert _recommendation(client, lower["id"])["state"] == "dispatch"
        _cancel(client, lower["id"], *jobs)
    assert not errors.lines, errors.lines


def test_the_report_message_carries_the_hold_as_the_rest_answer_does(server: NajdaServer) -> None:
    token = server.printed_tokens()["demo-dispatcher"]
    near = offset(*RED_CROSS, north_m=600.0, east_m=200.0)
    with server.client(token) as client:
        jobs = _send_away(client)
        with Listener(server.ws_url("/ws/console"), token) as console:
            lower = _report(client, near, "C")
            urgent = _report(client, near, "E")
            assert console.wait_for(has_event("Incident.Reported", id=urgent["id"]), 10)
        reported = {m["incident"]["id"]: m for m in console.changes()
                    if m["event"] == "Incident.Reported"}
        hold = lower["recommendation"]["hold"]
        assert hold is not None and hold["call_sign"] == LAST
        assert reported[lower["id"]]["hold"] == hold  # one shape: HoldPublic, as REST answers
        assert reported[urgent["id"]]["hold"] is None and "hold" in reported[urgent["id"]]
        # The requirement lines are still there, the held unit still proposed.
        lines = reported[lower["id"]]["recommendation"]
        assert [c["call_sign"] for c in lines[0]["proposed"]] == [LAST]
        _cancel(client, lower["id"], urgent["id"], *jobs)


def test_the_queue_marks_held_calls_until_the_hold_is_lifted(
    server: NajdaServer, browser: Any
) -> None:
    """No call selected: the queue row alone says HOLD with the time left; the call still
    counts and sorts as waiting; the mark goes when ambulances free up, comes back when they
    are sent away again (and on a reload), and goes when a unit is sent."""
    token = server.printed_tokens()["demo-dispatcher"]
    with server.client(token) as client:
        jobs = _send_away(client)
        page = browser.new_context(viewport=DESKTOP).new_page()
        errors = PageErrors(page)
        sign_in(page, server.url + "/", token)
        lower = _report(client, offset(*RED_CROSS, north_m=600.0, east_m=200.0), "C")
        row = f'.queue-item[data-incident="{lower["id"]}"]'
        page.wait_for_selector(f"{row} .hold-flag", timeout=SHOW_MS)
        assert re.fullmatch(r"HOLD \d+:\d\d", page.inner_text(f"{row} .hold-flag"))
        assert page.get_attribute(f"{row} .hold-flag", "title") == \
            lower["recommendation"]["hold"]["reason"]
        assert page.get_attribute(row, "data-attention") == "pending"
        assert page.get_attribute(".queue-item >> nth=0", "data-incident") == lower["id"]
        assert page.get_attribute("#queue-count", "data-waiting") == "1"
        # Ambulances free up: the mark goes, the call stays in the queue, waiting.
        _cancel(client, *jobs)
        page.wait_for_selector(f"{row} .hold-flag", state="detached", timeout=SHOW_MS)
        assert page.get_attribute(row, "data-attention") == "pending"
        # Away again, nothing selected, no reload: the units' messages make the console ask
        # again, and the waiting call is marked held.
        jobs = _send_away(client)
        page.wait_for_selector(f"{row} .hold-flag", timeout=SHOW_MS)
        assert page.get_attribute(row, "data-attention") == "pending"
        # A console opened now asks too, and marks it.
        page.reload()
        page.wait_for_selector('#conn[data-state="connected"]', timeout=SHOW_MS)
        page.wait_for_selector(f"{row} .hold-flag", timeout=SHOW_MS)
        # Sent on purpose: the hold is over.
        ok(client.post(f"/incidents/{lower['id']}/assignments", json={"units": [LAST]}))
        page.wait_for_selector(f"{row} .hold-flag", state="detached", timeout=SHOW_MS)
        assert page.locator(f"{row} .unit-pill").count() == 1
        _cancel(client, lower["id"], *jobs)
    assert not errors.lines, errors.lines


def _live_policy() -> Coverage:
    """The policy object the server runs with `--policy coverage` (its hold limit)."""
    policy = POLICIES["coverage"]()
    assert isinstance(policy, Coverage)
    return policy
