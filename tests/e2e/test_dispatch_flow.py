"""A dispatcher's day through the real server: report, recommend, assign, statuses, close."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, build_world, offset, ok, proposed, report


def _board_row(client: httpx.Client, incident_id: str) -> dict[str, Any] | None:
    rows = ok(client.get("/incidents"))
    return next((r for r in rows if r["id"] == incident_id), None)


def test_an_incident_goes_from_report_to_close_through_the_unit_lifecycle(
    empty: httpx.Client,
) -> None:
    ids = build_world(empty)
    created = report(empty, "D")
    incident_id = created["id"]
    assert created["status"] == "pending"

    # The response plan for D: an ALS, then the nearest other unit; never the crisis team.
    rec = ok(empty.get(f"/incidents/{incident_id}/recommendations"))
    assert rec == created["recommendation"]
    assert proposed(rec) == [["A-NEAR"], ["B-MID"]]
    als, other = rec["requirements"]
    assert als["kinds"] == ["als"] and als["state"] == "proposed" and not als["filled"]
    assert rec["short"] == ["ALS ambulance", other["label"]]
    assert [c["call_sign"] for c in als["alternatives"]] == ["A-FAR"]
    assert [c["call_sign"] for c in other["alternatives"]] == ["R-X", "A-FAR"]
    near = als["proposed"][0]
    assert near["distance_m"] == pytest.approx(1_000, rel=0.01)
    assert other["proposed"][0]["distance_m"] == pytest.approx(2_000, rel=0.01)
    ranked = [c["distance_m"] for c in other["proposed"] + other["alternatives"]]
    assert ranked == sorted(ranked)
    assert 0 < near["eta_s"] < other["proposed"][0]["eta_s"]

    # Assign by call sign and by id; distance and ETA are recorded with the assignment.
    assigned = ok(
        empty.post(
            f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR", ids["B-MID"]]}
        )
    )
    assert assigned["status"] == "dispatched"
    by_sign = {a["call_sign"]: a for a in assigned["assignments"]}
    assert by_sign["A-NEAR"]["distance_m"] == pytest.approx(near["distance_m"], abs=1.0)
    assert by_sign["A-NEAR"]["eta_s"] == pytest.approx(near["eta_s"], abs=1.0)
    assert {a["unit_status"] for a in assigned["assignments"]} == {"dispatched"}
    unit = ok(empty.get("/units/a-near"))
    assert (unit["status"], unit["incident_id"]) == ("dispatched", incident_id)
    row = _board_row(empty, incident_id)
    assert row is not None and row["status"] == "dispatched"
    # Both requirements are filled now: nothing more is proposed for them.
    after = ok(empty.get(f"/incidents/{incident_id}/recommendations"))
    assert proposed(after) == [[], []]
    assert [r["state"] for r in after["requirements"]] == ["filled", "filled"]
    assert [[u["call_sign"] for u in r["filled_by"]] for r in after["requirements"]] == [
        ["A-NEAR"],
        ["B-MID"],
    ]
    assert after["short"] == [] and row["short"] == []

    for status in ("en_route", "on_scene", "transporting", "at_hospital"):
        changed = ok(empty.post("/units/A-NEAR/status", json={"status": status}))
        assert changed["status"] == status
        row = _board_row(empty, incident_id)
        assert row is not None
        assert {u["call_sign"]: u["status"] for u in row["units"]}["A-NEAR"] == status

    released = ok(
        empty.post(
            f"/incidents/{incident_id}/assignments/B-MID/release", json={"reason": "not needed"}
        )
    )
    ended = {a["call_sign"]: a for a in released["assignments"]}["B-MID"]
    assert (ended["active"], ended["end_reason"]) == (False, "not needed")
    assert ok(empty.get("/units/B-MID"))["status"] == "available"

    refused = empty.post(f"/incidents/{incident_id}/close", json={"disposition": "treated"})
    assert refused.status_code == 409
    assert "A-NEAR" in refused.json()["detail"]

    ok(empty.post("/units/A-NEAR/status", json={"status": "available"}))
    back = ok(empty.get("/units/A-NEAR"))
    assert (back["status"], back["incident_id"]) == ("available", None)

    closed = ok(empty.post(f"/incidents/{incident_id}/close", json={"disposition": "treated"}))
    assert (closed["status"], closed["disposition"]) == ("closed", "treated")
    assert closed["ended_at"] is not None
    assert _board_row(empty, incident_id) is None
    assert ok(empty.get(f"/incidents/{incident_id}"))["status"] == "closed"


def test_a_behavioural_call_is_recommended_the_crisis_team(empty: httpx.Client) -> None:
    build_world(empty)
    created = report(empty, "B", nature="suicidal ideation, agitated")
    assert proposed(created["recommendation"]) == [["C-1"]]


def test_the_board_lists_open_incidents_by_priority_then_age(empty: httpx.Client) -> None:
    first_b = report(empty, "B", nature="fall")["id"]
    echo = report(empty, "E", nature="cardiac arrest")["id"]
    second_b = report(empty, "B", nature="fall")["id"]
    omega = report(empty, "OMEGA", nature="advice")["id"]
    rows = ok(empty.get("/incidents"))
    assert [r["id"] for r in rows] == [echo, first_b, second_b, omega]
    assert [r["priority"] for r in rows] == ["E", "B", "B", "Ω"]
    assert all(r["age_s"] >= 0 for r in rows)

    ok(empty.post(f"/incidents/{omega}/priority", json={"priority": "e", "determinant": "9-E-1"}))
    rows = ok(empty.get("/incidents"))
    assert [r["id"] for r in rows][:2] == [echo, omega]
    assert rows[1]["determinant"] == "9-E-1"


def test_a_corrected_location_changes_the_recommendation(empty: httpx.Client) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    assert proposed(ok(empty.get(f"/incidents/{incident_id}/recommendations"))) == [["A-NEAR"]]
    lat, lon = offset(*CENTRE, east_m=5_100)
    moved = ok(empty.post(f"/incidents/{incident_id}/location", json={"lat": lat, "lon": lon}))
    assert (moved["lat"], moved["lon"]) == (lat, lon)
    rec = ok(empty.get(f"/incidents/{incident_id}/recommendations"))
    assert proposed(rec) == [["A-FAR"]]
    assert rec["requirements"][0]["proposed"][0]["distance_m"] == pytest.approx(100, abs=5)


def test_notes_are_kept_in_order_with_their_author(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    token = server.add_user("dispatcher-7", "dispatcher")
    with server.client() as admin, server.client(token) as dispatcher:
        incident_id = report(admin, "A", nature="minor cut")["id"]
        ok(admin.post(f"/incidents/{incident_id}/notes", json={"text": "caller is\nthe patient"}))
        noted = ok(
            dispatcher.post(f"/incidents/{incident_id}/notes", json={"text": "bleeding stopped"})
        )
    assert [(n["text"], n["actor"]) for n in noted["notes"]] == [
        ("caller is\nthe patient", "admin"),
        ("bleeding stopped", "dispatcher-7"),
    ]


def test_cancelling_an_incident_releases_its_units(empty: httpx.Client) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    ok(empty.post(f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR"]}))
    ok(empty.post("/units/A-NEAR/status", json={"status": "en_route"}))
    cancelled = ok(empty.post(f"/incidents/{incident_id}/cancel", json={"reason": "hoax call"}))
    assert (cancelled["status"], cancelled["disposition"]) == ("cancelled", "hoax call")
    assert [a["active"] for a in cancelled["assignments"]] == [False]
    assert ok(empty.get("/units/A-NEAR"))["status"] == "available"
    assert _board_row(empty, incident_id) is None


def test_a_position_report_moves_the_unit_in_recommendations(empty: httpx.Client) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    assert proposed(ok(empty.get(f"/incidents/{incident_id}/recommendations"))) == [["A-NEAR"]]
    lat, lon = offset(*CENTRE, north_m=-300)
    accepted = ok(empty.post("/units/A-FAR/position", json={"lat": lat, "lon": lon}))
    assert accepted["recorded"] is True
    assert (accepted["unit"]["lat"], accepted["unit"]["lon"]) == (lat, lon)
    rec = ok(empty.get(f"/incidents/{incident_id}/recommendations"))
    assert proposed(rec) == [["A-FAR"]]
    assert rec["requirements"][0]["proposed"][0]["distance_m"] == pytest.approx(300, rel=0.01)


def test_a_small_move_updates_the_locator_without_recording_an_event(
    empty: httpx.Client,
) -> None:
    build_world(empty)
    before = ok(empty.get("/health"))["head"]
    lat, lon = offset(*offset(*CENTRE, north_m=1_000), north_m=20)
    accepted = ok(empty.post("/units/A-NEAR/position", json={"lat": lat, "lon": lon}))
    assert accepted["recorded"] is False
    assert ok(empty.get("/health"))["head"] == before
    unit = ok(empty.get("/units/A-NEAR"))
    assert (unit["lat"], unit["lon"]) == (lat, lon)


def test_every_write_is_visible_to_the_next_read(start_server: StartServer) -> None:
    # Polling is slowed far beyond the test: only the wake-up and the wait make reads current.
    server = start_server("--no-demo", NAJDA_POLL_INTERVAL_S="60")
    with server.client() as client:
        body = {"call_sign": "Q1", "kind": "bls", "lat": 36.7, "lon": 3.0}
        ok(client.post("/units", json=body), 201)
        assert [u["status"] for u in ok(client.get("/units"))] == ["available"]
        for i in range(15):
            incident_id = report(client, "B", nature=f"fall {i}")["id"]
            assert _board_row(client, incident_id) is not None
            ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["Q1"]}))
            assert [u["status"] for u in ok(client.get("/units"))] == ["dispatched"]
            row = _board_row(client, incident_id)
            assert row is not None and [u["call_sign"] for u in row["units"]] == ["Q1"]
            ok(client.post(f"/incidents/{incident_id}/cancel", json={"reason": "test"}))
            assert [u["status"] for u in ok(client.get("/units"))] == ["available"]
            assert _board_row(client, incident_id) is None


def test_stations_and_hospitals_can_be_registered_and_looked_up(empty: httpx.Client) -> None:
    station = ok(
        empty.post("/stations", json={"code": "st9", "name": "Nine", "lat": 36.7, "lon": 3.1}),
        201,
    )
    assert ok(empty.get("/stations/ST9")) == station
    assert ok(empty.get(f"/stations/{station['id']}")) == station
    unit = ok(empty.post("/units", json={"call_sign": "b9", "kind": "BLS", "station": "ST9"}), 201)
    assert (unit["call_sign"], unit["station_id"]) == ("B9", station["id"])
    assert (unit["lat"], unit["lon"]) == (36.7, 3.1)
    hospital = ok(
        empty.post(
            "/hospitals",
            json={"code": "H1", "name": "General", "lat": 36.71, "lon": 3.05, "services": ["ER"]},
        ),
        201,
    )
    assert hospital["services"] == ["er"]
    assert ok(empty.get("/hospitals")) == [hospital]
    assert ok(empty.get("/hospitals/h1")) == hospital
