"""Several API processes on one PostgreSQL: fan-out, resume on another process, and
every database connection killed in the middle of a stream of commands."""

from __future__ import annotations

import threading
import time
from functools import partial
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import build_world, ok, report
from tests.e2e.live import Listener, has_event
from tests.waiting import eventually

pytestmark = pytest.mark.postgres

#: Topics whose events reach consoles (users never do).
CONSOLE_TOPICS = ("najda:Incident.%", "najda:Unit.%", "najda:Station.%", "najda:Hospital.%")


def test_a_change_made_through_one_process_reaches_consoles_on_another(
    start_server: StartServer, pg_url: str
) -> None:
    a = start_server("--database-url", pg_url, "--no-demo", name="a")
    b = start_server("--database-url", pg_url, "--no-demo", name="b")
    token = a.add_user("d.one", "dispatcher")
    with a.client() as on_a, b.client(token) as on_b:
        build_world(on_a)
        with (
            Listener(b.ws_url("/ws/console"), token) as console_b,
            Listener(a.ws_url("/ws/console"), token) as console_a,
        ):
            assert console_b.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            assert console_a.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            started = time.monotonic()
            incident = report(on_a, "D", nature="collapse")
            assert console_b.wait_for(has_event("Incident.Reported", id=incident["id"]), 5)
            fan_out_s = time.monotonic() - started
            ok(on_b.post(f"/incidents/{incident['id']}/assignments", json={"units": ["A-NEAR"]}))
            assert console_a.wait_for(has_event("Unit.Dispatched", call_sign="A-NEAR"), 5)
            last = console_a.changes()[-1]["pos"]
            console_a.close()
            ok(on_b.post("/units/A-NEAR/status", json={"status": "en_route"}))
            report(on_b, "C", nature="while away")
            head = ok(on_b.get("/health"))["head"]
            assert console_b.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head)
            # The client that dropped from A resumes on B, by position.
            with Listener(b.ws_url(f"/ws/console?since={last}"), token) as resumed:
                assert resumed.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head)
    reported = next(m for m in console_b.changes() if m["event"] == "Incident.Reported")
    assert reported["recommendation"][0]["proposed"][0]["call_sign"] == "A-NEAR"
    assert fan_out_s < 2.0  # LISTEN/NOTIFY, not the 1 s poll plus slack
    missed = [m for m in console_b.changes() if m["pos"] > last]
    assert resumed.changes() == missed
    assert [m["event"] for m in missed] == [
        "Unit.StatusChanged",
        "Incident.Reported",
    ]


def _kill_connections(pg_url: str) -> int:
    name = pg_url.rsplit("/", 1)[1]
    admin = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def _console_positions(pg_url: str) -> list[int]:
    clauses = " OR ".join("topic LIKE %s" for _ in CONSOLE_TOPICS)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            f"SELECT notification_id FROM dispatch_events WHERE {clauses} ORDER BY 1",
            CONSOLE_TOPICS,
        ).fetchall()
    return [int(r[0]) for r in rows]


def test_killing_every_database_connection_loses_no_acknowledged_command(
    start_server: StartServer, pg_url: str
) -> None:
    server = start_server("--database-url", pg_url, "--no-demo")
    token = server.add_user("d.one", "dispatcher")
    acknowledged: list[str] = []
    refused: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        with server.client(token) as client:
            i = 0
            while not stop.is_set():
                i += 1
                body = {"lat": 36.75, "lon": 3.06, "nature": f"call {i}", "priority": "C"}
                try:
                    answer = client.post("/incidents", json=body, timeout=15)
                except httpx.TransportError:
                    refused.append(-1)
                    continue
                if answer.status_code == 201:
                    acknowledged.append(answer.json()["id"])
                else:
                    assert answer.status_code == 503, answer.text  # never a 500
                    refused.append(answer.status_code)

    with server.client() as client:
        build_world(client)
    with Listener(server.ws_url("/ws/console"), token) as console:
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        start = console.first("snapshot")["pos"]  # type: ignore[index]
        writer = threading.Thread(target=stream)
        writer.start()
        try:
            killed = []
            recovered_s = []
            for _ in range(2):
                count = len(acknowledged)
                eventually(partial(_at_least, acknowledged, count + 10), 20)
                killed.append(_kill_connections(pg_url))
                after_kill = len(acknowledged)
                t0 = time.monotonic()
                eventually(partial(_at_least, acknowledged, after_kill + 1), 10)
                recovered_s.append(time.monotonic() - t0)
        finally:
            stop.set()
            writer.join(30)
        with server.client(token) as client:
            head = ok(client.get("/health"))["head"]
            for incident_id in acknowledged:
                assert client.get(f"/incidents/{incident_id}").status_code == 200
        assert console.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head, 15)
    assert all(k > 0 for k in killed)
    assert all(s < 10 for s in recovered_s), recovered_s
    received = [m["pos"] for m in console.changes()]
    stored = [p for p in _console_positions(pg_url) if p > start]
    assert received == stored  # every change, in order, none twice, none missing
    reported = {m["incident"]["id"] for m in console.changes() if m["event"] == "Incident.Reported"}
    assert set(acknowledged) <= reported


