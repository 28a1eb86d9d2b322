"""Import a JEMSS scenario directory: units, sites, roads, priorities, call generation, raster."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

from najda.domain.values import Priority, UnitKind
from najda.geo.jemss_model import KM_PER_DAY_TO_MPS, ModelFiles, model_files
from najda.geo.jemss_tables import TableError, number, read_rows, table
from najda.geo.roads import SECONDS_PER_DAY, RoadNetwork, jemss_network, load_jemss_roads
from najda.simulations.calls_csv import RecordedCalls
from najda.simulations.distributions import Distribution, DistributionError, parse_distribution
from najda.simulations.jemss_files import (
    mode_schedule,
    raster_path,
    read_jemss_calls,
    read_redispatch,
    travel_timing,
)
from najda.simulations.scenario import (
    Call,
    CallSource,
    Demand,
    PriorityClass,
    Scenario,
    Site,
    UnitSpec,
)

#: JEMSS priority number (1 = most urgent) → the Najda priority its calls are reported as.
PRIORITY_MAP = {1: Priority.D, 2: Priority.C, 3: Priority.A}
#: JEMSS's AmbClass numbers.
AMB_CLASS = {1: UnitKind.ALS, 2: UnitKind.BLS}

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
    """The model's files by sim_config.xml element (absolute where the config says so)."""
    return {k: str(v) for k, v in model_files(root).files.items()}


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


def read_raster(root: Path, named: Path | None = None) -> Raster:
    """The GeoTIFF gen_config.xml names (plain or zipped), else the first under data/."""
    if named is not None:
        if named.suffix.lower() == ".zip":
            return _zipped_raster(named)
        return _raster(named.read_bytes(), str(named))
    data = root / "data"
    for path in sorted(data.glob("*.tif")):
        return _raster(path.read_bytes(), str(path))
    for path in sorted(data.glob("*.zip")):
        try:
            return _zipped_raster(path)
        except TableError:
            continue
    raise TableError(f"no population-density GeoTIFF under {data}")


def _zipped_raster(path: Path) -> Raster:
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.lower().endswith((".tif", ".tiff")):
                return _raster(archive.read(member), f"{path}:{member}")
    raise TableError(f"{path}: no GeoTIFF inside")


def _raster(blob: bytes, where: str) -> Raster:
    """Values and georeference of a north-up GeoTIFF (ModelPixelScale and ModelTiepoint);
    TableError naming the file for anything else."""
    try:
        with tifffile.TiffFile(io.BytesIO(blob)) as tif:
            page = tif.pages[0]
            if not isinstance(page, tifffile.TiffPage):
                raise TableError(f"{where}: the GeoTIFF's first page cannot be read")
            values = np.asarray(page.asarray(), dtype=float)
            if "ModelPixelScaleTag" not in page.tags or "ModelTiepointTag" not in page.tags:
                raise TableError(f"{where}: a GeoTIFF with ModelPixelScale and ModelTiepoint "
                                 "tags is needed (other georeferencing is not supported)")
            scale = page.tags["ModelPixelScaleTag"].value
            tie = page.tags["ModelTiepointTag"].value
    except tifffile.TiffFileError as exc:
        raise TableError(f"{where}: not a readable GeoTIFF ({exc})") from None
    if values.ndim != 2:
        raise TableError(f"{where}: a single-band raster is needed")
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    return Raster(values, west=float(tie[3]), north=float(tie[4]),
                  cell_lon=float(scale[0]), cell_lat=float(scale[1]))


