"""`najda serve --policy`: recommendations in the API and the console follow the chosen
dispatch policy (the simulator's own objects), on the real demo area."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.geo.area import EMERGENCY_MODE, load_area
from najda.geo.speed import SpeedModel
from najda.projections.policies.live import zones_from_area
from tests.area_fixture import liechtenstein
from tests.e2e.conftest import StartServer
from tests.e2e.harness import NajdaServer, clean_env, head, offset, ok, report
from tests.e2e.live import Listener, has_event
from tests.policy_floor import Ambulance, FloorSim, Station, floor_sim, planned_moves

#: Red Cross Liechtenstein, the ambulance station of the demo (A10, A11 and B12 wait there).
RED_CROSS = (47.1329089, 9.5135467)


def _start(root: Path, policy: str, *extra: str) -> NajdaServer:
    work = root / policy
    shutil.copytree(liechtenstein()[0] / "area", work / "data" / "area")
    env = clean_env(NAJDA_DEMO_AREA="liechtenstein")
    return NajdaServer(work, args=["--policy", policy, *extra], env=env).start()


@pytest.fixture(scope="module", params=["closest-straight", "closest-road", "coverage"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[NajdaServer]:
    yield from _serving(tmp_path_factory, "policy", request.param)


def _serving(factory: pytest.TempPathFactory, name: str, policy: str) -> Iterator[NajdaServer]:
    """A server under the policy on a fresh copy of the demo area, stopped after use."""
    started = _start(factory.mktemp(name), policy)
    try:
        yield started
    finally:
        started.stop()


def _dispatcher(server: NajdaServer) -> httpx.Client:
    return server.client(server.printed_tokens()["demo-dispatcher"])


def _report(client: httpx.Client, lat: float, lon: float, priority: str = "E") -> dict:
    body = {"lat": lat, "lon": lon, "nature": "chest pain", "priority": priority,
            "address": f"{lat:.5f}, {lon:.5f}"}
    return ok(client.post("/incidents", json=body), 201)  # type: ignore[no-any-return]


def test_recommendations_name_the_policy_and_rank_as_it_ranks(server: NajdaServer) -> None:
    policy = server.args[1]
    call = offset(*RED_CROSS, north_m=800.0, east_m=300.0)
    with _dispatcher(server) as client:
        incident = _report(client, *call, priority="C")
        rec = incident["recommendation"]
        again = ok(client.get(f"/incidents/{incident['id']}/recommendations"))
    assert rec["policy"] == again["policy"] == policy
    line = rec["requirements"][0]
    offered = line["proposed"] + line["alternatives"]
    assert len(offered) >= 2
    network = load_area(server.data_dir / "area").roads.network()
    for unit in offered:
        here = (unit["lat"], unit["lon"])
        if policy == "closest-straight":
            assert unit["eta_s"] == pytest.approx(SpeedModel().eta_s(unit["distance_m"]), abs=0.2)
        else:
            assert unit["eta_s"] == pytest.approx(network.travel_s(here, call, EMERGENCY_MODE),
                                                  abs=1.0)
        assert (unit["coverage"] is not None) == (policy == "coverage")
    if policy == "closest-straight":
        assert [u["distance_m"] for u in offered] == sorted(u["distance_m"] for u in offered)
    if policy == "closest-road":
        assert [u["eta_s"] for u in offered] == sorted(u["eta_s"] for u in offered)


def test_the_coverage_view_names_the_policy_and_where_its_move_ups_come_from(
    server: NajdaServer,
) -> None:
    policy = server.args[1]
    with _dispatcher(server) as client:
        picture = ok(client.get("/coverage"))
    assert picture["policy"] == policy
    assert picture["move_ups_by"] == ("redeploy-plan" if policy == "coverage" else "greedy-cover")
    for move in picture["move_ups"]:
        assert (move["post"] is not None) == (policy == "coverage")
        assert move["reason"]


@pytest.fixture(scope="module")
def coverage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    yield from _serving(tmp_path_factory, "coverage", "coverage")


def _closest_by_road(server: NajdaServer, call: tuple[float, float], signs: set[str]) -> str:
    network = load_area(server.data_dir / "area").roads.network()
    with _dispatcher(server) as client:
        units = [u for u in ok(client.get("/units")) if u["call_sign"] in signs]
    return min(
        units,
        key=lambda u: (network.travel_s((u["lat"], u["lon"]), call, EMERGENCY_MODE),
                       u["call_sign"]),
    )["call_sign"]


def test_coverage_keeps_the_closest_ambulance_for_urgent_calls_only(
    coverage: NajdaServer,
) -> None:
    """A lower-priority call near the ambulance station gets an ambulance that still
    arrives within its target from further away; an urgent one gets the closest."""
    call = offset(*RED_CROSS, north_m=800.0, east_m=300.0)
    with _dispatcher(coverage) as client:
        urgent = _report(client, *call, priority="E")
        lower = _report(client, *call, priority="C")
        for incident in (urgent, lower):
            ok(client.post(f"/incidents/{incident['id']}/cancel", json={"reason": "test"}))
    signs = {"A10", "A11", "A20"}
    closest = _closest_by_road(coverage, call, signs)
    first = urgent["recommendation"]["requirements"][0]["proposed"][0]
    assert first["call_sign"] == closest
    chosen = lower["recommendation"]["requirements"][0]["proposed"][0]
    assert chosen["call_sign"] != closest
    assert chosen["eta_s"] <= 900  # C: on scene within 15 min (domain/dispatch/targets.py)
    assert lower["recommendation"]["policy"] == "coverage"


def test_each_ambulance_shows_what_its_departure_does_to_coverage(
    coverage: NajdaServer,
) -> None:
    """With the station's other ambulances out, sending the last one leaves the towns only
    it reaches in 8 minutes uncovered; the console's message says so too."""
    token = coverage.printed_tokens()["demo-dispatcher"]
    call = offset(*RED_CROSS, north_m=500.0)
    with _dispatcher(coverage) as client:
        before = _report(client, *call, priority="E")
        kept = before["recommendation"]["requirements"][0]["proposed"][0]
        assert kept["coverage"]["emptied"] == []  # another ambulance waits at its station
        ok(client.post(f"/incidents/{before['id']}/cancel", json={"reason": "test"}))
        away = offset(*RED_CROSS, north_m=-9000.0)
        for sign in ("A11", "B12"):
            elsewhere = _report(client, *away, priority="A")
            body = {"units": [sign]}
            ok(client.post(f"/incidents/{elsewhere['id']}/assignments", json=body))
        with Listener(coverage.ws_url("/ws/console"), token) as console:
            incident = _report(client, *call, priority="E")
            assert console.wait_for(has_event("Incident.Reported", id=incident["id"]), 10)
    unit = incident["recommendation"]["requirements"][0]["proposed"][0]
    assert unit["call_sign"] == "A10"
    impact = unit["coverage"]
    assert impact["emptied"], impact
    towns = {a.municipality for a in load_area(coverage.data_dir / "area").addresses}
    assert set(impact["emptied"]) <= towns
    assert impact["text"].startswith("leaves ") and impact["text"].endswith(
        "with no unit within 8 min"
    )
    assert all(town in impact["text"] for town in impact["emptied"])
    assert impact["covered_after"] < impact["covered_before"]
    message = next(
        m for m in console.changes()
        if m["event"] == "Incident.Reported" and m["incident"]["id"] == incident["id"]
    )
    shown = message["recommendation"][0]["proposed"][0]
    assert shown["call_sign"] == "A10" and shown["coverage"] == impact["text"]


