"""Concurrent dispatchers over HTTP: a unit is never sent to two incidents at once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import build_world, ok, report

DISPATCHERS = 6


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, start_server: StartServer) -> Iterator[httpx.Client]:
    """A server with an empty store, on each store in turn."""
    args = ["--no-demo"]
    if request.param == "postgres":
        args += ["--database-url", request.getfixturevalue("pg_url")]
    with start_server(*args).client() as client:
        yield client


def _race(
    base_url: str, paths: list[str], body: dict[str, object], headers: dict[str, str]
) -> list[httpx.Response]:
    barrier = threading.Barrier(len(paths))

    def post(path: str) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30.0, headers=headers) as own:
            barrier.wait(timeout=10)
            return own.post(path, json=body)

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(post, paths))


def test_of_concurrent_assignments_of_one_unit_exactly_one_wins(client: httpx.Client) -> None:
    build_world(client)
    incidents = [report(client, "C", nature=f"call {i}")["id"] for i in range(DISPATCHERS)]
    paths = [f"/incidents/{i}/assignments" for i in incidents]
    responses = _race(str(client.base_url), paths, {"units": ["A-NEAR"]}, dict(client.headers))

    codes = [r.status_code for r in responses]
    assert sorted(codes) == [200] + [409] * (DISPATCHERS - 1), [r.text for r in responses]
    winner = incidents[codes.index(200)]
    assert ok(client.get("/units/A-NEAR"))["incident_id"] == winner
    for incident_id in incidents:
        assigned = [
            a["call_sign"] for a in ok(client.get(f"/incidents/{incident_id}"))["assignments"]
        ]
        assert assigned == (["A-NEAR"] if incident_id == winner else [])
    board_units = {
        r["id"]: [u["call_sign"] for u in r["units"]] for r in ok(client.get("/incidents"))
    }
    assert sum(len(units) for units in board_units.values()) == 1
    assert board_units[winner] == ["A-NEAR"]


def test_concurrent_status_reports_leave_a_consistent_unit(client: httpx.Client) -> None:
    build_world(client)
    incident_id = report(client, "C")["id"]
    ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR"]}))
    responses = _race(
        str(client.base_url),
        ["/units/A-NEAR/status"] * DISPATCHERS,
        {"status": "en_route"},
        dict(client.headers),
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * (DISPATCHERS - 1)
    assert ok(client.get("/units/A-NEAR"))["status"] == "en_route"
