"""A tiny JEMSS-format scenario written for the tests: five road nodes, two stations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

DAY_S = 86_400.0
#: Node index → (lat, lon, offRoadAccess). Node 4 is a motorway node: no off-road access.
NODES = {
    1: (40.700, -74.000, 1),
    2: (40.701, -74.000, 1),
    3: (40.702, -74.000, 1),
    4: (40.700, -74.002, 0),
    5: (40.703, -74.001, 1),
}
#: (from, to, seconds in mode 1, seconds in mode 2). Two parallel 1→2 arcs: the quicker wins.
ARCS = [
    (1, 2, 60, 90),
    (1, 2, 75, 95),
    (2, 3, 60, 90),
    (1, 3, 200, 300),
    (3, 1, 100, 150),
    (2, 1, 60, 90),
    (1, 4, 30, 45),
    (4, 1, 30, 45),
    (3, 5, 40, 60),
    (5, 3, 40, 60),
]
OFF_ROAD_KM_PER_DAY = {1: 352.0, 2: 264.0}


def write_roads(folder: Path) -> None:
    """nodes.csv and arcs.csv with JEMSS's header rows; arc times in days."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"nodes,{len(NODES)},,", "index,x,y,offRoadAccess,"]
    lines += [f"{i}.0,{lon},{lat},{float(a)}" for i, (lat, lon, a) in NODES.items()]
    (folder / "nodes.csv").write_text("\n".join(lines) + "\n")
    lines = ["miscData,1,,", "arcForm,numModes,", "directed,2", ",", f"arcs,{len(ARCS)},,"]
    lines.append("index,fromNode,toNode,mode_1,mode_2,")
    lines += [
        f"{k}.0,{a}.0,{b}.0,{m1 / DAY_S!r},{m2 / DAY_S!r}"
        for k, (a, b, m1, m2) in enumerate(ARCS, start=1)
    ]
    (folder / "arcs.csv").write_text("\n".join(lines) + ",\n")


GEN_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<genConfig>
  <mode>calls</mode>
  <sim>
    <startTime>0.0</startTime>
    <callDistributions>
      <interarrivalTime seed="1">Exponential(1/(4*24))</interarrivalTime>
      <priority seed="2">Categorical([0.5, 0, 0.5])</priority>
      <dispatchDelay seed="3">Normal(1/60/24, 0)</dispatchDelay>
      <onSceneDuration seed="4">Exponential(5/60/24)</onSceneDuration>
      <transport seed="5">Bernoulli(0.5)</transport>
      <handoverDuration seed="6">Exponential(3/60/24)</handoverDuration>
    </callDistributions>
    <callDensityRaster cellSeed="7" cellLocSeed="8">
      <filename>$jemssDir/somewhere/density.tif</filename>
    </callDensityRaster>
  </sim>
</genConfig>
"""


def write_scenario(root: Path) -> Path:
    """A complete JEMSS scenario directory at `root`; returns it."""
    write_roads(root / "travel" / "roads")
    files = {
        "ambulances/ambulances_1.csv": "ambulances,,,\nindex,stationIndex,class,\n1,1,1,\n2,2,1,\n",
        "stations/stations_1.csv": (
            "stations,,,\nindex,x,y,capacity,,note\n"
            "1,-74.000,40.700,2,,south\n2,-74.001,40.703,2,,north\n"
        ),
        "hospitals/hospitals_1.csv": (
            "hospitals,,,,\nindex,x,y,,Name\n1,-74.000,40.702,,Test General\n"
        ),
        "travel/travel/travel_1.csv": (
            "travelModes,,\ntravelModeIndex,offRoadSpeed,note\n1,352,fast\n2,264,slow\n,,\n"
            "travelSets,,\ntravelSetIndex,priority,travelModeIndex\n"
            "1,highPriority,1\n1,medPriority,1\n1,lowPriority,2\n,,\n"
        ),
        "misc/call priorities/priorities_1.csv": (
            "priorities,3,\npriority,name,targetResponseTime\n"
            "1,highPriority,0.005555556\n2,medPriority,0.005555556\n3,lowPriority,0.007291667\n"
        ),
        "demand/coverage/demand_coverage_1.csv": (
            "coverTimes,,\ndemandPriority,coverTime,note\nhighPriority,0.003819444,x\n"
            "medPriority,0.003819444,x\nlowPriority,0.005555556,x\n"
        ),
        "calls/reps/train/gen_config.xml": GEN_CONFIG,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    density = np.zeros((4, 3))
    density[1, 1] = 3.0
    density[2, 2] = 1.0
    (root / "data").mkdir(exist_ok=True)
    tifffile.imwrite(
        root / "data" / "density.tif",
        density,
        extratags=[
            (33550, "d", 3, (0.001, 0.001, 0.0)),  # ModelPixelScale: lon, lat per cell
            (33922, "d", 6, (0.0, 0.0, 0.0, -74.0015, 40.7035, 0.0)),  # tie point: NW corner
        ],
    )
    return root