def test_an_unknown_policy_or_a_road_policy_without_roads_stops_the_start(
    tmp_path: Path,
) -> None:
    unknown = NajdaServer(tmp_path / "unknown", args=["--policy", "nearest-ish"])
    with pytest.raises(RuntimeError, match="policy must be one of"):
        unknown.start()
    roadless = NajdaServer(tmp_path / "roadless", env=clean_env(NAJDA_POLICY="coverage"))
    with pytest.raises(RuntimeError, match="coverage ranks by road"):
        roadless.start()
    for folder in ("unknown", "roadless"):
        assert not (tmp_path / folder / "data" / "najda.sqlite").exists()


def _accept(server: NajdaServer, client: httpx.Client, move: dict) -> dict:
    """Accept a suggested move-up as the console's `u` does; the crew's message about it."""
    sign = move["call_sign"]
    crew = server.add_user(f"crew.{sign.lower()}", "crew", unit=sign)
    with Listener(server.ws_url("/ws/crew"), crew) as socket:
        body = {"station": move["to_station"]}
        done = ok(client.post(f"/units/{move['unit_id']}/relocate", json=body))
        assert done["station"] == move["to_station"] and done["call_sign"] == sign
        assert socket.wait_for(lambda ms: any("relocation" in m for m in ms), 10)
    return next(m for m in socket.changes() if "relocation" in m)  # type: ignore[no-any-return]


