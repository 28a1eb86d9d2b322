"""An operating area read from OpenStreetMap: road arrays, addresses, streets, crossings, places,
points of interest and proposed facilities; saved to and loaded from a cache directory."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from najda.geo.roads import RoadNetwork

#: Travel modes of an imported network: 1 emergency driving, 2 regular driving.
EMERGENCY_MODE, REGULAR_MODE = 1, 2
#: Walking pace for the leg between a point and its nearest road node, m/s.
OFF_ROAD_MPS = 1.5
FORMAT_VERSION = 2


@dataclass(frozen=True)
class AddressPoint:
    """A house number on a street (or at a place) with where it is."""

    street: str
    housenumber: str
    lat: float
    lon: float
    postcode: str = ""
    municipality: str = ""
    on_place: bool = False  # addr:place rather than addr:street


@dataclass(frozen=True)
class Street:
    """A named street within one municipality: its lines (lon, lat) and a point on it."""

    name: str
    municipality: str
    lat: float
    lon: float
    lines: tuple[tuple[tuple[float, float], ...], ...] = ()


@dataclass(frozen=True)
class Crossing:
    """Where two named streets meet."""

    a: str
    b: str
    municipality: str
    lat: float
    lon: float


@dataclass(frozen=True)
class NamedPlace:
    """A town, village, hamlet, locality or isolated dwelling."""

    name: str
    kind: str
    lat: float
    lon: float
    municipality: str = ""


@dataclass(frozen=True)
class Poi:
    """A named point of interest (hospital, clinic, school, station, named building...)."""

    name: str
    category: str
    lat: float
    lon: float
    municipality: str = ""
    address: str = ""


@dataclass(frozen=True)
class Facility:
    """A hospital or station proposed as reference data (`osm_id` such as `w486420157`)."""

    kind: str  # hospital, ambulance_station, fire_station
    osm_id: str
    name: str
    lat: float
    lon: float
    address: str = ""

    @property
    def code(self) -> str:
        """A stable reference-data code derived from the OSM object (OSM-W486420157)."""
        return f"OSM-{self.osm_id.upper()}"


@dataclass
class RoadArrays:
    """The drivable graph as arrays: node positions and directed arcs with seconds per mode."""

    lats: np.ndarray
    lons: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    emergency_s: np.ndarray
    regular_s: np.ndarray

    def network(self) -> RoadNetwork:
        """A RoadNetwork for the road ranking (mode 1 emergency, mode 2 regular)."""
        return RoadNetwork(
            self.lats,
            self.lons,
            self.src,
            self.dst,
            {EMERGENCY_MODE: self.emergency_s, REGULAR_MODE: self.regular_s},
            {EMERGENCY_MODE: OFF_ROAD_MPS, REGULAR_MODE: OFF_ROAD_MPS},
        )


@dataclass
class Area:
    """Everything imported for one operating area."""

    name: str
    bounds: tuple[float, float, float, float]  # west, south, east, north
    roads: RoadArrays
    addresses: list[AddressPoint] = field(default_factory=list)
    streets: list[Street] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    places: list[NamedPlace] = field(default_factory=list)
    pois: list[Poi] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)
    buildings: list[tuple[tuple[float, float], ...]] = field(default_factory=list)  # outlines

    def counts(self) -> dict[str, int]:
        """How many of each thing the area holds."""
        return {
            "road_nodes": int(self.roads.lats.size),
            "road_arcs": int(self.roads.src.size),
            "streets": len(self.streets),
            "addresses": len(self.addresses),
            "crossings": len(self.crossings),
            "places": len(self.places),
            "pois": len(self.pois),
            "municipalities": len(self.municipalities),
            "buildings": len(self.buildings),
        }


class AreaCacheError(RuntimeError):
    """Raised when a saved area cannot be read (missing, partial or of another format)."""


def _records(items: Sequence[object]) -> list[dict[str, Any]]:
    """Flat dataclass instances as dicts of their fields, for JSON (what `asdict` gives these
    records, without its recursive deep copy: a fifth of the whole save's time)."""
    if not items:
        return []
    names = [f.name for f in fields(items[0])]  # type: ignore[arg-type]
    return [{name: getattr(item, name) for name in names} for item in items]


def save_area(area: Area, directory: Path) -> None:
    """Write the area to `directory`, replacing what was there only once all is written."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".area-", dir=directory.parent))
    try:
        r = area.roads
        np.savez_compressed(
            staging / "roads.npz",
            lats=r.lats,
            lons=r.lons,
            src=r.src,
            dst=r.dst,
            emergency_s=r.emergency_s,
            regular_s=r.regular_s,
        )
        body = {
            "format": FORMAT_VERSION,
            "name": area.name,
            "bounds": list(area.bounds),
            "addresses": _records(area.addresses),
            "streets": _records(area.streets),
            "crossings": _records(area.crossings),
            "places": _records(area.places),
            "pois": _records(area.pois),
            "facilities": _records(area.facilities),
            "municipalities": area.municipalities,
            "source": area.source,
            "buildings": area.buildings,
        }
        # dumps, not dump: dumps encodes in C at once, dump in Python piece by piece (the
        # same text); zlib's default level 6, not gzip's 9: 1.3 % larger, five times faster.
        # Together a second of the real demo's first start.
        with gzip.open(staging / "area.json.gz", "wt", encoding="utf-8", compresslevel=6) as out:
            out.write(json.dumps(body, ensure_ascii=False))
        old = directory.with_name(directory.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        if directory.exists():
            os.replace(directory, old)
        os.replace(staging, directory)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_area(directory: Path) -> Area:
    """Read an area saved by `save_area`."""
    try:
        with gzip.open(directory / "area.json.gz", "rt", encoding="utf-8") as src:
            body = json.load(src)
        arrays = np.load(directory / "roads.npz")
    except (OSError, ValueError, EOFError) as exc:
        raise AreaCacheError(f"cannot read the area in {directory}: {exc}") from None
    if body.get("format") != FORMAT_VERSION:
        raise AreaCacheError(f"the area in {directory} has another format; import it again")
    roads = RoadArrays(**{k: arrays[k] for k in arrays.files})
    return Area(
        name=body["name"],
        bounds=_bounds(body["bounds"]),
        roads=roads,
        addresses=[AddressPoint(**a) for a in body["addresses"]],
        streets=[
            Street(
                s["name"],
                s["municipality"],
                s["lat"],
                s["lon"],
                tuple(tuple((x, y) for x, y in line) for line in s["lines"]),
            )
            for s in body["streets"]
        ],
        crossings=[Crossing(**c) for c in body["crossings"]],
        places=[NamedPlace(**p) for p in body["places"]],
        pois=[Poi(**p) for p in body["pois"]],
        facilities=[Facility(**f) for f in body["facilities"]],
        municipalities=list(body["municipalities"]),
        source=dict(body["source"]),
        buildings=[tuple((x, y) for x, y in ring) for ring in body["buildings"]],
    )


def _bounds(values: list[float]) -> tuple[float, float, float, float]:
    west, south, east, north = (float(v) for v in values)
    return west, south, east, north
