"""A JEMSS model folder unlike Manhattan, built here, imported as JEMSS reads it and simulated."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

from najda.domain.values import UnitKind
from najda.geo.jemss_tables import TableError
from najda.simulations.jemss import load_jemss
from najda.simulations.run import run_policy
from tests.unit.jemss_fixture import DAY_S, NODES, write_scenario

#: Undirected arcs, each listed once (JEMSS adds the other direction): (from, to, s mode 1,
#: s mode 2). Mode 2 is five times slower, so the travel set in force shows in the times.
UNDIRECTED = [(1, 2, 60, 300), (2, 3, 60, 300), (1, 4, 30, 150), (3, 5, 40, 200)]

GEN_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<genConfig>
  <sim>
    <startTime>0.0</startTime>
    <callDistributions>
      <interarrivalTime seed="1">Exponential(1/(6*24))</interarrivalTime>
      <priority seed="2">Categorical([0.6, 0.4, 0])</priority>
      <dispatchDelay seed="3">Truncated(Normal(1/60/24, 0.5/60/24), 0, 3/60/24)</dispatchDelay>
      <onSceneDuration seed="4">Weibull(2, 10/60/24)</onSceneDuration>
      <transport seed="5">Bernoulli(0.5)</transport>
      <handoverDuration seed="6">Gamma(2, 2/60/24)</handoverDuration>
    </callDistributions>
    <callDensityRaster cellSeed="7" cellLocSeed="8">
      <filename>../../../../shared rasters/density.tif</filename>
    </callDensityRaster>
  </sim>
</genConfig>
"""

TRAVEL = (
    "travelModes,,\ntravelModeIndex,offRoadSpeed\n1,352\n2,264\n,,\n"
    "travelSets,,\ntravelSetIndex,priority,travelModeIndex\n"
    "1,highPriority,1\n1,medPriority,1\n1,lowPriority,2\n"
    "2,highPriority,2\n2,medPriority,2\n2,lowPriority,2\n,,\n"
    "travelSetsTiming,,\nstartTime,travelSetIndex\n0,1\n0.5,2\n"
)


def write_model(base: Path) -> Path:
    """models/1 under `base`, its raster in a folder beside `models/` (outside the model)."""
    root = write_scenario(base / "models" / "1")
    shutil.rmtree(root / "data")  # nothing for a fall-back to find
    roads = root / "travel" / "roads"
    lines = [f"nodes,{len(NODES)},,", "index,x,y,offRoadAccess"]
    lines += [f"{i},{lon},{lat},{a}" for i, (lat, lon, a) in NODES.items()]
    (roads / "nodes.csv").write_text("\n".join(lines) + "\n")
    lines = ["miscData,,", "arcForm,numModes", "undirected,2", ",", f"arcs,{len(UNDIRECTED)},,",
             "index,fromNode,toNode,mode_1,mode_2"]
    lines += [f"{k},{a},{b},{m1 / DAY_S!r},{m2 / DAY_S!r}"
              for k, (a, b, m1, m2) in enumerate(UNDIRECTED, start=1)]
    (roads / "arcs.csv").write_text("\n".join(lines) + "\n")
    (root / "travel" / "travel" / "travel_1.csv").write_text(TRAVEL)
    (root / "calls" / "reps" / "train" / "gen_config.xml").write_text(GEN_CONFIG)
    (root / "misc" / "call priorities" / "priorities_1.csv").write_text(
        "priorities,3,\npriority,name,targetResponseDuration\n"
        "1,highPriority,0.005555556\n2,medPriority,0.005555556\n3,lowPriority,0.007291667\n"
    )
    (root / "ambulances" / "ambulances_1.csv").write_text(
        "ambulances,,,\nindex,stationIndex,class\n1,1,1\n2,2,2\n3,1,2\n"
    )
    rasters = root / "calls" / "reps" / "train" / ".." / ".." / ".." / ".." / "shared rasters"
    rasters.mkdir(parents=True)
    density = np.zeros((3, 3))
    density[0, 2] = 1.0  # one cell only: north-east corner
    tifffile.imwrite(rasters / "density.tif", density, extratags=[
        (33550, "d", 3, (0.001, 0.001, 0.0)),
        (33922, "d", 6, (0.0, 0.0, 0.0, -74.0025, 40.7035, 0.0)),
    ])
    return root


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("city"))