def test_the_coverage_view_suggests_move_ups_and_the_crew_receives_an_accepted_one(
    coverage: NajdaServer,
) -> None:
    """Zones covered within the target now; accepting the best move-up records it on the
    unit (actor and time), the crew's socket receives it, and the view counts the unit at
    its new station."""
    towns = {a.municipality for a in load_area(coverage.data_dir / "area").addresses}
    with _dispatcher(coverage) as client:
        before = ok(client.get("/coverage"))
        assert before["policy"] == "coverage" and before["target_min"] == 8
        assert {z["name"] for z in before["zones"]} <= towns
        assert all(0 <= z["covered"] <= 1 for z in before["zones"])
        suggestion = before["move_ups"][0]
        assert suggestion["gain"] > 0 and suggestion["to_station"] != suggestion["from_station"]
        sign = suggestion["call_sign"]
        moved = _accept(coverage, client, suggestion)
        after = ok(client.get("/coverage"))
    assert moved["event"] == "Unit.Relocated" and moved["actor"] == "demo-dispatcher"
    assert moved["at"] and moved["relocation"]["station"] == suggestion["to_station"]
    assert moved["unit"]["call_sign"] == sign
    assert after["covered"] == pytest.approx(before["covered"] + suggestion["gain"], abs=1e-3)
    assert all(m["call_sign"] != sign or m["to_station"] != suggestion["to_station"]
               for m in after["move_ups"])


def test_a_move_up_to_an_unknown_station_or_of_a_busy_unit_changes_nothing(
    coverage: NajdaServer,
) -> None:
    with _dispatcher(coverage) as client:
        busy = _report(client, *offset(*RED_CROSS, north_m=-7000.0), priority="A")
        ok(client.post(f"/incidents/{busy['id']}/assignments", json={"units": ["A20"]}))
        station = ok(client.get("/stations"))[0]["code"]
        start = head(client)
        unknown = client.post("/units/A11/relocate", json={"station": "NOWHERE"})
        assert unknown.status_code == 404 and "NOWHERE" in unknown.text
        empty = client.post("/units/A11/relocate", json={"station": ""})
        assert empty.status_code == 422 and "station" in empty.text
        extra = client.post("/units/A11/relocate", json={"station": station, "lat": 1})
        assert extra.status_code == 422 and "lat" in extra.text
        nobody = client.post("/units/ZZ99/relocate", json={"station": station})
        assert nobody.status_code == 404
        refused = client.post("/units/A20/relocate", json={"station": station})
        assert refused.status_code == 409 and "A20" in refused.text
        assert head(client) == start  # nothing was written
    with coverage.client(coverage.printed_tokens()["demo-crew-a10"]) as crew:
        own = crew.post("/units/A10/relocate", json={"station": station})
        assert own.status_code == 403


@pytest.mark.postgres
def test_a_straight_line_coverage_policy_on_postgis_and_a_move_up_seen_by_another_process(
    start_server: StartServer, pg_url: str
) -> None:
    """Without roads (the invented town), coverage by straight-line ETA; zones are the
    stations' first-due areas; a move-up accepted on one process counts on another."""
    first = start_server("--database-url", pg_url, "--demo", "--policy", "coverage-straight",
                         name="first")
    with first.client() as client:
        created = report(client, "C", nature="fall")
        rec = created["recommendation"]
        assert rec["policy"] == "coverage-straight"
        ambulances = [c for c in rec["requirements"][0]["proposed"] if c["kind"] in ("als", "bls")]
        assert ambulances and all(c["coverage"]["target_min"] == 8 for c in ambulances)
        before = ok(client.get("/coverage"))
        stations = ok(client.get("/stations"))
        names = {f"{s['name']} first-due area" for s in stations}
        assert {z["name"] for z in before["zones"]} <= names
        # Send out the ambulances of one station after another until cover has a gap.
        units = [u for u in ok(client.get("/units")) if u["kind"] in ("als", "bls")]
        for station in sorted(stations, key=lambda s: s["code"])[:-1]:
            if before["move_ups"]:
                break
            for unit in [u for u in units if u["station_id"] == station["id"]]:
                job = report(client, "A", nature="fall")
                body = {"units": [unit["call_sign"]]}
                ok(client.post(f"/incidents/{job['id']}/assignments", json=body))
            before = ok(client.get("/coverage"))
        move = before["move_ups"][0]
        body = {"station": move["to_station"]}
        ok(client.post(f"/units/{move['call_sign']}/relocate", json=body))
        after = ok(client.get("/coverage"))
        assert after["covered"] == pytest.approx(before["covered"] + move["gain"], abs=1e-3)
    second = start_server("--database-url", pg_url, "--policy", "coverage-straight",
                          name="second")
    with second.client() as other:
        assert ok(other.get("/coverage"))["covered"] == after["covered"]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NajdaServer]:
    """A coverage server of its own: the plan is asked again on a floor this test knows."""
    yield from _serving(tmp_path_factory, "planned", "coverage")


