"""Operating areas: import an OSM extract (report, optional --apply), and open the current one."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from najda.domain.application import Dispatch
from najda.domain.errors import AlreadyExists
from najda.domain.values import Position
from najda.geo.area import Area, AreaCacheError, Facility, load_area, save_area
from najda.geo.osm_read import ImportError_, read_extract

log = logging.getLogger(__name__)
#: The bundled demo extract and the boundary that is its operating area.
DEMO_BOUNDARY = "Liechtenstein"
#: Services assumed for an imported hospital (OSM rarely says more); edit them afterwards.
HOSPITAL_SERVICES = ("emergency",)

__all__ = ["AreaImportError", "ImportReport", "demo_extract", "import_area", "open_area"]
AreaImportError = ImportError_


def area_dir(data_dir: Path) -> Path:
    """Where the current area of a data directory is kept."""
    return data_dir / "area"


def demo_extract() -> Path:
    """The bundled Liechtenstein extract."""
    return Path(str(resources.files("najda.geo") / "data" / "liechtenstein.osm.pbf"))


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ImportReport:
    """What an import found, what changed since the previous area, what was registered."""

    area: Area
    changes: dict[str, object] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as text lines."""
        a = self.area
        out = [f"area: {a.name}  bounds {', '.join(f'{b:.5f}' for b in a.bounds)}"]
        out += [f"  {k}: {v}" for k, v in a.counts().items()]
        out.append("proposed reference data:")
        for f in a.facilities:
            out.append(f"  {f.kind:18} {f.code:18} {f.name} ({f.lat:.5f}, {f.lon:.5f}) {f.address}")
        if self.changes:
            out.append("changes since the previous area:")
            out += [f"  {k}: {v}" for k, v in self.changes.items()]
        if self.registered:
            out.append("registered: " + ", ".join(self.registered))
        if self.already:
            out.append("already registered (unchanged): " + ", ".join(self.already))
        return out


def diff(old: Area | None, new: Area) -> dict[str, object]:
    """Counts and names that changed between two imports of an area."""
    if old is None:
        return {"previous": "none (first import)"}
    changes: dict[str, object] = {}
    for key, value in new.counts().items():
        before = old.counts().get(key, 0)
        if value != before:
            changes[key] = f"{before} -> {value}"
    old_streets = {(s.name, s.municipality) for s in old.streets}
    new_streets = {(s.name, s.municipality) for s in new.streets}
    added, removed = sorted(new_streets - old_streets), sorted(old_streets - new_streets)
    if added:
        changes["streets added"] = ", ".join(f"{n} ({m})" for n, m in added[:20])
    if removed:
        changes["streets removed"] = ", ".join(f"{n} ({m})" for n, m in removed[:20])
    old_f = {f.code for f in old.facilities}
    new_f = {f.code for f in new.facilities}
    if new_f - old_f:
        changes["facilities added"] = ", ".join(sorted(new_f - old_f))
    if old_f - new_f:
        changes["facilities gone"] = ", ".join(sorted(old_f - new_f))
    return changes or {"nothing": "same content as the previous import"}


def import_area(
    extract: Path,
    data_dir: Path,
    *,
    boundary: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> ImportReport:
    """Read the extract and make it the data directory's area (the old one stays on error)."""
    area = read_extract(extract, boundary, bbox)
    area.source["sha256"] = sha256_of(extract)
    area.source["boundary"] = boundary or ""
    area.source["bbox"] = list(bbox) if bbox else []
    target = area_dir(data_dir)
    try:
        previous: Area | None = load_area(target) if target.exists() else None
    except AreaCacheError:
        previous = None
    save_area(area, target)
    return ImportReport(area, diff(previous, area))


def register_facilities(
    dispatch: Dispatch, facilities: list[Facility], actor: str, report: ImportReport
) -> None:
    """Register the proposed hospitals and stations as events by `actor` (codes are stable:
    a re-import registers only what is new)."""
    for f in facilities:
        try:
            if f.kind == "hospital":
                dispatch.register_hospital(
                    f.code, f.name, Position(f.lat, f.lon), HOSPITAL_SERVICES, actor
                )
            else:
                dispatch.register_station(f.code, f.name, Position(f.lat, f.lon), actor)
            report.registered.append(f.code)
        except AlreadyExists:
            report.already.append(f.code)


def open_area(data_dir: Path, demo: bool) -> Area | None:
    """The data directory's area; with `demo`, the bundled one (imported once, then cached)."""
    target = area_dir(data_dir)
    if target.exists():
        try:
            return load_area(target)
        except AreaCacheError as exc:
            if not demo:
                raise
            log.warning("%s; importing the demo area again", exc)
    if not demo:
        return None
    log.info("importing the demo area from %s (once; cached in %s)", demo_extract(), target)
    return import_area(demo_extract(), data_dir, boundary=DEMO_BOUNDARY).area
