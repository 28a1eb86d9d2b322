"""Crew commands through a real server and real websockets: command ids de-duplicated (socket
and REST), the destination recorded and shown to consoles and on the timeline, bad input
refused with the field named and nothing done."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import CENTRE, NajdaServer, build_world, offset, ok, report
from tests.e2e.live import Listener, Message

UNIT = "A-NEAR"


class Site:
    """One server for the module: the test world, two hospitals, a dispatcher and A-NEAR's crew."""

    def __init__(self, server: NajdaServer) -> None:
        self.server = server
        self.admin = server.client()
        self.ids = build_world(self.admin)
        for code, km in (("H-1", 1.5), ("H-SHUT", 2.0)):
            lat, lon = offset(*CENTRE, north_m=km * 1000)
            body = {"code": code, "name": f"Hospital {code}", "lat": lat, "lon": lon}
            ok(self.admin.post("/hospitals", json={**body, "services": ["emergency"]}), 201)
        shut = {"ed_status": "closed", "reason": "flooded"}
        ok(self.admin.patch("/hospitals/H-SHUT/status", json=shut))
        self.crew_token = server.add_user("crew.near", "crew", unit=UNIT)
        self.dispatcher_token = server.add_user("d.one", "dispatcher")

    def job(self) -> str:
        """A new incident with UNIT assigned; its id."""
        incident = report(self.admin, "B", nature="cardiac arrest")
        ok(self.admin.post(f"/incidents/{incident['id']}/assignments", json={"units": [UNIT]}))
        return str(incident["id"])

    def unit(self) -> Any:
        return ok(self.admin.get(f"/units/{UNIT}"))

    def events(self, incident_id: str) -> list[str]:
        timeline = ok(self.admin.get(f"/incidents/{incident_id}/timeline"))
        return [e["text"] for e in timeline["entries"]]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = NajdaServer(tmp_path_factory.mktemp("crew"), ["--no-demo"]).start()
    try:
        built = Site(server)
        yield built
        built.admin.close()
    finally:
        server.stop()


def _answer(crew: Listener, ref: str) -> Message:
    assert crew.wait_for(lambda ms: any(m.get("id") == ref for m in ms)), crew.messages[-5:]
    return next(m for m in crew.messages if m.get("id") == ref)


def _finish(site: Site) -> None:
    """Take UNIT back to available whatever it is doing."""
    with site.server.client(site.crew_token) as crew:
        for step in ("en_route", "on_scene", "available"):
            crew.post(f"/units/{UNIT}/status", json={"status": step})
    assert site.unit()["status"] == "available"


def test_a_replayed_press_answers_the_first_result_and_other_content_is_refused(
    site: Site,
) -> None:
    incident = site.job()
    with Listener(site.server.ws_url("/ws/crew"), site.crew_token) as crew:
        press = {"type": "status", "status": "en_route", "incident_id": incident}
        crew.send({**press, "id": "1", "command_id": "p-1"})
        crew.send({**press, "id": "2", "command_id": "p-1"})  # the replay after a reconnect
        crew.send({**press, "id": "3", "command_id": "p-1", "status": "on_scene"})
        first, again, other = _answer(crew, "1"), _answer(crew, "2"), _answer(crew, "3")

    assert first == {"type": "result", "id": "1", "status": "en_route"}
    assert again == {"type": "result", "id": "2", "status": "en_route", "replayed": True}
    assert (other["type"], other["status"]) == ("error", 409)
    assert other["detail"].startswith("command_id: 'p-1' was already used for status en_route")
    assert site.unit()["status"] == "en_route"
    assert sum("en route" in line for line in site.events(incident)) == 1

    # REST keeps the same ids per unit: the socket's p-1 with other content is refused there too.
    with site.server.client(site.crew_token) as rest:
        body = {"status": "on_scene", "command_id": "p-1"}
        refused = rest.post(f"/units/{UNIT}/status", json=body)
        assert refused.status_code == 409, refused.text
        assert "command_id" in refused.json()["detail"]
        fresh = rest.post(f"/units/{UNIT}/status", json={**body, "command_id": "p-2"})
        assert ok(fresh)["status"] == "on_scene"
        replayed = rest.post(f"/units/{UNIT}/status", json={**body, "command_id": "p-2"})
        assert ok(replayed)["status"] == "on_scene"
    assert sum("on scene" in line for line in site.events(incident)) == 1
    _finish(site)


def test_a_step_for_a_previous_job_is_refused_on_the_next(site: Site) -> None:
    first = site.job()
    _finish(site)
    site.job()
    with Listener(site.server.ws_url("/ws/crew"), site.crew_token) as crew:
        crew.send({"type": "status", "status": "en_route", "incident_id": first, "id": "s"})
        refused = _answer(crew, "s")

    assert (refused["status"], refused["detail"].split(":")[0]) == (409, "incident_id")
    assert site.unit()["status"] == "dispatched"
    _finish(site)


def test_the_chosen_destination_reaches_consoles_and_the_timeline(site: Site) -> None:
    incident = site.job()
    with (
        Listener(site.server.ws_url("/ws/console"), site.dispatcher_token) as console,
        Listener(site.server.ws_url("/ws/crew"), site.crew_token) as crew,
    ):
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        crew.send({"type": "destination", "hospital": "H-1", "id": "early"})
        early = _answer(crew, "early")
        for step in ("en_route", "on_scene"):
            crew.send({"type": "status", "status": step, "id": step})
            _answer(crew, step)
        crew.send({"type": "destination", "hospital": "NOPE", "id": "bad"})
        crew.send({"type": "destination", "hospital": "H-SHUT", "id": "shut"})
        crew.send({"type": "destination", "hospital": "H-1", "id": "ok", "command_id": "d-1"})
        bad, shut, chosen = _answer(crew, "bad"), _answer(crew, "shut"), _answer(crew, "ok")

        def shown(messages: list[Message]) -> bool:
            return any(
                m.get("event") == "Incident.DestinationChosen"
                and m["incident"]["destinations"].get(site.ids[UNIT], {}).get("code") == "H-1"
                for m in messages
            )

        assert console.wait_for(shown)

    assert (early["status"], "on scene or transporting" in early["detail"]) == (409, True)
    assert (bad["status"], bad["field"]) == (422, "hospital")
    assert (shut["status"], "flooded" in shut["detail"]) == (409, True)
    assert chosen == {
        "type": "result", "id": "ok", "destination": "H-1", "name": "Hospital H-1",
    }  # fmt: skip
    lines = [t for t in site.events(incident) if "destination" in t]
    assert lines == ["crew.near chose Hospital H-1 (H-1) as A-NEAR's destination"]
    _finish(site)