def _floor(server: NajdaServer, client: httpx.Client, posts: dict[UUID, UUID]) -> FloorSim:
    """The server's floor as the simulator hands it to a policy: its stations and ambulances
    (each at its post, else at its nearest station), demand and roads from its area."""
    stations = [Station(UUID(s["id"]), s["code"], s["name"], s["lat"], s["lon"])
                for s in ok(client.get("/stations"))]
    ambulances = [
        Ambulance(UUID(u["id"]), u["call_sign"], u["lat"], u["lon"], u["status"] == "available",
                  posts.get(UUID(u["id"])))
        for u in ok(client.get("/units")) if u["kind"] in ("als", "bls")
    ]
    area = load_area(server.data_dir / "area")
    zones = zones_from_area(area)
    assert zones is not None
    return floor_sim(stations, ambulances, zones, DEFAULT_TARGETS,
                     network=area.roads.network(), mode=EMERGENCY_MODE)


def _moves(picture: dict) -> list[tuple[str, str]]:
    return sorted((m["call_sign"], m["to_station"]) for m in picture["move_ups"])


def test_the_coverage_policy_suggests_its_redeploy_plan_and_an_accepted_move_is_recorded(
    planned: NajdaServer,
) -> None:
    """Under --policy coverage the move-ups are the moves the policy's own redeploy plan makes
    (asked again here the simulator's way on the server's floor), the post adding most first;
    accepting the first with the one-key flow records Relocated and tells the crew, and the
    next picture is the plan on the new floor: the other moves, and no longer that one."""
    with _dispatcher(planned) as client:
        # An ambulance out on a call, so the plan is one for fewer ambulances than the roster.
        job = _report(client, *offset(*RED_CROSS, north_m=-7000.0), priority="A")
        ok(client.post(f"/incidents/{job['id']}/assignments", json={"units": ["A20"]}))
        before = ok(client.get("/coverage"))
        expected = planned_moves("coverage", _floor(planned, client, {}))
        assert before["policy"] == "coverage" and before["move_ups_by"] == "redeploy-plan"
        assert len(expected) >= 2 and _moves(before) == expected
        posts = [m["post"] for m in before["move_ups"]]
        assert posts == sorted(posts) and all(m["posts"] == 4 for m in before["move_ups"])
        first = before["move_ups"][0]
        assert first["from_station"] != first["to_station"]
        site = next(s for s in ok(client.get("/stations")) if s["code"] == first["to_station"])
        assert first["reason"].startswith(
            f"fills post {first['post']} of 4 in the coverage plan: {site['name']} should hold"
        )
        sign = first["call_sign"]
        moved = _accept(planned, client, first)
        after = ok(client.get("/coverage"))
        moved_up = {UUID(first["unit_id"]): UUID(first["to_station_id"])}
        replanned = planned_moves("coverage", _floor(planned, client, moved_up))
    assert moved["event"] == "Unit.Relocated" and moved["actor"] == "demo-dispatcher"
    assert moved["relocation"]["station"] == first["to_station"]
    assert _moves(after) == replanned
    assert _moves(after) == [m for m in expected if m != (sign, first["to_station"])]
    assert after["covered"] == pytest.approx(before["covered"] + first["gain"], abs=1e-3)
