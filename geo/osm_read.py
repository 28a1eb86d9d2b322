"""Read an OpenStreetMap extract (PBF, streamed with pyosmium) into an operating Area.

Two streaming passes: administrative boundaries (areas assembled by osmium), then roads,
addresses, places and points of interest. Way node lists and coordinates go to flat arrays,
not one Python object per OSM object, so large regions fit in memory.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

from najda.geo.address_text import fold
from najda.geo.area import (
    AddressPoint,
    Area,
    Crossing,
    Facility,
    NamedPlace,
    Poi,
    RoadArrays,
    Street,
)
from najda.geo.distance import great_circle_pairs_m
from najda.geo.osm_profile import profile
from najda.geo.planar import point_m

PLACE_KINDS = ("city", "town", "village", "hamlet", "locality", "isolated_dwelling", "suburb")
#: Highway classes whose names count as streets (drivable ones plus pedestrian streets).
STREET_CLASSES = frozenset(
    {
        "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
        "living_street", "road", "service", "pedestrian", "track", "primary_link",
        "secondary_link", "tertiary_link", "trunk_link", "motorway_link", "footway", "path",
        "cycleway", "steps",
    }
)  # fmt: skip
POI_KEYS = ("amenity", "emergency", "healthcare", "tourism", "leisure", "historic", "office")
MUNICIPALITY_LEVEL = "8"
#: Building outlines are simplified to this tolerance (degrees; about a metre).
BUILDING_TOLERANCE_DEG = 0.00001
#: Roads reaching this far outside the operating area are kept (border roads, approaches).
ROAD_MARGIN_DEG = 0.01


class ImportError_(ValueError):
    """Raised when an extract cannot be imported (unreadable file, unknown boundary, empty)."""


@dataclass(frozen=True)
class Boundary:
    """An administrative boundary of the file."""

    name: str
    level: str
    shape: BaseGeometry


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """`W,S,E,N` in degrees, checked."""
    try:
        west, south, east, north = (float(p) for p in text.split(","))
    except ValueError:
        raise ImportError_(f"bbox must be W,S,E,N in degrees, got {text!r}") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ImportError_(f"bbox {text!r}: need -180 <= W < E <= 180 and -90 <= S < N <= 90")
    return west, south, east, north


def read_boundaries(path: Path) -> list[Boundary]:
    """Every named administrative boundary polygon in the file."""
    wkb = osmium.geom.WKBFactory()
    found: list[Boundary] = []
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.TagFilter(("boundary", "administrative")))
        .with_filter(osmium.filter.EmptyTagFilter())
        .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
        .with_filter(osmium.filter.TagFilter(("boundary", "administrative")))
    )
    for obj in _guarded(processor, path):
        name = obj.tags.get("name")
        if not name:
            continue
        try:
            shape = shapely.from_wkb(wkb.create_multipolygon(obj))
        except RuntimeError:  # a broken ring in the data: skip that boundary
            continue
        found.append(Boundary(name, obj.tags.get("admin_level", ""), shape))
    return found


def _guarded(processor: Any, path: Path) -> Any:
    """Iterate a FileProcessor, turning osmium's read errors into ImportError_."""
    try:
        yield from processor
    except (RuntimeError, ValueError) as exc:
        raise ImportError_(f"{path}: not a readable OpenStreetMap file ({exc})") from None


def choose_area(
    boundaries: list[Boundary], name: str | None, bbox: tuple[float, float, float, float] | None
) -> tuple[str, BaseGeometry | None]:
    """The operating area's name and shape from a boundary name or a bbox (None: everything)."""
    if bbox is not None:
        return "bbox " + ",".join(f"{v:g}" for v in bbox), box(*bbox)
    if name is None:
        return "whole file", None
    wanted = fold(name)
    matches = [b for b in boundaries if fold(b.name) == wanted]
    if not matches:
        known = sorted({b.name for b in boundaries if b.level in ("2", "4", "6", "8")})
        raise ImportError_(
            f"boundary {name!r} matches no administrative boundary in the file"
            + (f"; it has: {', '.join(known[:40])}" if known else "; it has none")
        )
    best = min(matches, key=lambda b: int(b.level) if b.level.isdigit() else 99)
    return best.name, best.shape


class _Municipalities:
    """Point-in-polygon lookup of the municipalities (admin level 8) inside the area."""

    def __init__(self, boundaries: list[Boundary], area: BaseGeometry | None) -> None:
        self.items = [
            b
            for b in boundaries
            if b.level == MUNICIPALITY_LEVEL and (area is None or b.shape.intersects(area))
        ]
        self.tree = STRtree([b.shape for b in self.items])

    def of(self, lon: float, lat: float) -> str:
        hits = self.tree.query(Point(lon, lat), predicate="intersects")
        return self.items[int(hits[0])].name if len(hits) else ""


