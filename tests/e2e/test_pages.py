"""The browser pages and the base map over HTTP: everything comes from the server itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
from shapely.geometry import Point, shape

from tests.e2e.conftest import StartServer
from tests.e2e.harness import ok
from tests.unit.jemss_fixture import NODES, write_scenario

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "api" / "static"


def _assets(client: httpx.Client, page: str) -> set[str]:
    """Every file a page loads: its src/href, and the modules its scripts import, in turn."""
    html = client.get(page).text
    found = set(re.findall(r'(?:src|href)="(/[^"]*)"', html))
    queue = [a for a in found if a.endswith(".js") and "/vendor/" not in a]
    while queue:
        script = queue.pop()
        for name in re.findall(r'from "\./([\w-]+\.js)"', client.get(script).text):
            path = script.rsplit("/", 1)[0] + "/" + name
            if path not in found:
                found.add(path)
                queue.append(path)
    return found


def test_the_pages_load_only_files_of_the_server_itself(demo: httpx.Client) -> None:
    for page, script in (("/", "/ui/console.js"), ("/crew", "/ui/crew.js")):
        answer = demo.get(page, headers={"Authorization": ""})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
        sources = re.findall(r'(?:src|href)="([^"]+)"', answer.text)
        assert all(s.startswith("/") or s == "data:," for s in sources), sources
        assets = _assets(demo, page)
        assert {script, "/ui/vendor/leaflet/leaflet.js", "/ui/live.js", "/ui/mapview.js"} <= assets
        for asset in assets:
            loaded = demo.get(asset)
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 100, asset
    audit = demo.get("/audit", headers={"Authorization": ""})
    assert (
        audit.status_code == 200
        and "default-src 'self'" in audit.headers["content-security-policy"]
    )
    assert {"/ui/audit.js", "/ui/history.js", "/ui/api.js"} <= _assets(demo, "/audit")
    # Our own files name no other host (Leaflet's mention its home page in comments only).
    for path in STATIC.glob("*.*"):
        assert not re.search(r"https?://", path.read_text()), path.name


def test_the_base_map_shows_the_demo_city_zones_stations_and_hospitals(
    demo: httpx.Client,
) -> None:
    stations = ok(demo.get("/stations"))
    hospitals = ok(demo.get("/hospitals"))
    data = ok(demo.get("/map"))
    kinds = [f["properties"]["kind"] for f in data["features"]]
    assert kinds.count("area") == 1 and "roads" not in kinds
    zones = {
        f["properties"]["code"]: f for f in data["features"] if f["properties"]["kind"] == "zone"
    }
    assert set(zones) == {s["code"] for s in stations}
    for station in stations:  # each station lies in its own first-due zone
        point = Point(station["lon"], station["lat"])
        assert shape(zones[station["code"]]["geometry"]).contains(point), station["code"]
    drawn = {
        f["properties"]["code"] for f in data["features"] if f["properties"]["kind"] == "hospital"
    }
    assert drawn == {h["code"] for h in hospitals}
    west, south, east, north = data["bbox"]
    assert all(south < p["lat"] < north and west < p["lon"] < east for p in stations + hospitals)


def test_the_base_map_draws_the_roads_of_a_loaded_network(
    start_server: StartServer, tmp_path: Path
) -> None:
    scenario = write_scenario(tmp_path / "scenario")
    server = start_server("--no-demo", "--road-network", str(scenario))
    with server.client() as admin:
        body = {"code": "ST-1", "name": "Station one", "lat": 40.701, "lon": -74.0}
        ok(admin.post("/stations", json=body), 201)
        data = ok(admin.get("/map"))
    (roads,) = [f for f in data["features"] if f["properties"]["kind"] == "roads"]
    lines = shape(roads["geometry"])
    for lat, lon, _access in NODES.values():  # every node of the network is on a drawn road
        assert lines.distance(Point(lon, lat)) < 1e-4, (lat, lon)


def test_a_built_package_ships_the_pages_and_the_vendored_map_library(tmp_path: Path) -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    source = tmp_path / "source"  # the tracked files only, built as a user's pip would
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path)]
    built = subprocess.run(
        [*command, str(source)], capture_output=True, text=True, timeout=300, check=False
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("najda-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    static = [name for name in tracked if name.startswith("api/static/")]
    assert "api/static/vendor/leaflet/leaflet.js" in static
    missing = [name for name in static if f"najda/{name}" not in shipped]  # api/ is najda.api
    assert not missing, missing
