"""Live channels through real servers and real websocket clients: resume, snapshot,
crew assignments, stale units, positions, bad parameters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from najda.domain.dispatch.unit import ALLOWED_STATUS_CHANGES, RELEASABLE
from najda.domain.values import MAX_NOTE, MAX_REASON
from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, NajdaServer, build_world, offset, ok, report
from tests.e2e.live import Listener, Message, has_event


def _positions(messages: list[Message]) -> list[int]:
    return [m["pos"] for m in messages]


def _console(server: NajdaServer, token: str, since: int | None = None, **query: str) -> Listener:
    params = dict(query)
    if since is not None:
        params["since"] = str(since)
    suffix = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    return Listener(server.ws_url("/ws/console" + suffix), token)


def _work(client: httpx.Client, rounds: int) -> list[str]:
    """Incidents reported, assigned, moved along and closed: many changes of every kind."""
    ids = []
    for i in range(rounds):
        incident = report(client, "C", nature=f"fall {i}")
        ids.append(incident["id"])
        ok(client.post(f"/incidents/{incident['id']}/assignments", json={"units": ["A-NEAR"]}))
        ok(client.post("/units/A-NEAR/status", json={"status": "en_route"}))
        ok(client.post(f"/incidents/{incident['id']}/notes", json={"text": f"note {i}"}))
        ok(
            client.post(
                f"/incidents/{incident['id']}/assignments/A-NEAR/release",
                json={"reason": "stood down"},
            )
        )
        ok(client.post(f"/incidents/{incident['id']}/close", json={"disposition": "treated"}))
    return ids


def test_a_client_that_drops_and_resumes_gets_exactly_the_missed_changes(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    with server.client() as client:
        build_world(client)
        with _console(server, token) as witness, _console(server, token) as dropping:
            assert dropping.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            _work(client, 2)
            head = ok(client.get("/health"))["head"]
            assert dropping.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head)
            dropping.close()
            seen = dropping.changes()
            last = seen[-1]["pos"]
            _work(client, 3)  # missed while away
            with _console(server, token, since=last) as resumed:
                hello = resumed.messages and resumed.messages[0]
                _work(client, 1)  # and live again after the backlog
                head = ok(client.get("/health"))["head"]
                assert resumed.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head)
                assert witness.wait_for(lambda ms: bool(ms) and ms[-1].get("pos") == head)
                again = resumed.changes()
                hello = resumed.messages[0]
    assert hello["type"] == "hello" and hello["resumed"] is True
    assert resumed.first("snapshot") is None
    reference = witness.changes()
    # Together, the first connection and the resumed one saw exactly what the witness saw.
    assert seen + again == reference
    assert _positions(again) == sorted(set(_positions(again)))
    assert again[0]["pos"] > last
    assert {m["event"] for m in again} >= {
        "Incident.Reported",
        "Incident.UnitAssigned",
        "Unit.Dispatched",
        "Unit.StatusChanged",
        "Incident.NoteAdded",
        "Incident.Closed",
    }


def test_resuming_from_before_the_buffer_starts_with_a_snapshot(start_server: StartServer) -> None:
    server = start_server("--no-demo", NAJDA_RESUME_BUFFER="100")
    token = server.add_user("d.one", "dispatcher")
    with server.client() as client:
        build_world(client)
        ids = _work(client, 25)  # about 200 changes: the first have left the buffer
        open_one = report(client, "B", nature="open at resume")["id"]
        head = ok(client.get("/health"))["head"]
        with _console(server, token, since=1) as late:
            assert late.wait_for(lambda ms: len(ms) >= 2)
            hello, snapshot = late.messages[0], late.messages[1]
            report(client, "A", nature="after the snapshot")
            assert late.wait_for(has_event("Incident.Reported", nature="after the snapshot"))
    assert hello["resumed"] is False
    assert snapshot["type"] == "snapshot" and snapshot["pos"] == head
    assert [i["id"] for i in snapshot["incidents"]] == [open_one]  # the closed ones are gone
    assert not set(ids) & {i["id"] for i in snapshot["incidents"]}
    assert {u["call_sign"] for u in snapshot["units"]} >= {"A-NEAR", "A-FAR", "B-MID"}
    assert late.changes()[0]["pos"] == head + 1


def test_a_reported_incident_reaches_consoles_with_its_recommendation(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    with server.client() as client:
        build_world(client)
        with _console(server, token) as console:
            incident = report(client, "D", nature="chest pain")
            assert console.wait_for(has_event("Incident.Reported", id=incident["id"]), 5)
    message = next(m for m in console.changes() if m["event"] == "Incident.Reported")
    first = message["recommendation"][0]["proposed"][0]
    assert first["call_sign"] == "A-NEAR"
    expected = incident["recommendation"]["proposed"][0]["distance_m"]
    assert first["distance_m"] == pytest.approx(expected, abs=0.1)
    assert message["incident"]["nature"] == "chest pain" and message["actor"] == "admin"


def test_a_crew_receives_its_assignment_and_works_it_over_the_socket(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    with server.client() as client:
        build_world(client)
        crew_token = server.add_user("crew.near", "crew", unit="A-NEAR")
        other = report(client, "C", nature="not ours")
        ok(client.post(f"/incidents/{other['id']}/assignments", json={"units": ["B-MID"]}))
        with Listener(server.ws_url("/ws/crew"), crew_token, auth_by_message=True) as crew:
            assert crew.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            snapshot = crew.first("snapshot")
            incident = report(client, "B", nature="breathing problem", address="7 Harbour Road")
            ok(client.post(f"/incidents/{incident['id']}/notes", json={"text": "gate code 4412"}))
            ok(client.post(f"/incidents/{incident['id']}/assignments", json={"units": ["A-NEAR"]}))
            assert crew.wait_for(has_event("Unit.Dispatched", call_sign="A-NEAR"))
            crew.send({"type": "ack", "id": 1})
            crew.send({"type": "status", "status": "en_route", "id": 2})
            crew.send({"type": "status", "status": "flying", "id": 3})
            lat, lon = offset(*CENTRE, north_m=500)
            crew.send({"type": "position", "lat": lat, "lon": lon, "id": 4})
            assert crew.wait_for(
                lambda ms: (
                    {m.get("id") for m in ms if m["type"] in ("result", "error")} >= {1, 2, 3, 4}
                )
            )
            assert crew.wait_for(has_event("Unit.StatusChanged", status="en_route"))
        with server.client(crew_token) as own:
            assignment = ok(own.get("/units/A-NEAR/assignment"))
            assert own.get("/units/B-MID/assignment").status_code == 403
    assert snapshot is not None and snapshot["incident"] is None
    assigned = next(m for m in crew.changes() if m["event"] == "Incident.UnitAssigned")
    details = assigned["incident"]
    assert (details["address"], details["nature"], details["priority"]) == (
        "7 Harbour Road",
        "breathing problem",
        "B",
    )
    assert [n["text"] for n in details["notes"]] == ["gate code 4412"]
    assert {m.get("incident", {}).get("id") for m in crew.changes()} <= {incident["id"], None}
    replies = {m["id"]: m for m in crew.messages if m["type"] in ("result", "error")}
    assert replies[1]["acknowledged"] is True and replies[1]["first"] is True
    assert replies[2]["status"] == "en_route"
    assert (replies[3]["status"], replies[3]["field"]) == (422, "status")
    assert replies[4]["recorded"] is True  # 500 m from its station: worth an event
    assert assignment["incident"]["id"] == incident["id"]
    assert assignment["unit"]["status"] == "en_route"
    events = [m["event"] for m in crew.changes()]
    assert "Unit.Acknowledged" in events and "Unit.PositionReported" in events


def test_silent_units_are_flagged_stale_and_cleared_when_heard(start_server: StartServer) -> None:
    server = start_server("--no-demo", NAJDA_STALE_AFTER_S="1")
    token = server.add_user("d.one", "dispatcher")
    with server.client() as client:
        build_world(client)
        with _console(server, token) as console:

            def flagged(stale: bool) -> Any:
                def check(ms: list[Message]) -> bool:
                    return any(
                        u["call_sign"] == "A-NEAR" and u["stale"] is stale
                        for m in ms
                        if m["type"] == "stale"
                        for u in m["units"]
                    )

                return check

            assert console.wait_for(flagged(True), 10)
            lat, lon = offset(*CENTRE, north_m=1_000)
            ok(client.post("/units/A-NEAR/position", json={"lat": lat, "lon": lon}))
            assert console.wait_for(flagged(False), 10)


def test_positions_in_bulk_move_units_on_consoles_and_name_bad_items(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    avl = server.add_user("gateway", "avl")
    with server.client() as client:
        build_world(client)
        with _console(server, token) as console, server.client(avl) as gateway:
            near = offset(*CENTRE, north_m=1_050)  # 50 m: below the recording threshold
            body = {"positions": [{"unit": "A-NEAR", "lat": near[0], "lon": near[1]}]}
            accepted = ok(gateway.post("/positions", json=body))
            assert console.wait_for(lambda ms: any(m["type"] == "positions" for m in ms))
            bad = {
                "positions": [
                    {"unit": "A-FAR", "lat": 36.7, "lon": 3.0},
                    {"unit": "NOPE", "lat": 36.7, "lon": 3.0},
                ]
            }
            refused = gateway.post("/positions", json=bad)
            far_after = ok(client.get("/units/A-FAR"))
            assert (
                gateway.post("/units/A-NEAR/status", json={"status": "en_route"}).status_code == 403
            )
    assert accepted == {"accepted": 1, "to_record": 0}
    moved = console.first("positions")
    assert moved is not None
    assert [(u["lat"], u["lon"]) for u in moved["units"]] == [near]
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "positions", 1, "unit"]
    assert (far_after["lat"], far_after["lon"]) != (36.7, 3.0)  # all or nothing


def test_bad_parameters_and_tokens_close_the_socket_with_a_reason(
    start_server: StartServer,
) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    with Listener(server.ws_url("/ws/console?since=abc"), token) as bad_since:
        assert bad_since.wait_closed()
    with Listener(server.ws_url("/ws/console?bbox=1,2,3"), token) as bad_box:
        assert bad_box.wait_closed()
    with Listener(server.ws_url("/ws/console"), "najda_not-a-token") as stranger:
        assert stranger.wait_closed()
    with Listener(server.ws_url("/ws/console?since=999999"), token) as future:
        assert future.wait_closed()
    with Listener(server.ws_url(f"/ws/console?token={token}"), None) as in_url:
        assert in_url.wait_closed()
    assert (bad_since.close_code, "since" in bad_since.close_reason) == (4400, True)
    assert (bad_box.close_code, "bbox" in bad_box.close_reason) == (4400, True)
    assert stranger.close_code == 4401
    assert (future.close_code, "beyond the newest" in future.close_reason) == (4400, True)
    assert (in_url.close_code, "token" in in_url.close_reason) == (4400, True)
    assert not stranger.messages


def test_a_bounding_box_keeps_far_incidents_off_a_console(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    lat, lon = CENTRE
    box = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    with server.client() as client:
        build_world(client)
        with _console(server, token, bbox=box) as boxed, _console(server, token) as everything:
            far = offset(*CENTRE, north_m=20_000)
            report(client, "C", nature="far away", lat=far[0], lon=far[1])
            inside = report(client, "C", nature="inside")
            assert everything.wait_for(has_event("Incident.Reported", id=inside["id"]))
            assert boxed.wait_for(has_event("Incident.Reported", id=inside["id"]))
    natures = {m["incident"]["nature"] for m in boxed.changes() if "incident" in m}
    assert natures == {"inside"}
    assert {m["incident"]["nature"] for m in everything.changes() if "incident" in m} == {
        "inside",
        "far away",
    }


def test_a_client_that_stops_reading_is_dropped_without_holding_others_back(
    start_server: StartServer,
) -> None:
    # The queue's bound is tested here, not the send timeout (tests/security/test_slow_clients.py)
    server = start_server("--no-demo", NAJDA_CLIENT_QUEUE="10", NAJDA_WS_SEND_TIMEOUT_S="300")
    token = server.add_user("d.one", "dispatcher")
    # About 7 MB of messages: more than the kernel's socket buffers and the transport's
    # can hold for a client that reads nothing, so the server's queue for it must fill.
    signs = [f"Q{i:04d}" for i in range(1000)]
    with server.client() as client:
        for i, sign in enumerate(signs):
            lat, lon = offset(*CENTRE, north_m=float(i))
            body = {"call_sign": sign, "kind": "bls", "lat": lat, "lon": lon}
            ok(client.post("/units", json=body), 201)
        with (
            Listener(server.ws_url("/ws/console"), token, paused=True) as stalled,
            _console(server, token) as healthy,
        ):
            assert healthy.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            for step in range(1, 91):  # 90 messages of 1,000 positions (about 80 KB each)
                moves = [
                    {"unit": sign, "lat": offset(*CENTRE, north_m=i + step)[0], "lon": 3.06}
                    for i, sign in enumerate(signs)
                ]
                ok(client.post("/positions", json={"positions": moves}))
            incident = report(client, "C", nature="after the flood")
            assert healthy.wait_for(has_event("Incident.Reported", id=incident["id"]), 5)
            stalled.resume()
            assert stalled.wait_closed(15)
            last = max((m["pos"] for m in stalled.messages if "pos" in m), default=0)
            with _console(server, token, since=last) as back:
                assert back.wait_for(has_event("Incident.Reported", id=incident["id"]), 5)
    assert sum(1 for m in healthy.messages if m["type"] == "positions") == 90
    assert stalled.close_code == 4429 and "since" in stalled.close_reason
    assert back.first("snapshot") is None  # resumed by position


def test_every_socket_is_told_the_domains_rules_in_its_hello(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    with server.client() as admin:
        ok(
            admin.post(
                "/units", json={"call_sign": "R1", "kind": "als", "lat": 50.45, "lon": 30.5}
            ),
            201,
        )
    crew = server.add_user("crew.r1", "crew", unit="R1")
    with (
        Listener(server.ws_url("/ws/console"), server.admin_token) as console,
        Listener(server.ws_url("/ws/crew"), crew) as on_crew,
    ):
        assert console.wait_for(lambda ms: any(m["type"] == "hello" for m in ms))
        assert on_crew.wait_for(lambda ms: any(m["type"] == "hello" for m in ms))
        hellos = [console.first("hello"), on_crew.first("hello")]
    for hello in hellos:
        assert hello is not None
        rules = hello["rules"]
        transitions = rules["unit_transitions"]
        assert {s: set(n) for s, n in transitions.items()} == {
            s.value: {n.value for n in nexts} for s, nexts in ALLOWED_STATUS_CHANGES.items()
        }
        assert transitions["on_scene"] == ["transporting", "available"]  # the usual step first
        assert rules["releasable"] == sorted(s.value for s in RELEASABLE)
        assert (rules["limits"]["note"], rules["limits"]["reason"]) == (MAX_NOTE, MAX_REASON)
        assert rules["priorities"][0] == "E" and "als" in rules["kinds"]


#: What depends on the time of the answer (the feed shows the age at the event's time).
TIMED = {"age_s"}


def test_a_feed_incident_is_the_incident_rest_answers(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    token = server.add_user("d.one", "dispatcher")
    with server.client() as client:
        build_world(client)
        with _console(server, token) as console:
            assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            incident = report(client, "B", nature="fall", address="1 Rue Didouche")
            iid = incident["id"]
            ok(client.post(f"/incidents/{iid}/notes", json={"text": "caller on the line"}))
            ok(client.post(f"/incidents/{iid}/assignments", json={"units": ["A-NEAR"]}))
            assert console.wait_for(has_event("Unit.Dispatched"))
            answered = ok(client.get(f"/incidents/{iid}"))
            assigned = next(
                m["incident"]
                for m in console.changes()
                if m["event"] == "Incident.UnitAssigned" and m["incident"]["id"] == iid
            )
            reported = next(m for m in console.changes() if m["event"] == "Incident.Reported")
    # The report's answer, the feed's messages and GET /incidents/{id} share one shape.
    assert set(incident) == set(answered) == set(assigned)
    assert {k: v for k, v in assigned.items() if k not in TIMED} == {
        k: v for k, v in answered.items() if k not in TIMED
    }
    assert assigned["assignments"][0]["call_sign"] == "A-NEAR"
    assert assigned["notes"][0]["text"] == "caller on the line" and assigned["note_count"] == 1
    assert set(reported["incident"]) == set(answered) - {"notes"}  # deltas: no notes
