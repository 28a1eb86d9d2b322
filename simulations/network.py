"""A JEMSS scenario's road network for the live server: roads and the urgent travel mode."""

from __future__ import annotations

from pathlib import Path

from najda.geo.jemss_tables import TableError, number, read_rows, table
from najda.geo.roads import RoadNetwork, load_jemss_roads
from najda.simulations.jemss import KM_PER_DAY_TO_MPS, _sim_files


def load_network(root: Path) -> tuple[RoadNetwork, int]:
    """The scenario's roads and the travel mode of its most urgent priority (the first
    travel set listed); TableError names what is missing or malformed."""
    if not root.is_dir():
        raise TableError(f"{root}: not a JEMSS scenario directory")
    files = _sim_files(root)
    rows = read_rows(root / files["travel"])
    speeds = {
        int(number(r, "travelModeIndex", "travelModes")): number(r, "offRoadSpeed", "travelModes")
        * KM_PER_DAY_TO_MPS
        for r in table(rows, "travelModes")
    }
    sets = table(rows, "travelSets")
    if not sets:
        raise TableError("travelSets: no rows")
    mode = int(number(sets[0], "travelModeIndex", "travelSets"))
    roads = root / "travel" / "roads"
    packed = roads / "roads.zip"
    return load_jemss_roads(packed if packed.exists() else roads, speeds), mode