def _at_least(items: list[Any], count: int) -> bool:
    """Whether `items` has grown to `count` (for `eventually`)."""
    return len(items) >= count


def test_positions_reach_consoles_on_every_process_once(
    start_server: StartServer, pg_url: str
) -> None:
    a = start_server("--database-url", pg_url, "--no-demo", name="a")
    b = start_server("--database-url", pg_url, "--no-demo", name="b")
    token = a.add_user("d.one", "dispatcher")
    avl = a.add_user("gateway", "avl")
    with a.client() as admin:
        far_id = build_world(admin)["A-FAR"]

    def trail(ms: list[dict[str, Any]]) -> list[float]:
        return distinct(fixes(ms, far_id))

    with (
        Listener(a.ws_url("/ws/console"), token) as on_a,
        Listener(b.ws_url("/ws/console"), token) as on_b,
        a.client(avl) as gateway,
    ):
        for console in (on_a, on_b):
            assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        for step in range(1, 4):
            body = {"positions": [{"unit": "A-FAR", "lat": 36.75 + step * 1e-4, "lon": 3.1}]}
            ok(gateway.post("/positions", json=body))

        expected = [36.75 + step * 1e-4 for step in range(1, 4)]
        for console in (on_a, on_b):
            assert console.wait_for(lambda ms: trail(ms) == expected, 5), trail(console.messages)
        ok(
            gateway.post(
                "/positions", json={"positions": [{"unit": "A-FAR", "lat": 36.76, "lon": 3.1}]}
            )
        )
        expected.append(36.76)
        for console in (on_a, on_b):
            assert console.wait_for(lambda ms: trail(ms) == expected, 5), trail(console.messages)
        with b.client(token) as reader:
            far = ok(reader.get("/units/A-FAR"))
    for console in (on_a, on_b):  # no process tells its consoles a position twice
        told = [lat for lat, how in fixes(console.messages, far_id) if how == "positions"]
        assert len(told) == len(set(told)), told
    assert (far["lat"], far["lon"]) == (36.76, 3.1)  # the shared locator table


def fixes(messages: list[dict[str, Any]], unit_id: str) -> list[tuple[float, str]]:
    """A unit's positions as a console was told them, in order: by a `positions` message
    (NOTIFY, or the origin process) or by the PositionReported event itself."""
    out: list[tuple[float, str]] = []
    for m in messages:
        if m["type"] == "positions":
            out += [(u["lat"], "positions") for u in m["units"] if u["id"] == unit_id]
        elif (
            m["type"] == "unit"
            and m["event"] == "Unit.PositionReported"
            and (m["unit"]["id"] == unit_id)
        ):
            out.append((m["unit"]["lat"], "event"))
    return out


def distinct(told: list[tuple[float, str]]) -> list[float]:
    """The positions in the order shown, each once: the event of a fix already told by
    NOTIFY repeats it, and a NOTIFY that arrives after its event is dropped as not newer."""
    out: list[float] = []
    for lat, _how in told:
        if not out or out[-1] != lat:
            out.append(lat)
    return out