class _Reader:
    """State of the main pass: flat arrays of road ways and lists of the rest."""

    def __init__(self, area: BaseGeometry | None) -> None:
        self.area = area
        self.prepared = area
        if area is not None:
            shapely.prepare(area)
            self.wide = area.envelope.buffer(ROAD_MARGIN_DEG)
            shapely.prepare(self.wide)
        self.way_nodes = array("q")
        self.way_lons = array("d")
        self.way_lats = array("d")
        self.way_starts = array("q", [0])
        self.way_speeds: list[tuple[float, float, bool, bool]] = []
        self.name_nodes = array("q")
        self.name_ids = array("q")
        self.name_lons = array("d")
        self.name_lats = array("d")
        self.names: dict[str, int] = {}
        self.street_lines: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
        self.addresses: list[tuple[dict[str, str], float, float]] = []
        self.places: list[tuple[str, str, float, float]] = []
        self.pois: list[tuple[str, str, float, float, dict[str, str]]] = []
        self.facilities: list[tuple[str, str, str, float, float, dict[str, str]]] = []
        self.buildings: list[tuple[tuple[float, float], ...]] = []

    def inside(self, lon: float, lat: float) -> bool:
        return self.area is None or bool(shapely.contains_xy(self.area, lon, lat))

    def way(self, obj: Any) -> None:
        tags = obj.tags
        highway = tags.get("highway")
        if highway is None:
            return
        try:
            refs = [(n.ref, n.lon, n.lat) for n in obj.nodes]
        except osmium.InvalidLocationError:
            refs = [(n.ref, n.lon, n.lat) for n in obj.nodes if n.location.valid()]
        if len(refs) < 2:
            return
        lons = np.fromiter((r[1] for r in refs), float, len(refs))
        lats = np.fromiter((r[2] for r in refs), float, len(refs))
        if self.area is not None and not shapely.contains_xy(self.wide, lons, lats).any():
            return
        road = profile({k: v for k, v in tags})
        if road is not None:
            self.way_nodes.extend(r[0] for r in refs)
            self.way_lons.extend(lons.tolist())
            self.way_lats.extend(lats.tolist())
            self.way_starts.append(len(self.way_nodes))
            self.way_speeds.append(
                (road.regular_kmh, road.emergency_kmh, road.forward, road.backward)
            )
        name = tags.get("name")
        if name and highway in STREET_CLASSES and tags.get("area") != "yes":
            mid = len(refs) // 2
            if not self.inside(float(lons[mid]), float(lats[mid])):
                return
            name_id = self.names.setdefault(name, len(self.names))
            self.name_nodes.extend(r[0] for r in refs)
            self.name_ids.extend([name_id] * len(refs))
            self.name_lons.extend(lons.tolist())
            self.name_lats.extend(lats.tolist())
            self.street_lines[name].append(list(zip(lons.tolist(), lats.tolist(), strict=True)))

    def building(self, shape: BaseGeometry, lon: float, lat: float) -> None:
        """Keep a building's outline (simplified to about a metre) for the base map."""
        if not self.inside(lon, lat):
            return
        for polygon in getattr(shape, "geoms", [shape]):
            ring = polygon.exterior.simplify(BUILDING_TOLERANCE_DEG)
            self.buildings.append(tuple((round(x, 6), round(y, 6)) for x, y in ring.coords))

    def tagged(self, kind: str, osm_id: str, tags: dict[str, str], lon: float, lat: float) -> None:
        if not self.inside(lon, lat):
            return
        if "addr:housenumber" in tags and ("addr:street" in tags or "addr:place" in tags):
            self.addresses.append((tags, lon, lat))
        if kind == "n" and tags.get("place") in PLACE_KINDS and tags.get("name"):
            self.places.append((tags["name"], tags["place"], lon, lat))
        facility = _facility_kind(tags)
        if facility is not None:
            self.facilities.append((facility, osm_id, tags.get("name", ""), lon, lat, tags))
        name = tags.get("name")
        if name and "highway" not in tags and "place" not in tags and "boundary" not in tags:
            category = next((tags[k] for k in POI_KEYS if k in tags), None)
            if category is None and "building" in tags:
                category = "building"
            if category is not None:
                self.pois.append((name, category, lon, lat, tags))


def _facility_kind(tags: dict[str, str]) -> str | None:
    if tags.get("amenity") == "hospital":
        return "hospital"
    if tags.get("emergency") == "ambulance_station":
        return "ambulance_station"
    if tags.get("amenity") == "fire_station":
        return "fire_station"
    return None


