"""The server as a program: demo seed, restart, docs, settings and the `najda` command line."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import httpx

from tests.e2e.conftest import StartServer
from tests.e2e.harness import CENTRE, clean_env, najda_command, ok, proposed, report


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6371.0 * math.hypot(dlat, dlon)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*najda_command(), *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_empty_store_is_seeded_with_the_demo_city_and_its_villages(
    demo: httpx.Client,
) -> None:
    units = ok(demo.get("/units"))
    stations = ok(demo.get("/stations"))
    hospitals = ok(demo.get("/hospitals"))
    assert 25 <= len(units) <= 35
    assert {u["kind"] for u in units} == {"als", "bls", "crisis", "responder", "supervisor"}
    assert all(u["status"] == "available" for u in units)
    assert len(hospitals) >= 3
    city = [s for s in stations if _km(*CENTRE, s["lat"], s["lon"]) < 10]
    rural = [s for s in stations if 15 <= _km(*CENTRE, s["lat"], s["lon"]) <= 40]
    assert len(city) >= 5
    assert len(rural) >= 2
    assert len(city) + len(rural) == len(stations)
    rural_ids = {s["id"] for s in rural}
    assert all(any(u["station_id"] == sid for u in units) for sid in rural_ids)
    assert all(u["station_id"] is not None for u in units)


def test_a_village_call_shows_the_distance_to_the_nearest_ambulance(demo: httpx.Client) -> None:
    village = next(s for s in ok(demo.get("/stations")) if s["code"] == "OGH")
    created = report(demo, "D", lat=village["lat"], lon=village["lon"], nature="chest pain")
    als, other = created["recommendation"]["requirements"]
    assert als["proposed"][0]["distance_m"] > 15_000
    assert other["proposed"][0]["distance_m"] < 100
    ok(demo.post(f"/incidents/{created['id']}/cancel", json={"reason": "test call"}))


def test_the_store_outlives_a_restart_without_seeding_twice(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = start_server(name="first", data_dir=data)
    with first.client() as client:
        seeded = len(ok(client.get("/units")))
        incident = report(client, "E", nature="cardiac arrest")
        ok(client.post(f"/incidents/{incident['id']}/assignments", json={"units": ["A10"]}))
        ok(client.post("/units/A10/status", json={"status": "en_route"}))
    assert first.stop() == 0
    assert "Najda stopped." in first.log()

    second = start_server(name="second", data_dir=data)
    with second.client() as client:
        assert len(ok(client.get("/units"))) == seeded
        board = ok(client.get("/incidents"))
        assert [r["id"] for r in board] == [incident["id"]]
        assert [(u["call_sign"], u["status"]) for u in board[0]["units"]] == [("A10", "en_route")]
        assert ok(client.get("/units/A10"))["incident_id"] == incident["id"]


def test_no_demo_starts_with_an_empty_roster(empty: httpx.Client) -> None:
    assert ok(empty.get("/units")) == []
    assert ok(empty.get("/stations")) == []
    health = ok(empty.get("/health"))
    # The only event is the bootstrap administrator's registration.
    assert (health["status"], health["store"], health["head"]) == ("ok", "sqlite", 1)


def test_serve_prints_the_url_and_the_store(start_server: StartServer) -> None:
    server = start_server("--no-demo")
    line = next(x for x in server.log().splitlines() if x.startswith("Najda is running at"))
    assert f"http://127.0.0.1:{server.port}/" in line
    assert "sqlite" in line and str(server.data_dir) in line


def test_a_response_plan_file_changes_the_recommendation(
    start_server: StartServer, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"by_priority": {"C": [{"label": "any BLS", "kinds": ["bls"]}]}}))
    server = start_server("--response-plan", str(plan))
    with server.client() as client:
        created = report(client, "C", nature="fall")
        line = created["recommendation"]["requirements"][0]
        assert (line["label"], line["kinds"]) == ("any BLS", ["bls"])
        assert proposed(created["recommendation"]) == [["B11"]]


def test_a_bad_response_plan_stops_the_command_with_a_message(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"by_priority": {"C": [{"kinds": ["boat"]}]}}))
    result = _run("serve", "--response-plan", str(plan), "--port", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert "response plan" in result.stderr and "kinds" in result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path: Path) -> None:
    result = _run("serve", "--database-url", "mysql://x/y", cwd=tmp_path)
    assert result.returncode == 2
    assert "postgresql://" in result.stderr


def test_help_explains_every_command_and_option(tmp_path: Path) -> None:
    top = _run("--help", cwd=tmp_path)
    assert top.returncode == 0
    for word in ("serve", "seed-demo", "NAJDA_DATABASE_URL", "NAJDA_DATA_DIR"):
        assert word in top.stdout
    serve = _run("serve", "--help", cwd=tmp_path)
    options = ("--host", "--port", "--data-dir", "--database-url", "--response-plan", "--no-demo")
    for option in options:
        assert re.search(rf"{option}\b.*\n?.*\w", serve.stdout), option


def test_seed_demo_fills_an_empty_store_once(start_server: StartServer, tmp_path: Path) -> None:
    data = tmp_path / "seeded"
    first = _run("seed-demo", "--data-dir", str(data), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "30 units" in first.stdout
    again = _run("seed-demo", "--data-dir", str(data), cwd=tmp_path)
    assert again.returncode == 1
    assert "not empty" in again.stdout
    server = start_server("--no-demo", data_dir=data)
    with server.client() as client:
        assert len(ok(client.get("/units"))) == 30


def test_seed_demo_seeds_the_same_default_area_as_serve(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "real"
    env = {k: v for k, v in clean_env().items() if k != "NAJDA_DEMO_AREA"}  # no configuration
    seeded = subprocess.run(
        [*najda_command(), "seed-demo", "--data-dir", str(data)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    assert seeded.stdout.startswith("seeded Liechtenstein:"), seeded.stdout
    server = start_server("--no-demo", data_dir=data)
    with server.client() as client:
        hospitals = {h["name"] for h in ok(client.get("/hospitals"))}
        stations = {s["name"]: s for s in ok(client.get("/stations"))}
        units = {u["call_sign"]: u for u in ok(client.get("/units"))}
    assert hospitals == {"Liechtensteinisches Landesspital"}
    red_cross = stations["Rotes Kreuz Liechtenstein"]
    assert abs(units["A10"]["lat"] - red_cross["lat"]) < 1e-6
    assert abs(units["A10"]["lon"] - red_cross["lon"]) < 1e-6


def test_seed_demo_takes_the_demo_area_option_over_the_environment(tmp_path: Path) -> None:
    data = tmp_path / "sahil"
    seeded = subprocess.run(
        [*najda_command(), "seed-demo", "--data-dir", str(data), "--demo-area", "sahil"],
        cwd=tmp_path, env=clean_env(NAJDA_DEMO_AREA="liechtenstein"), capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    assert "sahil" in seeded.stdout and "30 units" in seeded.stdout
    assert not (data / "area").exists()  # the bundled extract was not imported
    wrong = _run("seed-demo", "--data-dir", str(tmp_path / "x"), "--demo-area", "atlantis",
                 cwd=tmp_path)  # fmt: skip
    assert wrong.returncode == 2 and "--demo-area" in wrong.stderr
    assert not (tmp_path / "x").exists()


def test_the_docs_page_loads_swagger_ui_from_the_server_itself(demo: httpx.Client) -> None:
    page = demo.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert any(s.endswith("/swagger-ui-bundle.js") for s in sources), sources
    for source in sources:
        asset = demo.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert "/openapi.json" in page.text


def test_the_openapi_description_covers_every_resource(demo: httpx.Client) -> None:
    spec = ok(demo.get("/openapi.json"))
    paths = spec["paths"]
    expected = {
        "/incidents": {"get", "post"},
        "/incidents/{incident_id}": {"get"},
        "/incidents/{incident_id}/notes": {"post"},
        "/incidents/{incident_id}/priority": {"post"},
        "/incidents/{incident_id}/location": {"post"},
        "/incidents/{incident_id}/close": {"post"},
        "/incidents/{incident_id}/cancel": {"post"},
        "/incidents/{incident_id}/recommendations": {"get"},
        "/incidents/{incident_id}/assignments": {"post"},
        "/incidents/{incident_id}/assignments/{unit}/release": {"post"},
        "/incidents/{incident_id}/assignments/reassign": {"post"},
        "/incidents/{incident_id}/options/{unit}": {"get"},
        "/floor/settings": {"get"},
        "/floor/rules": {"get"},
        "/units": {"get", "post"},
        "/units/{unit}": {"get"},
        "/units/{unit}/status": {"post"},
        "/units/{unit}/position": {"post"},
        "/stations": {"get", "post"},
        "/stations/{station}": {"get"},
        "/hospitals": {"get", "post"},
        "/hospitals/{hospital}": {"get"},
        "/health": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    schemas = spec["components"]["schemas"]
    for name in ("IncidentCreate", "IncidentPublic", "UnitCreate", "UnitPublic"):
        assert name in schemas
    assert schemas["IncidentCreate"]["properties"]["lat"]["maximum"] == 90


def test_health_answers_json(demo: httpx.Client) -> None:
    assert isinstance(ok(demo.get("/health")), dict)
