"""Where gen_config.xml's raster is, calls.csv, redispatch and travel-set timing (where the
model's files are, sim_config.xml, is geo/jemss_model.py: the live server reads it too)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

from najda.geo.jemss_model import ModelFiles, resolve
from najda.geo.jemss_tables import TableError, number, read_rows, table
from najda.geo.roads import SECONDS_PER_DAY
from najda.simulations.scenario import Call


def raster_path(gen_config: Path, root: Path) -> Path | None:
    """The population raster callDensityRaster/filename names, relative to gen_config.xml;
    None when the name is JEMSS-installation bound (then the model's data/ folder is used).
    TableError naming the file and the element when the named file does not exist."""
    tree = ET.parse(gen_config).getroot()
    text = tree.findtext("sim/callDensityRaster/filename")
    if not text or not text.strip():
        return None
    path = resolve(gen_config.parent, text)
    if path is None:
        return None
    if not path.exists():
        raise TableError(f"{gen_config}: sim/callDensityRaster/filename: {path} not found")
    return path


def travel_timing(rows: list[list[str]], where: Path) -> list[tuple[float, int]]:
    """travelSetsTiming: (start in seconds from the start, travel set), in time order."""
    try:
        timing = table(rows, "travelSetsTiming")
    except TableError:
        return [(0.0, 1)]
    out = [(number(r, "startTime", f"{where}: travelSetsTiming") * SECONDS_PER_DAY,
            int(number(r, "travelSetIndex", f"{where}: travelSetsTiming"))) for r in timing]
    if not out:
        raise TableError(f"{where}: travelSetsTiming has no rows")
    if any(b[0] <= a[0] for a, b in pairwise(out)):
        raise TableError(f"{where}: travelSetsTiming start times must increase")
    return out


def read_redispatch(files: ModelFiles, ranks: dict[str, int]) -> frozenset[tuple[str, str]]:
    """The (from priority, to priority) pairs a unit en route may be diverted between, as
    the model's redispatch file allows them (none without the file or with allowRedispatch
    0). `ranks` orders the priority names (higher: more urgent); a pair naming an unknown
    priority, or one that does not go to a more urgent priority, is refused naming the file."""
    if "redispatch" not in files.files:
        return frozenset()
    path = files.path("redispatch")
    rows = read_rows(path)
    allow = table(rows, "miscData")
    if not allow or number(allow[0], "allowRedispatch", f"{path}: miscData") == 0:
        return frozenset()
    pairs: set[tuple[str, str]] = set()
    for i, r in enumerate(table(rows, "redispatchConditions"), start=1):
        where = f"{path}: redispatchConditions row {i}"
        if number(r, "allowRedispatch", where) == 0:
            continue
        source, target = r.get("fromCallPriority", ""), r.get("toCallPriority", "")
        for column, name in (("fromCallPriority", source), ("toCallPriority", target)):
            if name not in ranks:
                raise TableError(f"{where}: {column} {name!r} is not a priority of the model")
        if ranks[target] <= ranks[source]:
            raise TableError(f"{where}: redispatch from {source} to {target} is not to a more "
                             "urgent priority (not supported: a call could take back its unit)")
        pairs.add((source, target))
    return frozenset(pairs)


def read_jemss_calls(path: Path, names: dict[int, str], hospitals: int) -> list[Call]:
    """A JEMSS calls.csv: times in days from miscData startTime, x = lon, y = lat;
    hospitalIndex -1 means the nearest hospital. TableError names the row and column."""
    rows = read_rows(path)
    misc = table(rows, "miscData")
    start = number(misc[0], "startTime", f"{path}: miscData") if misc else 0.0
    out: list[Call] = []
    for i, r in enumerate(table(rows, "calls"), start=1):
        where = f"{path}: calls row {i}"
        transport_col = "transport" if "transport" in r else "transfer"
        handover_col = "handoverDuration" if "handoverDuration" in r else "transferDuration"

        def days(column: str, r: dict[str, str] = r, where: str = where) -> float:
            value = number(r, column, where)
            if not value >= 0:
                raise TableError(f"{where}: column {column!r} must be >= 0")
            return value * SECONDS_PER_DAY

        priority = int(number(r, "priority", where))
        if priority not in names:
            raise TableError(f"{where}: priority {priority} is not in the priorities file")
        lat, lon = number(r, "y", where), number(r, "x", where)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise TableError(f"{where}: x/y out of range")
        hospital = int(number(r, "hospitalIndex", where)) if r.get("hospitalIndex") else -1
        if hospital != -1 and not 1 <= hospital <= hospitals:
            raise TableError(f"{where}: hospitalIndex {hospital} is not a hospital")
        transport = number(r, transport_col, where) != 0
        out.append(Call(
            at_s=days("arrivalTime") - start * SECONDS_PER_DAY,
            lat=lat, lon=lon, priority=names[priority],
            dispatch_delay_s=days("dispatchDelay"), on_scene_s=days("onSceneDuration"),
            transport=transport, handover_s=days(handover_col) if transport else 0.0,
            hospital=hospital - 1 if hospital != -1 else None,
        ))
    if any(c.at_s < 0 for c in out):
        raise TableError(f"{path}: a call arrives before miscData startTime")
    out.sort(key=lambda c: c.at_s)
    return out


def mode_schedule(
    sets: Sequence[dict[str, str]], timing: list[tuple[float, int]], where: Path
) -> list[tuple[float, dict[str, int]]]:
    """(start in seconds, priority name → travel mode) for every travelSetsTiming row."""
    by_set: dict[int, dict[str, int]] = {}
    for r in sets:
        index = int(number(r, "travelSetIndex", f"{where}: travelSets"))
        by_set.setdefault(index, {})[r["priority"]] = int(
            number(r, "travelModeIndex", f"{where}: travelSets")
        )
    missing = [s for _, s in timing if s not in by_set]
    if missing:
        raise TableError(f"{where}: travelSetsTiming names travel set {missing[0]}, "
                         "which travelSets does not define")
    return [(start, by_set[s]) for start, s in timing]
