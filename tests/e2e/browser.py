"""Headless Chromium (Debian's) driven by Playwright for the browser tests, and page helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("NAJDA_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
#: How long a page may take to show what the server already sent, milliseconds.
SHOW_MS = 10_000


def unavailable(reason: str) -> None:
    """Skip locally; fail in CI, where a browser test that cannot run must not pass silently."""
    if IN_CI:
        pytest.fail(f"headless Chromium needed but unavailable in CI: {reason}")
    pytest.skip(f"headless Chromium unavailable: {reason}")


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser (Debian's Chromium; Playwright never downloads one here)."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        unavailable(f"playwright is not installed ({exc})")
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Error as exc:
            unavailable(f"{CHROMIUM} does not start: {exc}")
        try:
            yield browser
        finally:
            browser.close()


#: Chromium logs every 4xx answer; the pages handle those (they show the API's message).
_HANDLED = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")


class PageErrors:
    """Script errors and console errors of a page (not 4xx answers), to assert there were none."""

    def __init__(self, page: Any) -> None:
        self.lines: list[str] = []
        page.on("pageerror", lambda exc: self.lines.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not _HANDLED.search(message.text):
            self.lines.append(f"console error: {message.text}")


def sign_in(page: Any, url: str, token: str) -> None:
    """Open a page, sign in with a token and wait until its live connection is up."""
    page.goto(url)
    page.fill("#login-token", token)
    page.keyboard.press("Enter")
    page.wait_for_selector('#conn[data-state="connected"]', timeout=SHOW_MS)


def acknowledge_job(page: Any) -> None:
    """On the crew screen: acknowledge the new job that took the screen over."""
    page.wait_for_selector("#takeover[data-kind]:not([hidden])", timeout=SHOW_MS)
    page.click("#takeover-ok")
    page.wait_for_selector("#takeover", state="hidden", timeout=SHOW_MS)


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot under tests/e2e/screenshots/ and print where."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def board_status(page: Any, call_sign: str) -> Any:
    """The status the unit board shows for a unit (its row's data-status), or None."""
    return page.eval_on_selector_all(
        f'#board tr[data-unit="{call_sign}"]', "rows => rows.length ? rows[0].dataset.status : null"
    )


def marker(page: Any, call_sign: str) -> dict[str, Any] | None:
    """The unit's map marker: its status, visible text and accessible label."""
    found: dict[str, Any] | None = page.eval_on_selector_all(
        f'.unit-marker[data-unit="{call_sign}"]',
        """nodes => nodes.length ? {status: nodes[0].dataset.status,
            code: nodes[0].querySelector('.st').textContent,
            text: nodes[0].textContent, label: nodes[0].getAttribute('aria-label')} : null""",
    )
    return found


def wait_unit_shown(page: Any, call_sign: str, status: str, timeout_ms: int = SHOW_MS) -> None:
    """Wait until the board row and the map marker both show the unit in `status`."""
    page.wait_for_function(
        """([cs, status]) => {
            const row = document.querySelector(`#board tr[data-unit="${cs}"]`);
            const mark = document.querySelector(`.unit-marker[data-unit="${cs}"]`);
            return row && mark && row.dataset.status === status && mark.dataset.status === status;
        }""",
        arg=[call_sign, status],
        timeout=timeout_ms,
        polling="raf",
    )


#: Records, on every change of the board or the map, what they show for one unit.
RECORDER = """cs => {
    window.__trail = [];
    const note = () => {
        const row = document.querySelector(`#board tr[data-unit="${cs}"]`);
        const mark = document.querySelector(`.unit-marker[data-unit="${cs}"]`);
        const shown = [row ? row.dataset.status : null, mark ? mark.dataset.status : null];
        const last = window.__trail[window.__trail.length - 1];
        if (!last || last[1] !== shown[0] || last[2] !== shown[1]) {
            window.__trail.push([performance.now(), ...shown]);
        }
    };
    note();
    const observer = new MutationObserver(note);
    for (const id of ["board", "map"]) {
        observer.observe(document.getElementById(id),
            {subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"]});
    }
}"""


#: A point of the map with nothing drawn on top (no marker, no control), in page pixels.
FREE_SPOT = """() => {
    const box = document.getElementById("map").getBoundingClientRect();
    for (let fy = 0.45; fy < 0.95; fy += 0.05) {
        for (let fx = 0.5; fx < 0.95; fx += 0.05) {
            const x = box.left + box.width * fx, y = box.top + box.height * fy;
            const hit = document.elementFromPoint(x, y);
            const covered = hit && hit.closest(".leaflet-marker-icon, .leaflet-control");
            if (hit && hit.closest("#map") && !covered) {
                return [x, y];
            }
        }
    }
    return null;
}"""
