"""Import a JEMSS scenario directory: units, sites, roads, priorities, call generation, raster."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from domain.values import Priority, UnitKind
from geo.jemss_tables import TableError, number, read_rows, table
from geo.roads import SECONDS_PER_DAY, load_jemss_roads
from simulations.distributions import Distribution, parse_distribution
from simulations.scenario import Call, Demand, PriorityClass, Scenario, Site, UnitSpec

#: JEMSS priority number (1 = most urgent) → the Najda priority its calls are reported as.
PRIORITY_MAP = {1: Priority.D, 2: Priority.C, 3: Priority.A}
KM_PER_DAY_TO_MPS = 1000.0 / SECONDS_PER_DAY

DEFAULT_FILES = {
    "ambulances": "ambulances/ambulances_1.csv",
    "hospitals": "hospitals/hospitals_1.csv",
    "stations": "stations/stations_1.csv",
    "callGenConfig": "calls/reps/train/gen_config.xml",
    "demandCoverage": "demand/coverage/demand_coverage_1.csv",
    "travel": "travel/travel/travel_1.csv",
    "priorities": "misc/call priorities/priorities_1.csv",
}
CALL_FIELDS = (
    "interarrivalTime",
    "priority",
    "dispatchDelay",
    "onSceneDuration",
    "transport",
    "handoverDuration",
)


@dataclass(frozen=True)
class Raster:
    """A population-density raster: cell values and the WGS84 corner and cell size."""

    values: np.ndarray
    west: float
    north: float
    cell_lon: float
    cell_lat: float

    def cell_centres(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latitudes and longitudes of the centres of flat cell indexes."""
        rows, cols = np.divmod(cells, self.values.shape[1])
        return self.north - (rows + 0.5) * self.cell_lat, self.west + (cols + 0.5) * self.cell_lon

    def coarse_demand(self, block: int) -> Demand:
        """Demand points: the density summed over block×block cells, at the weighted centre."""
        positive = np.flatnonzero(self.values.ravel() > 0)
        weights = self.values.ravel()[positive]
        lats, lons = self.cell_centres(positive)
        rows, cols = np.divmod(positive, self.values.shape[1])
        keys = (rows // block) * (self.values.shape[1] // block + 1) + cols // block
        _, inverse = np.unique(keys, return_inverse=True)
        total = np.bincount(inverse, weights)
        return Demand(
            lats=np.bincount(inverse, weights * lats) / total,
            lons=np.bincount(inverse, weights * lons) / total,
            weights=total / total.sum(),
        )


@dataclass(frozen=True)
class JemssCalls:
    """JEMSS call generation: the config's distributions (times in days), raster locations."""

    distributions: dict[str, Distribution]
    priority_names: dict[int, str]
    raster: Raster

    def calls(self, duration_s: float, rng: np.random.Generator) -> list[Call]:
        """Calls in [0, duration_s); every field has its own stream spawned from `rng`."""
        streams = dict(zip((*CALL_FIELDS, "cell", "offset"), rng.spawn(8), strict=True))
        mean_gap_s = float(self.distributions["interarrivalTime"].sample(
            np.random.default_rng(0), 10_000
        ).mean()) * SECONDS_PER_DAY
        n = int(duration_s / mean_gap_s * 1.2) + 50
        gaps = self._draw("interarrivalTime", streams, n) * SECONDS_PER_DAY
        while gaps.sum() < duration_s:
            gaps = np.concatenate([gaps, self._draw("interarrivalTime", streams, n)])
        times = np.cumsum(gaps)
        times = times[times < duration_s]
        n = times.size
        priority = self._draw("priority", streams, n).astype(int)
        delay = np.maximum(0.0, self._draw("dispatchDelay", streams, n)) * SECONDS_PER_DAY
        scene = np.maximum(0.0, self._draw("onSceneDuration", streams, n)) * SECONDS_PER_DAY
        transport = self._draw("transport", streams, n) > 0.5
        handover = np.maximum(0.0, self._draw("handoverDuration", streams, n)) * SECONDS_PER_DAY
        flat = self.raster.values.ravel()
        positive = np.flatnonzero(flat > 0)
        p = flat[positive] / flat[positive].sum()
        cells = positive[streams["cell"].choice(positive.size, size=n, p=p)]
        rows, cols = np.divmod(cells, self.raster.values.shape[1])
        offsets = streams["offset"].random((n, 2))
        lats = self.raster.north - (rows + offsets[:, 0]) * self.raster.cell_lat
        lons = self.raster.west + (cols + offsets[:, 1]) * self.raster.cell_lon
        return [
            Call(
                at_s=float(times[i]),
                lat=float(lats[i]),
                lon=float(lons[i]),
                priority=self.priority_names[int(priority[i])],
                dispatch_delay_s=float(delay[i]),
                on_scene_s=float(scene[i]),
                transport=bool(transport[i]),
                handover_s=float(handover[i]) if transport[i] else 0.0,
            )
            for i in range(n)
        ]

    def _draw(self, name: str, streams: dict[str, np.random.Generator], n: int) -> np.ndarray:
        return self.distributions[name].sample(streams[name], n)


def _sim_files(root: Path) -> dict[str, str]:
    files = dict(DEFAULT_FILES)
    config = root / "sim_config.xml"
    if config.exists():
        sim_files = ET.parse(config).getroot().find("simFiles")
        for child in sim_files if sim_files is not None else []:
            if child.text and child.tag in files:
                files[child.tag] = child.text.strip()
    return files


def _sites(rows: list[dict[str, str]], prefix: str, where: str, name_col: str) -> list[Site]:
    return [
        Site(
            code=f"{prefix}{int(number(r, 'index', where))}",
            name=r.get(name_col) or f"{where} {int(number(r, 'index', where))}",
            lat=number(r, "y", where),
            lon=number(r, "x", where),
            capacity=int(float(r.get("capacity") or 0)),
        )
        for r in rows
    ]


def read_raster(root: Path) -> Raster:
    """The first GeoTIFF under data/ (plain or inside a zip): values and georeference."""
    data = root / "data"
    for path in sorted(data.glob("*.tif")):
        return _raster(path.read_bytes())
    for path in sorted(data.glob("*.zip")):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.lower().endswith((".tif", ".tiff")):
                    return _raster(archive.read(member))
    raise TableError(f"no population-density GeoTIFF under {data}")


def _raster(blob: bytes) -> Raster:
    with tifffile.TiffFile(io.BytesIO(blob)) as tif:
        page = tif.pages[0]
        if not isinstance(page, tifffile.TiffPage):
            raise TableError("the GeoTIFF's first page cannot be read")
        values = np.asarray(page.asarray(), dtype=float)
        scale = page.tags["ModelPixelScaleTag"].value
        tie = page.tags["ModelTiepointTag"].value
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    return Raster(values, west=float(tie[3]), north=float(tie[4]),
                  cell_lon=float(scale[0]), cell_lat=float(scale[1]))


def load_jemss(root: Path, *, demand_block: int = 5) -> Scenario:
    """Read a JEMSS scenario directory into a Scenario with its road network."""
    files = _sim_files(root)
    stations = _sites(table(read_rows(root / files["stations"]), "stations"), "S", "stations", "")
    hospitals = _sites(table(read_rows(root / files["hospitals"]), "hospitals"), "H", "hospitals",
                       "Name")
    units = [
        UnitSpec(
            call_sign=f"AMB {int(number(r, 'index', 'ambulances'))}",
            station=int(number(r, "stationIndex", "ambulances")) - 1,
            kind=UnitKind.ALS,
        )
        for r in table(read_rows(root / files["ambulances"]), "ambulances")
    ]
    travel_rows = read_rows(root / files["travel"])
    speeds = {
        int(number(r, "travelModeIndex", "travelModes")):
        number(r, "offRoadSpeed", "travelModes") * KM_PER_DAY_TO_MPS
        for r in table(travel_rows, "travelModes")
    }
    mode_of = {
        r["priority"]: int(number(r, "travelModeIndex", "travelSets"))
        for r in table(travel_rows, "travelSets")
    }
    cover_path = root / files["demandCoverage"]
    cover = (
        {r["demandPriority"]: number(r, "coverTime", "coverTimes") * SECONDS_PER_DAY
         for r in table(read_rows(cover_path), "coverTimes")}
        if cover_path.exists() else {}
    )
    names: dict[int, str] = {}
    priorities: dict[str, PriorityClass] = {}
    for r in table(read_rows(root / files["priorities"]), "priorities"):
        index = int(number(r, "priority", "priorities"))
        name = r["name"]
        target_s = number(r, "targetResponseTime", "priorities") * SECONDS_PER_DAY
        names[index] = name
        priorities[name] = PriorityClass(
            name=name,
            priority=PRIORITY_MAP.get(index, Priority.A),
            target_s=target_s,
            travel_mode=mode_of.get(name, max(speeds)),
            coverage_s=cover.get(name, target_s),
        )
    distributions = _call_distributions(root / files["callGenConfig"])
    raster = read_raster(root)
    network = load_jemss_roads(root / "travel" / "roads" / "roads.zip", speeds) if (
        root / "travel" / "roads" / "roads.zip"
    ).exists() else load_jemss_roads(root / "travel" / "roads", speeds)
    calls = JemssCalls(distributions, names, raster)
    return Scenario(
        name=root.name,
        stations=stations,
        hospitals=hospitals,
        units=units,
        priorities=priorities,
        calls=calls,
        demand=raster.coarse_demand(demand_block),
        network=network,
        return_mode=mode_of.get(names[max(names)], max(speeds)),
        busy_fraction=_busy_fraction(distributions, len(units)),
    )


def _call_distributions(path: Path) -> dict[str, Distribution]:
    root = ET.parse(path).getroot()
    found = root.find("sim/callDistributions")
    if found is None:
        raise TableError(f"{path}: no sim/callDistributions")
    out = {child.tag: parse_distribution(child.text or "") for child in found}
    missing = [f for f in CALL_FIELDS if f not in out]
    if missing:
        raise TableError(f"{path}: callDistributions lacks {', '.join(missing)}")
    return out


def _busy_fraction(d: dict[str, Distribution], units: int, travel_leg_s: float = 300.0) -> float:
    """Rough share of time a unit is busy: calls a day × mean service time / units."""
    rng = np.random.default_rng(0)

    def mean_s(name: str) -> float:
        return float(d[name].sample(rng, 20_000).mean()) * SECONDS_PER_DAY

    per_day = SECONDS_PER_DAY / mean_s("interarrivalTime")
    transport = mean_s("transport") / SECONDS_PER_DAY
    service = travel_leg_s + mean_s("onSceneDuration") + transport * (
        travel_leg_s + mean_s("handoverDuration")
    )
    return float(min(0.95, max(0.05, per_day * service / SECONDS_PER_DAY / max(units, 1))))
