"""The history search (GET /incidents?state=&q=…) is an in-memory index folded from the event
log: a real server restart rebuilds it with the same answers, on both stores, and paging
through it returns every incident once, in one order, while new calls keep arriving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import build_world, ok, report

STORES = ["embedded", pytest.param("postgres", marks=pytest.mark.postgres)]
SEARCHES: tuple[dict[str, str], ...] = (
    {"state": "all"},
    {"state": "closed"},
    {"state": "open"},
    {"q": "kappa"},
    {"q": "refused", "state": "closed"},
    {"unit": "a-near"},
)


def _pages(client: httpx.Client, limit: int, **params: str) -> tuple[int, list[list[str]]]:
    """The search's total and every page of `limit` ids, read from offset 0 to the end."""
    pages: list[list[str]] = []
    offset = 0
    while True:
        response = client.get("/incidents", params={**params, "limit": limit, "offset": offset})
        page = [r["id"] for r in ok(response)]
        total = int(response.headers["X-Total-Count"])
        if not page:
            return total, pages
        pages.append(page)
        offset += limit


def _answers(client: httpx.Client) -> dict[str, Any]:
    """Each search's total, pages of 3 and full rows (what a restart must give back)."""
    found: dict[str, Any] = {}
    for params in SEARCHES:
        key = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        rows = ok(client.get("/incidents", params={**params, "limit": 200}))
        # Everything but the open calls' age, which grows with the clock.
        kept = [{k: v for k, v in r.items() if k != "age_s"} for r in rows]
        found[key] = (_pages(client, 3, **params), kept)
    return found


def _shift(client: httpx.Client, units: dict[str, str]) -> dict[str, list[str]]:
    """Ten calls: some closed with a unit, some cancelled, some open; ids by fate."""
    fates: dict[str, list[str]] = {"closed": [], "cancelled": [], "open": []}
    for n in range(10):
        nature = f"{'kappa' if n % 2 else 'sigma'} call {n}"
        incident = report(client, "CDE"[n % 3], nature=nature, address=f"{n} Quay Street")["id"]
        if n % 3 == 0:
            ok(client.post(f"/incidents/{incident}/assignments", json={"units": ["A-NEAR"]}))
            for status in ("en_route", "on_scene", "available"):
                ok(client.post("/units/A-NEAR/status", json={"status": status}))
            ok(client.post(f"/incidents/{incident}/close", json={"disposition": "treated"}))
            fates["closed"].append(incident)
        elif n % 3 == 1:
            ok(client.post(f"/incidents/{incident}/cancel", json={"reason": "caller refused"}))
            fates["cancelled"].append(incident)
        else:
            fates["open"].append(incident)
    assert units  # the world's units exist
    return fates


@pytest.mark.parametrize("store", STORES)
def test_the_history_search_is_rebuilt_the_same_after_a_restart_and_pages_stably(
    store: str, start_server: StartServer, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    where = ["--database-url", request.getfixturevalue("pg_url")] if store == "postgres" else []
    data = tmp_path / "data"
    first = start_server(*where, "--no-demo", name="first", data_dir=data)
    with first.client() as client:
        fates = _shift(client, build_world(client))
        before = _answers(client)
    # What the index holds is what the log says (not only what this process saw).
    (total, pages), rows = before["state=all"]
    every = [i for page in pages for i in page]
    assert total == 10 and len(every) == 10 == len(set(every)), pages
    assert every == [r["id"] for r in rows]  # pages of 3 are the one list, cut
    stamps = [r["call_received_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)  # newest call first
    closed = before["state=closed"][1]
    assert {r["id"] for r in closed} == set(fates["closed"] + fates["cancelled"])
    assert {r["id"] for r in before["state=open"][1]} == set(fates["open"])
    assert {r["id"] for r in before["unit=a-near"][1]} == set(fates["closed"])
    assert {r["id"] for r in before["q=refused&state=closed"][1]} == set(fates["cancelled"])
    assert all("kappa" in r["nature"] for r in before["q=kappa"][1])
    assert first.stop() == 0

    second = start_server(*where, "--no-demo", name="second", data_dir=data)
    with second.client() as client:
        assert _answers(client) == before
        # New calls arrive while an auditor pages: the pages already read keep their order
        # and the next ones continue it (newest first: new calls come before offset 0).
        _, old_pages = _pages(client, 4, state="closed")
        report(client, "C", nature="late call", address="11 Quay Street")
        ok(
            client.post(
                f"/incidents/{report(client, 'D', nature='late cancel')['id']}/cancel",
                json={"reason": "duplicate"},
            )
        )
        total, new_pages = _pages(client, 4, state="closed")
        old = [i for page in old_pages for i in page]
        new = [i for page in new_pages for i in page]
        assert total == len(old) + 1 and new[1:] == old, (old, new)