def test_a_foreign_model_imports_as_jemss_reads_it(model: Path) -> None:
    s = load_jemss(model)
    assert (model.parent / "shared rasters" / "density.tif").exists()
    assert not (model / "data").exists()
    # Undirected arcs run both ways with the same time.
    net = s.network
    assert net is not None
    there = net.travel_s((40.700, -74.000), (40.702, -74.000), 1)
    back = net.travel_s((40.702, -74.000), (40.700, -74.000), 1)
    assert there == pytest.approx(120.0) and back == pytest.approx(120.0)
    # Two travel sets: mode 1 for urgent calls until half a day, then mode 2.
    assert s.mode_for("highPriority", 0.0) == 1
    assert s.mode_for("highPriority", 0.5 * DAY_S - 1) == 1
    assert s.mode_for("highPriority", 0.5 * DAY_S) == 2
    assert s.mode_for("lowPriority", 0.1 * DAY_S) == 2
    # The current column name for targets; the ambulance classes.
    assert s.priorities["highPriority"].target_s == pytest.approx(480.0, abs=0.01)
    assert [u.kind for u in s.units] == [UnitKind.ALS, UnitKind.BLS, UnitKind.BLS]
    calls = s.calls.calls(20 * DAY_S, np.random.default_rng(5))
    # Weibull(α=2, θ=10 min): mean θΓ(1.5) ≈ 8.86 min (Distributions.jl's parameters).
    mean_scene_min = np.mean([c.on_scene_s for c in calls]) / 60
    assert mean_scene_min == pytest.approx(10 * math.gamma(1.5), rel=0.05)
    assert all(0 <= c.dispatch_delay_s <= 180 for c in calls)  # truncated to [0, 3 min]
    # Every call in the one cell of the raster outside the model folder.
    assert all(40.7025 <= c.lat <= 40.7035 and -74.0005 <= c.lon <= -73.9995 for c in calls)


def test_the_foreign_model_simulates_with_the_travel_set_in_force(model: Path) -> None:
    s = load_jemss(model)
    result = run_policy(s, "closest-road", days=1.0, seed=3)
    assert result.calls and all(r.response_s is not None for r in result.calls)
    drives = {1: [], 2: []}  # type: dict[int, list[float]]
    for r in result.calls:
        if r.call.priority == "highPriority" and r.dispatched_s is not None:
            assert r.arrived_s is not None
            drives[s.mode_for("highPriority", r.dispatched_s)].append(r.arrived_s - r.dispatched_s)
    assert drives[1] and drives[2]
    # Mode 2 arcs take five times as long: the afternoon's drives are clearly slower.
    assert np.mean(drives[2]) > 2 * np.mean(drives[1])
    kinds = {s.units[r.unit].kind for r in result.calls if r.unit is not None}
    assert kinds == {UnitKind.ALS, UnitKind.BLS}


def test_a_missing_named_raster_is_named_with_its_file_and_element(tmp_path: Path) -> None:
    root = write_model(tmp_path)
    (root.parent / "shared rasters" / "density.tif").unlink()
    with pytest.raises(TableError, match=r"gen_config\.xml: sim/callDensityRaster/filename"):
        load_jemss(root)


def test_an_unsupported_distribution_is_named_with_its_file_and_element(tmp_path: Path) -> None:
    root = write_model(tmp_path)
    config = root / "calls" / "reps" / "train" / "gen_config.xml"
    config.write_text(GEN_CONFIG.replace("Weibull(2, 10/60/24)", "Poisson(3)"))
    with pytest.raises(TableError, match=r"gen_config\.xml: sim/callDistributions/onSceneDuration"):
        load_jemss(root)


CALLS_CSV = """miscData,,
startTime,
0.5,
calls,3,,,,,,,,
index,priority,x,y,arrivalTime,dispatchDelay,onSceneDuration,transport,handoverDuration,hospitalIndex
1,1,-74.000,40.702,0.51,0.001,0.004,1,0.002,2
2,3,-74.001,40.703,0.52,0.001,0.004,1,0.002,-1
3,1,-74.000,40.701,0.53,0.001,0.004,0,0,-1
"""