def load_jemss(root: Path, *, demand_block: int = 5) -> Scenario:
    """Read a JEMSS model folder into a Scenario with its road network; TableError (or
    DistributionError) names the file and the element of anything it cannot take."""
    files = model_files(root)
    stations = _sites(table(read_rows(files.path("stations")), "stations"), "S", "stations", "")
    hospitals = _sites(table(read_rows(files.path("hospitals")), "hospitals"), "H", "hospitals",
                       "Name")
    units = [
        UnitSpec(
            call_sign=f"AMB {int(number(r, 'index', 'ambulances'))}",
            station=int(number(r, "stationIndex", "ambulances")) - 1,
            kind=_kind(r, files.path("ambulances")),
        )
        for r in table(read_rows(files.path("ambulances")), "ambulances")
    ]
    travel_path = files.path("travel")
    travel_rows = read_rows(travel_path)
    speeds = {
        int(number(r, "travelModeIndex", "travelModes")):
        number(r, "offRoadSpeed", "travelModes") * KM_PER_DAY_TO_MPS
        for r in table(travel_rows, "travelModes")
    }
    schedule = mode_schedule(table(travel_rows, "travelSets"),
                             travel_timing(travel_rows, travel_path), travel_path)
    mode_of = schedule[0][1]
    cover = (
        {r["demandPriority"]: number(r, "coverTime", "coverTimes") * SECONDS_PER_DAY
         for r in table(read_rows(files.path("demandCoverage")), "coverTimes")}
        if files.has("demandCoverage") else {}
    )
    names: dict[int, str] = {}
    priorities: dict[str, PriorityClass] = {}
    priority_rows = table(read_rows(files.path("priorities")), "priorities")
    target_col = "targetResponseDuration" if priority_rows and (
        "targetResponseDuration" in priority_rows[0]) else "targetResponseTime"
    for r in priority_rows:
        index = int(number(r, "priority", "priorities"))
        name = r["name"]
        target_s = number(r, target_col, f"{files.path('priorities')}: priorities") * (
            SECONDS_PER_DAY)
        names[index] = name
        priorities[name] = PriorityClass(
            name=name,
            priority=PRIORITY_MAP.get(index, Priority.A),
            target_s=target_s,
            travel_mode=mode_of.get(name, max(speeds)),
            coverage_s=cover.get(name, target_s),
        )
    gen_config = files.path("callGenConfig")
    distributions = _call_distributions(gen_config)
    raster = read_raster(root, raster_path(gen_config, root))
    network = _roads(files, speeds)
    source: CallSource = JemssCalls(distributions, names, raster)
    if files.has("calls"):  # a JEMSS calls.csv: these calls, not generated ones
        source = RecordedCalls(tuple(read_jemss_calls(files.path("calls"), names,
                                                      len(hospitals))))
    return Scenario(
        name=root.name,
        stations=stations,
        hospitals=hospitals,
        units=units,
        priorities=priorities,
        calls=source,
        demand=raster.coarse_demand(demand_block),
        network=network,
        return_mode=mode_of.get(names[max(names)], max(speeds)),
        busy_fraction=_busy_fraction(distributions, len(units)),
        travel_schedule=tuple(schedule) if len(schedule) > 1 else (),
        redispatch=read_redispatch(
            files, {name: p.priority.rank for name, p in priorities.items()}),
    )


def _kind(row: dict[str, str], where: Path) -> UnitKind:
    """JEMSS's AmbClass: 1 = ALS, 2 = BLS (no class column: ALS)."""
    if not row.get("class"):
        return UnitKind.ALS
    value = int(number(row, "class", f"{where}: ambulances"))
    if value not in AMB_CLASS:
        raise TableError(f"{where}: ambulances class {value} is not 1 (als) or 2 (bls)")
    return AMB_CLASS[value]


def _roads(files: ModelFiles, speeds: dict[int, float]) -> RoadNetwork:
    """The nodes and arcs files sim_config names, or roads.zip beside them."""
    if files.has("nodes") and files.has("arcs"):
        return jemss_network(read_rows(files.path("nodes")), read_rows(files.path("arcs")),
                             speeds)
    packed = files.files["arcs"].parent / "roads.zip"
    if packed.exists():
        return load_jemss_roads(packed, speeds)
    files.path("nodes" if not files.has("nodes") else "arcs")  # raises, naming the element
    raise AssertionError  # pragma: no cover


def _call_distributions(path: Path) -> dict[str, Distribution]:
    root = ET.parse(path).getroot()
    found = root.find("sim/callDistributions")
    if found is None:
        raise TableError(f"{path}: no sim/callDistributions")
    out: dict[str, Distribution] = {}
    for child in found:
        if not isinstance(child.tag, str):
            continue
        try:
            out[child.tag] = parse_distribution(child.text or "")
        except DistributionError as exc:
            raise TableError(f"{path}: sim/callDistributions/{child.tag}: {exc}") from None
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