def read_extract(
    path: Path, boundary: str | None = None, bbox: tuple[float, float, float, float] | None = None
) -> Area:
    """Import the operating area of an extract (see the module docstring)."""
    if not path.is_file():
        raise ImportError_(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise ImportError_(f"{path}: the file is empty")
    boundaries = read_boundaries(path)
    name, shape = choose_area(boundaries, boundary, bbox)
    municipalities = _Municipalities(boundaries, shape)
    reader = _Reader(shape)
    wkb = osmium.geom.WKBFactory()
    # Untagged nodes only feed the location cache (it sees every node before the filters):
    # they never reach Python, which is most of the file.
    processor = (
        osmium.FileProcessor(str(path)).with_areas().with_filter(osmium.filter.EmptyTagFilter())
    )
    for obj in _guarded(processor, path):
        kind = obj.type_str()
        if kind == "n":
            if len(obj.tags):
                reader.tagged("n", f"n{obj.id}", dict(obj.tags), obj.lon, obj.lat)
        elif kind == "w":
            reader.way(obj)
        elif kind == "a" and len(obj.tags) and (_interesting(obj.tags) or "building" in obj.tags):
            try:
                shape = shapely.from_wkb(wkb.create_multipolygon(obj))
            except RuntimeError:
                continue
            centre = shape.point_on_surface()
            if "building" in obj.tags:
                reader.building(shape, centre.x, centre.y)
            if _interesting(obj.tags):
                osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                reader.tagged("a", osm_id, dict(obj.tags), centre.x, centre.y)
    roads = _road_graph(reader)
    if roads.lats.size == 0 and not reader.addresses and not reader.places:
        raise ImportError_(
            f"the operating area ({name}) holds no roads, addresses nor places of {path.name}"
        )
    return _assemble(name, shape, reader, roads, municipalities, path)


def _interesting(tags: Any) -> bool:
    return (
        "addr:housenumber" in tags
        or "name" in tags
        or tags.get("amenity") in ("hospital", "fire_station")
        or tags.get("emergency") == "ambulance_station"
    )


def _road_graph(reader: _Reader) -> RoadArrays:
    """Directed arcs between consecutive way nodes, kept to the largest strongly connected
    component (a unit can get out of every node it can get into)."""
    ids = np.frombuffer(reader.way_nodes, dtype=np.int64)
    lons = np.frombuffer(reader.way_lons, dtype=float)
    lats = np.frombuffer(reader.way_lats, dtype=float)
    starts = np.frombuffer(reader.way_starts, dtype=np.int64)
    if ids.size == 0:
        empty_f, empty_i = np.zeros(0), np.zeros(0, dtype=np.int64)
        return RoadArrays(empty_f, empty_f, empty_i, empty_i, empty_f, empty_f)
    unique, first, index = np.unique(ids, return_index=True, return_inverse=True)
    node_lats, node_lons = lats[first], lons[first]
    speeds = np.array([s[:2] for s in reader.way_speeds], dtype=float)
    dirs = np.array([s[2:] for s in reader.way_speeds], dtype=bool)
    way_of = np.repeat(np.arange(len(reader.way_speeds)), np.diff(starts))
    seg = np.ones(ids.size, dtype=bool)
    seg[starts[1:] - 1] = False  # the last node of each way starts no segment
    a = np.flatnonzero(seg)
    b = a + 1
    length_m = great_circle_pairs_m(lats[a], lons[a], lats[b], lons[b])
    w = way_of[a]
    regular = length_m / (speeds[w, 0] / 3.6)
    emergency = length_m / (speeds[w, 1] / 3.6)
    fwd, bwd = dirs[w, 0], dirs[w, 1]
    src = np.concatenate([index[a][fwd], index[b][bwd]])
    dst = np.concatenate([index[b][fwd], index[a][bwd]])
    reg = np.concatenate([regular[fwd], regular[bwd]])
    eme = np.concatenate([emergency[fwd], emergency[bwd]])
    n = unique.size
    graph = csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    largest = np.bincount(labels).argmax()
    keep = labels == largest
    renumber = np.full(n, -1, dtype=np.int64)
    renumber[keep] = np.arange(int(keep.sum()))
    arcs = keep[src] & keep[dst] & (src != dst)
    return RoadArrays(
        node_lats[keep].copy(),
        node_lons[keep].copy(),
        renumber[src[arcs]],
        renumber[dst[arcs]],
        eme[arcs],
        reg[arcs],
    )


def _address_text(tags: dict[str, str]) -> str:
    street = tags.get("addr:street") or tags.get("addr:place") or ""
    number = tags.get("addr:housenumber", "")
    town = " ".join(p for p in (tags.get("addr:postcode", ""), tags.get("addr:city", "")) if p)
    line = f"{street} {number}".strip()
    return ", ".join(p for p in (line, town) if p)


def _assemble(
    name: str,
    shape: BaseGeometry | None,
    reader: _Reader,
    roads: RoadArrays,
    municipalities: _Municipalities,
    path: Path,
) -> Area:
    """Municipalities, streets, crossings and the rest from what the pass collected."""
    of = municipalities.of
    addresses = sorted(
        {
            AddressPoint(
                street=tags.get("addr:street") or tags["addr:place"],
                housenumber=tags["addr:housenumber"].strip(),
                lat=round(lat, 7),
                lon=round(lon, 7),
                postcode=tags.get("addr:postcode", "").strip(),
                municipality=of(lon, lat) or tags.get("addr:city", ""),
                on_place="addr:street" not in tags,
            )
            for tags, lon, lat in reader.addresses
        },
        key=lambda a: (a.municipality, a.street, a.housenumber, a.lat, a.lon),
    )
    streets = _streets(reader, of)
    crossings = _crossings(reader, of)
    places = sorted(
        {
            NamedPlace(n, k, round(lat, 7), round(lon, 7), of(lon, lat))
            for n, k, lon, lat in reader.places
        },
        key=lambda p: (p.name, p.lat),
    )
    pois = sorted(
        {
            Poi(n, c, round(lat, 7), round(lon, 7), of(lon, lat), _address_text(t))
            for n, c, lon, lat, t in reader.pois
        },
        key=lambda p: (p.name, p.lat),
    )
    seen: set[str] = set()
    facilities = []
    for kind, osm_id, fname, lon, lat, tags in reader.facilities:
        if osm_id in seen:
            continue
        seen.add(osm_id)
        label = fname or f"{kind.replace('_', ' ')} {of(lon, lat)}".strip()
        facilities.append(
            Facility(kind, osm_id, label, round(lat, 7), round(lon, 7), _address_text(tags))
        )
    facilities.sort(key=lambda f: (f.kind, f.osm_id))
    bounds = shape.bounds if shape is not None else _data_bounds(roads, addresses)
    return Area(
        name=name,
        bounds=tuple(round(b, 6) for b in bounds),  # type: ignore[arg-type]
        roads=roads,
        addresses=addresses,
        streets=streets,
        crossings=crossings,
        places=places,
        pois=pois,
        facilities=facilities,
        municipalities=sorted({m.name for m in municipalities.items}),
        buildings=reader.buildings,
        source={"file": path.name, "bytes": path.stat().st_size},
    )


def _data_bounds(roads: RoadArrays, addresses: list[AddressPoint]) -> tuple[float, ...]:
    lons = np.concatenate([roads.lons, [a.lon for a in addresses]])
    lats = np.concatenate([roads.lats, [a.lat for a in addresses]])
    return float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max())


