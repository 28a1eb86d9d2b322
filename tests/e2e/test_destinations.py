"""Hospital status and destinations through a real server: status updates as events pushed
to consoles, crews offered hospitals ranked by travel time with a closed one skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, NajdaServer, build_world, offset, ok, report
from tests.e2e.live import Listener, Message

CREW_UNIT = "A-NEAR"  # 1 km north of CENTRE
HOSPITALS = (  # code, km north of CENTRE, services
    ("H-NEAR", 1.5, ["stroke", "emergency"]),
    ("H-MID", 3.0, ["stroke", "emergency"]),
    ("H-FAR", 5.0, ["stroke", "emergency"]),
    ("PSY", 1.2, ["psychiatry"]),
)


class Site:
    """A server with the test world, four hospitals, a dispatcher and the crew of A-NEAR."""

    def __init__(self, server: NajdaServer) -> None:
        self.server = server
        with server.client() as admin:
            build_world(admin)
            for code, km, services in HOSPITALS:
                lat, lon = offset(*CENTRE, north_m=km * 1000)
                body = {"code": code, "name": f"Hospital {code}", "lat": lat, "lon": lon}
                ok(admin.post("/hospitals", json={**body, "services": services}), 201)
        self.dispatcher = server.client(server.add_user("d.ali", "dispatcher"))
        self.crew_token = server.add_user("crew.a", "crew", unit=CREW_UNIT)
        self.crew = server.client(self.crew_token)

    def status(self, code: str, **body: Any) -> httpx.Response:
        return self.dispatcher.patch(f"/hospitals/{code}/status", json=body)


@pytest.fixture
def site(start_server: StartServer) -> Iterator[Site]:
    site = Site(start_server("--no-demo"))
    with site.dispatcher, site.crew:
        yield site


def _hospital_update(code: str, ed_status: str) -> Any:
    def check(messages: list[Message]) -> bool:
        return any(
            m.get("type") == "hospital"
            and m["event"] == "Hospital.StatusUpdated"
            and m["hospital"]["code"] == code
            and m["hospital"]["status"]["ed_status"] == ed_status
            for m in messages
        )

    return check


def _codes(ranking: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(d["code"], d["advisory"]) for d in ranking["destinations"]]


def test_a_status_update_is_pushed_to_consoles_and_shown_by_the_api(site: Site) -> None:
    token = site.server.add_user("d.console", "dispatcher")
    with Listener(site.server.ws_url("/ws/console"), token) as console:
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        changed = ok(site.status("H-NEAR", ed_status="closed", reason="CT scanner down"))
        assert console.wait_for(_hospital_update("H-NEAR", "closed"))
    assert changed["status"]["ed_status"] == "closed"
    assert (changed["status"]["reason"], changed["status"]["updated_by"]) == (
        "CT scanner down",
        "d.ali",
    )
    pushed = next(m for m in console.messages if m.get("event") == "Hospital.StatusUpdated")
    assert (
        pushed["actor"] == "d.ali" and pushed["hospital"]["status"]["reason"] == "CT scanner down"
    )
    listed = {h["code"]: h for h in ok(site.crew.get("/hospitals"))}
    assert listed["H-NEAR"]["status"]["ed_status"] == "closed"
    assert listed["H-MID"]["status"] == {
        "ed_status": "normal",
        "beds": {},
        "reason": "",
        "updated_by": None,
        "updated_at": None,
    }
    with Listener(site.server.ws_url("/ws/console"), token) as late:
        assert late.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        snapshot = late.first("snapshot")
    assert snapshot is not None
    shown = {h["code"]: h["status"]["ed_status"] for h in snapshot["hospitals"]}
    assert shown["H-NEAR"] == "closed" and shown["H-FAR"] == "normal"


def test_the_crew_is_offered_hospitals_by_eta_with_a_closed_one_skipped(site: Site) -> None:
    before = ok(site.crew.get(f"/units/{CREW_UNIT}/destinations", params={"service": "stroke"}))
    assert _codes(before) == [("H-NEAR", False), ("H-MID", False), ("H-FAR", False)]

    ok(site.status("H-NEAR", ed_status="closed", reason="CT scanner down"))
    ok(site.status("H-MID", ed_status="advisory", reason="corridor care"))
    after = ok(site.crew.get(f"/units/{CREW_UNIT}/destinations", params={"service": "stroke"}))

    # H-NEAR is closed; H-MID (2 km) is on advisory, so H-FAR (4 km) comes first.
    assert _codes(after) == [("H-FAR", False), ("H-MID", True)]
    assert after["service"] == "stroke" and after["service_from"] == "query"
    excluded = {x["code"]: x["why"] for x in after["excluded"]}
    assert excluded == {
        "H-NEAR": "emergency department closed: CT scanner down",
        "PSY": "no stroke service",
    }
    far, mid = after["destinations"]
    assert far["distance_m"] == pytest.approx(4000, rel=0.01)
    assert 0 < mid["eta_s"] < far["eta_s"]


def test_going_transporting_offers_the_crew_destinations_for_its_incidents_need(
    site: Site,
) -> None:
    ok(site.status("H-NEAR", ed_status="closed", reason="CT scanner down"))
    incident = report(site.dispatcher, "D", nature="stroke symptoms, facial droop")
    body = {"units": [CREW_UNIT]}
    ok(site.dispatcher.post(f"/incidents/{incident['id']}/assignments", json=body))
    with Listener(site.server.ws_url("/ws/crew"), site.crew_token) as crew:
        for status in ("en_route", "on_scene", "transporting"):
            ok(site.crew.post(f"/units/{CREW_UNIT}/status", json={"status": status}))

        def offered(messages: list[Message]) -> bool:
            return any("destinations" in m for m in messages)

        assert crew.wait_for(offered)
        crew.send({"type": "destinations", "id": 7, "service": "psychiatric"})
        assert crew.wait_for(lambda ms: any(m.get("id") == 7 for m in ms))
    pushed = next(m for m in crew.messages if "destinations" in m)
    assert pushed["unit"]["status"] == "transporting"
    ranking = pushed["destinations"]
    assert (ranking["service"], ranking["service_from"]) == ("stroke", "incident")
    assert ranking["incident_id"] == incident["id"]
    assert _codes(ranking) == [("H-MID", False), ("H-FAR", False)]
    answer = next(m for m in crew.messages if m.get("id") == 7)
    assert answer["type"] == "result"
    assert _codes(answer["destinations"]) == [("PSY", False)]
    rest = ok(site.crew.get(f"/units/{CREW_UNIT}/destinations"))
    assert rest["service"] == "stroke" and rest["service_from"] == "incident"


def test_bad_status_updates_name_the_field_and_change_nothing(site: Site) -> None:
    refusals = [
        ({"ed_status": "closed"}, ["body", "reason"]),
        ({"ed_status": "shut", "reason": "x"}, ["body", "ed_status"]),
        ({"beds": {"suites": 2}}, ["body", "beds", "suites", "[key]"]),
        ({"beds": {"icu": -1}}, ["body", "beds", "icu"]),
        ({"services": ["dentistry"]}, ["body", "services", 0]),
        ({}, ["body", "ed_status"]),
    ]
    for body, location in refusals:
        response = site.status("H-MID", **body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == location, body
    assert site.status("NOWHERE", ed_status="normal").status_code == 404
    assert (
        site.crew.patch("/hospitals/H-MID/status", json={"ed_status": "normal"}).status_code == 403
    )
    assert site.crew.get("/units/A-FAR/destinations").status_code == 403
    bad_service = site.crew.get(f"/units/{CREW_UNIT}/destinations", params={"service": "dentistry"})
    assert bad_service.status_code == 422
    assert bad_service.json()["detail"][0]["loc"] == ["query", "service"]
    unchanged = ok(site.crew.get("/hospitals/H-MID"))["status"]
    assert unchanged["ed_status"] == "normal" and unchanged["updated_at"] is None