def with_calls_file(base: Path, calls: str) -> Path:
    """The foreign model, with a second (far) hospital and a calls.csv named in sim_config."""
    root = write_model(base)
    (root / "hospitals" / "hospitals_1.csv").write_text(
        "hospitals,,,,\nindex,x,y,,Name\n1,-74.000,40.702,,Test General\n"
        "2,-74.002,40.700,,Far Clinic\n"
    )
    (root / "calls.csv").write_text(calls)
    (root / "sim_config.xml").write_text(
        "<simConfig><inputPath>.</inputPath><simFiles>"
        "<calls>calls.csv</calls>"
        "<redispatch>misc/redispatch/off.csv</redispatch>"
        "</simFiles></simConfig>"
    )
    redispatch = root / "misc" / "redispatch" / "off.csv"
    redispatch.parent.mkdir(parents=True)
    redispatch.write_text("miscData,\nallowRedispatch,\n0,\n")
    return root


def test_a_jemss_calls_file_is_simulated_with_each_calls_hospital(tmp_path: Path) -> None:
    s = load_jemss(with_calls_file(tmp_path, CALLS_CSV))
    calls = s.calls.calls(DAY_S, np.random.default_rng(0))
    # Times from miscData startTime, in days; x = longitude, y = latitude.
    assert [round(c.at_s) for c in calls] == [864, 1728, 2592]
    assert [(c.lat, c.lon) for c in calls[:1]] == [(40.702, -74.000)]
    assert [c.hospital for c in calls] == [1, None, None]
    assert [c.priority for c in calls] == ["highPriority", "lowPriority", "highPriority"]
    result = run_policy(s, "closest-road", days=1.0, seed=1)
    assert [r.hospital for r in result.calls] == [1, 0, None]  # named, nearest, no transport


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("0.002,2\n2,3", "0.002,7\n2,3"), r"calls row 1: hospitalIndex 7 is not a hospital"),
        (("1,1,-74.000,40.702", "1,9,-74.000,40.702"), r"calls row 1: priority 9"),
        (("0.51,0.001", "0.51,-0.001"), r"calls row 1: column 'dispatchDelay' must be >= 0"),
        (("0.51,0.001", "0.51,soon"), r"calls row 1: column 'dispatchDelay' must be a number"),
    ],
)
def test_a_bad_calls_file_is_refused_naming_row_and_column(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    root = with_calls_file(tmp_path, CALLS_CSV.replace(*change, 1))
    with pytest.raises(TableError, match=message):
        load_jemss(root)


def test_redispatch_switched_on_is_read_as_the_pairs_it_allows(tmp_path: Path) -> None:
    root = with_calls_file(tmp_path, CALLS_CSV)
    (root / "misc" / "redispatch" / "off.csv").write_text(
        "miscData,,\nallowRedispatch,,\n1,,\n,,\nredispatchConditions,,\n"
        "fromCallPriority,toCallPriority,allowRedispatch\nlowPriority,highPriority,1\n"
        "medPriority,highPriority,0\n"
    )
    assert load_jemss(root).redispatch == {("lowPriority", "highPriority")}
    assert load_jemss(with_calls_file(tmp_path / "off", CALLS_CSV)).redispatch == frozenset()


def test_a_raster_that_is_not_a_georeferenced_tiff_is_named(tmp_path: Path) -> None:
    root = write_model(tmp_path)
    raster = root.parent / "shared rasters" / "density.tif"
    raster.write_bytes(b"not a tiff at all")
    with pytest.raises(TableError, match=r"density\.tif: not a readable GeoTIFF"):
        load_jemss(root)
    tifffile.imwrite(raster, np.ones((2, 2)))  # no georeference tags
    with pytest.raises(TableError, match=r"density\.tif: a GeoTIFF with ModelPixelScale"):
        load_jemss(root)


def test_a_written_call_list_keeps_each_calls_hospital(tmp_path: Path) -> None:
    from najda.simulations.calls_csv import CallListError, read_calls, write_calls

    s = load_jemss(with_calls_file(tmp_path, CALLS_CSV))
    calls = s.calls.calls(DAY_S, np.random.default_rng(0))
    write_calls(calls, tmp_path / "calls.csv")
    again = read_calls(tmp_path / "calls.csv", list(s.priorities), len(s.hospitals))
    assert [c.hospital for c in again] == [1, None, None]
    text = (tmp_path / "calls.csv").read_text().replace(",1\n", ",5\n", 1)
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(CallListError, match=r"bad\.csv:2: hospital must be a hospital index"):
        read_calls(tmp_path / "bad.csv", list(s.priorities), len(s.hospitals))
