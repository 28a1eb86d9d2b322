"""The server on PostgreSQL/PostGIS (`--database-url`): same behaviour, shared by processes."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import ok, proposed, report
from tests.waiting import eventually

pytestmark = pytest.mark.postgres


def test_the_server_runs_the_whole_flow_on_postgis_and_keeps_it_across_restarts(
    start_server: StartServer, pg_url: str
) -> None:
    first = start_server("--database-url", pg_url, "--demo", name="first")
    assert "store: postgresql" in first.log()
    with first.client() as client:
        health = ok(client.get("/health"))
        assert (health["status"], health["store"]) == ("ok", "postgresql")
        assert len(ok(client.get("/units"))) == 30
        created = report(client, "D", nature="chest pain")
        incident_id = created["id"]
        assert proposed(created["recommendation"]) == [["A10"], ["A13"]]
        near = created["recommendation"]["requirements"][0]["proposed"][0]
        assigned = ok(
            client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A10", "B11"]})
        )
        recorded = {a["call_sign"]: a for a in assigned["assignments"]}["A10"]
        assert recorded["distance_m"] == pytest.approx(near["distance_m"], abs=1.0)
        ok(client.post("/units/A10/status", json={"status": "en_route"}))
        board = ok(client.get("/incidents"))
        assert [r["id"] for r in board] == [incident_id]
        assert {u["call_sign"]: u["status"] for u in board[0]["units"]} == {
            "A10": "en_route",
            "B11": "dispatched",
        }
        busy = client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A10"]})
        assert busy.status_code == 409
        bad = client.post("/incidents", json={"lat": 91, "lon": 3, "nature": "x", "priority": "B"})
        assert bad.status_code == 422
    assert first.stop() == 0

    second = start_server("--database-url", pg_url, "--demo", name="second")
    with second.client() as client:
        assert len(ok(client.get("/units"))) == 30  # not seeded twice
        board = ok(client.get("/incidents"))
        assert [r["id"] for r in board] == [incident_id]
        assert ok(client.get("/units/A10"))["status"] == "en_route"
        assert ok(client.get(f"/incidents/{incident_id}"))["status"] == "dispatched"


def test_a_second_process_hears_of_new_events_through_listen_notify(
    start_server: StartServer, pg_url: str
) -> None:
    # Polling is slowed far beyond the deadline below: only a NOTIFY can wake the other process.
    slow = {"NAJDA_POLL_INTERVAL_S": "60"}
    writer = start_server("--database-url", pg_url, "--no-demo", name="writer", **slow)
    reader = start_server("--database-url", pg_url, "--no-demo", name="reader", **slow)
    with writer.client() as w, reader.client() as r:
        ok(w.post("/stations", json={"code": "N1", "name": "North", "lat": 36.8, "lon": 3.0}), 201)

        def reader_sees_station() -> bool:
            codes: list[str] = [s["code"] for s in ok(r.get("/stations"))]
            return codes == ["N1"]

        eventually(reader_sees_station, timeout_s=10.0)
        head = ok(w.get("/health"))["head"]
        eventually(lambda: ok(r.get("/health"))["positions"]["reference_directory"] >= head, 10.0)


def test_refusals_on_postgis_write_nothing(start_server: StartServer, pg_url: str) -> None:
    server = start_server("--database-url", pg_url, "--demo", name="pg")
    with server.client() as client:
        before = ok(client.get("/health"))["head"]
        incident_id = report(client, "C")["id"]
        after_report = ok(client.get("/health"))["head"]
        assert after_report > before
        ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A10"]}))
        head = ok(client.get("/health"))["head"]
        refused = [
            client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A20", "A10"]}),
            client.post("/units/A20/status", json={"status": "on_scene"}),
            client.post("/units", json={"call_sign": "", "kind": "als", "station": "SAH-CEN"}),
        ]
        assert [r.status_code for r in refused] == [409, 409, 422]
        assert ok(client.get("/health"))["head"] == head
        assert ok(client.get("/units/A20"))["status"] == "available"


def test_postgres_mode_fails_fast_when_the_database_is_unreachable(
    start_server: StartServer,
) -> None:
    with pytest.raises(RuntimeError, match="exited") as failed:
        start_server("--database-url", "postgresql://nobody:secret@127.0.0.1:1/none", name="down")
    assert "cannot open the event store (postgresql postgresql://nobody:***@" in str(failed.value)
    assert "secret" not in str(failed.value)