def _streets(reader: _Reader, of: Any) -> list[Street]:
    """Named ways grouped by name and municipality, with a point on the street."""
    grouped: dict[tuple[str, str], list[list[tuple[float, float]]]] = defaultdict(list)
    for name, lines in reader.street_lines.items():
        for line in lines:
            mid = line[len(line) // 2]
            grouped[(name, of(*mid))].append(line)
    streets = []
    for (name, municipality), lines in sorted(grouped.items()):
        longest = max(lines, key=lambda ln: LineString(ln).length)
        point = LineString(longest).interpolate(0.5, normalized=True)
        streets.append(
            Street(
                name,
                municipality,
                round(point.y, 7),
                round(point.x, 7),
                tuple(tuple((round(x, 7), round(y, 7)) for x, y in ln) for ln in lines),
            )
        )
    return streets


def _crossings(reader: _Reader, of: Any) -> list[Crossing]:
    """Nodes shared by ways of two different names; one per pair and municipality within 150 m."""
    nodes = np.frombuffer(reader.name_nodes, dtype=np.int64)
    if nodes.size == 0:
        return []
    ids = np.frombuffer(reader.name_ids, dtype=np.int64)
    lons = np.frombuffer(reader.name_lons, dtype=float)
    lats = np.frombuffer(reader.name_lats, dtype=float)
    order = np.lexsort((ids, nodes))
    nodes, ids, lons, lats = nodes[order], ids[order], lons[order], lats[order]
    names = {i: n for n, i in reader.names.items()}
    boundaries = np.flatnonzero(np.diff(nodes)) + 1
    found: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    for group in np.split(np.arange(nodes.size), boundaries):
        distinct = sorted({names[int(i)] for i in ids[group]})
        if len(distinct) < 2:
            continue
        lon, lat = float(lons[group[0]]), float(lats[group[0]])
        municipality = of(lon, lat)
        for i, a in enumerate(distinct):
            for b in distinct[i + 1 :]:
                spots = found[(a, b, municipality)]
                if all(point_m(lat, lon, y, x) > 150 for x, y in spots):
                    spots.append((lon, lat))
    return [
        Crossing(a, b, m, round(lat, 7), round(lon, 7))
        for (a, b, m), spots in sorted(found.items())
        for lon, lat in spots
    ]


__all__ = ["Boundary", "ImportError_", "parse_bbox", "read_extract"]
