"""Checks that the console shows what the API says: each requirement of the selected
incident, and every open incident's need in the queue (shared by the browser tests)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.browser import DESKTOP, SHOW_MS, PageErrors, sign_in
from tests.e2e.harness import NajdaServer, ok

#: What the console shows of each requirement of the selected incident.
SHOWN_REQUIREMENTS = """() => [...document.querySelectorAll('#requirements li')].map(li =>
    [li.dataset.label, li.dataset.state, li.dataset.filledBy, li.dataset.proposed,
     li.dataset.substitute])"""


def open_console(browser: Any, server: NajdaServer, name: str) -> tuple[Any, PageErrors]:
    """A new dispatcher `name`, signed in to the console at the desktop viewport."""
    page = browser.new_context(viewport=DESKTOP).new_page()
    errors = PageErrors(page)
    sign_in(page, server.url + "/", server.add_user(name, "dispatcher"))
    page.wait_for_selector("#board tr", timeout=SHOW_MS)
    return page, errors


def expected(admin: httpx.Client, incident_id: str) -> list[list[str]]:
    """The API's answer in the shape the console shows."""
    rec = ok(admin.get(f"/incidents/{incident_id}/recommendations"))

    def signs(units: list[dict[str, Any]]) -> str:
        return " ".join(u["call_sign"] for u in units)

    return [
        [
            r["label"],
            r["state"],
            signs(r["filled_by"]),
            signs(r["proposed"]),
            r["substitute"]["call_sign"] if r["substitute"] else "",
        ]
        for r in rec["requirements"]
    ]


def select(page: Any, incident_id: str) -> None:
    """Select an incident in the queue and wait until it is the selected row."""
    page.click(f'.queue-item[data-incident="{incident_id}"] .queue-button', timeout=SHOW_MS)
    page.wait_for_selector(f'.queue-item.selected[data-incident="{incident_id}"]')


def shows(page: Any, wanted: list[list[str]]) -> None:
    """Wait until the console shows exactly these requirements (fails with both on timeout)."""
    try:
        page.wait_for_function(
            f"expected => JSON.stringify(({SHOWN_REQUIREMENTS})()) === JSON.stringify(expected)",
            arg=wanted,
            timeout=SHOW_MS,
        )
    except Exception:
        shown = page.evaluate(SHOWN_REQUIREMENTS)
        raise AssertionError(f"console shows {shown}, the API says {wanted}") from None


def queue_matches_board(page: Any, admin: httpx.Client) -> None:
    """Every open incident's queue row says pending / short / nothing as the API's board does,
    and the rows that need units come first."""
    rows = ok(admin.get("/incidents"))
    want = {r["id"]: "pending" if not r["units"] else ("short" if r["short"] else "") for r in rows}
    try:
        page.wait_for_function(
            """want => Object.entries(want).every(([id, need]) => {
                const row = document.querySelector(`.queue-item[data-incident="${id}"]`);
                return row && row.dataset.attention === need; })""",
            arg=want,
            timeout=SHOW_MS,
        )
    except Exception:
        shown = page.eval_on_selector_all(
            ".queue-item", "rows => rows.map(r => [r.dataset.incident, r.dataset.attention])"
        )
        raise AssertionError(f"queue shows {shown}, the API says {want}") from None
    order = page.eval_on_selector_all(".queue-item", "rows => rows.map(r => r.dataset.attention)")
    needing = [a in ("pending", "short") for a in order]
    assert needing == sorted(needing, reverse=True), order
