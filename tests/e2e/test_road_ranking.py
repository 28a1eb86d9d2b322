"""`najda serve --road-network`: recommendations ranked by road ETA, to consoles too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import ok, report
from tests.e2e.live import Listener, has_event
from tests.unit.jemss_fixture import write_scenario


def test_a_server_with_a_road_network_ranks_units_by_road_eta(
    start_server: StartServer, tmp_path: Path
) -> None:
    scenario = write_scenario(tmp_path / "scenario")
    server = start_server("--no-demo", "--road-network", str(scenario))
    token = server.add_user("d.one", "dispatcher")
    with server.client() as admin:
        for sign, lat in (("A1", 40.7018), ("B1", 40.700)):
            body = {"call_sign": sign, "kind": "als", "lat": lat, "lon": -74.000}
            ok(admin.post("/units", json=body), 201)
        with Listener(server.ws_url("/ws/console"), token) as console:
            incident = report(admin, "C", lat=40.701, lon=-74.000)  # at road node 2
            assert console.wait_for(has_event("Incident.Reported", id=incident["id"]))
    ranked = incident["recommendation"]["requirements"][0]
    by_road = [c["call_sign"] for c in ranked["proposed"] + ranked["alternatives"]]
    # A1 is nearer in a straight line (90 m against 111 m) but 160 s away by road; B1, 60 s.
    assert by_road == ["B1", "A1"]
    assert ranked["proposed"][0]["eta_s"] == pytest.approx(60.0)
    pushed = next(m for m in console.changes() if m["event"] == "Incident.Reported")
    assert pushed["recommendation"][0]["proposed"][0]["call_sign"] == "B1"


def test_the_recorded_eta_is_the_ranked_road_eta(start_server: StartServer, tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path / "scenario")
    server = start_server("--no-demo", "--road-network", str(scenario))
    token = server.add_user("d.one", "dispatcher")
    with server.client() as admin:
        for sign, lat in (("A1", 40.7018), ("B1", 40.700)):
            body = {"call_sign": sign, "kind": "als", "lat": lat, "lon": -74.000}
            ok(admin.post("/units", json=body), 201)
    with server.client(token) as dispatcher:
        first = report(dispatcher, "C", lat=40.701, lon=-74.000)  # at road node 2
        ranked = first["recommendation"]["requirements"][0]
        by_sign = {c["call_sign"]: c for c in ranked["proposed"] + ranked["alternatives"]}
        a1 = by_sign["A1"]  # 90 m away in a straight line, 160 s and more by road
        straight_eta_s = a1["distance_m"] / 25.0  # nowhere near: any plausible speed is < 50 m/s
        assert a1["eta_s"] > 150 and abs(a1["eta_s"] - straight_eta_s) > 100
        option = ok(dispatcher.get(f"/incidents/{first['id']}/options/A1"))
        assert (option["distance_m"], option["eta_s"]) == (round(a1["distance_m"], 1), a1["eta_s"])
        assigned = ok(
            dispatcher.post(f"/incidents/{first['id']}/assignments", json={"units": ["A1"]})
        )
        recorded = next(a for a in assigned["assignments"] if a["call_sign"] == "A1")
        assert recorded["eta_s"] == a1["eta_s"]
        assert recorded["distance_m"] == round(a1["distance_m"], 1)
        second = report(dispatcher, "C", lat=40.701, lon=-74.000)  # the same spot
        moved = ok(
            dispatcher.post(
                f"/incidents/{second['id']}/assignments/reassign",
                json={"unit": "A1", "from_incident_id": first["id"], "reason": "nearer job"},
            )
        )
        taken = next(a for a in moved["assignments"] if a["call_sign"] == "A1")
        assert taken["eta_s"] == a1["eta_s"]
        stored = ok(dispatcher.get(f"/incidents/{second['id']}"))
        assert [a["eta_s"] for a in stored["assignments"] if a["active"]] == [a1["eta_s"]]


def test_a_missing_road_network_is_refused_at_start(
    start_server: StartServer, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError, match="road network"):
        start_server("--no-demo", "--road-network", str(tmp_path / "nowhere"))
