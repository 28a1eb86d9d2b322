"""A JEMSS model's files (where sim_config.xml says they are) and its road network with the
travel mode of its most urgent priority: what the live server needs of a JEMSS model (the
simulator reads the rest in simulations/)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from najda.geo.jemss_tables import TableError, number, read_rows, table
from najda.geo.roads import SECONDS_PER_DAY, RoadNetwork, load_jemss_roads

KM_PER_DAY_TO_MPS = 1000.0 / SECONDS_PER_DAY

DEFAULT_FILES = {
    "ambulances": "ambulances/ambulances_1.csv",
    "hospitals": "hospitals/hospitals_1.csv",
    "stations": "stations/stations_1.csv",
    "callGenConfig": "calls/reps/train/gen_config.xml",
    "demandCoverage": "demand/coverage/demand_coverage_1.csv",
    "travel": "travel/travel/travel_1.csv",
    "priorities": "misc/call priorities/priorities_1.csv",
    "arcs": "travel/roads/arcs.csv",
    "nodes": "travel/roads/nodes.csv",
}


def _unresolved(text: str) -> bool:
    """True for a path naming a variable of the JEMSS installation (`$jemssDir/...`)."""
    return "$" in text


def resolve(base: Path, text: str) -> Path | None:
    """`text` as JEMSS reads it: absolute, or relative to `base` (the folder of the file that
    names it); None when it names a JEMSS installation variable, which only JEMSS knows."""
    text = text.strip()
    if _unresolved(text):
        return None
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


@dataclass(frozen=True)
class ModelFiles:
    """The files of one model: path per sim_config.xml element (None: named but absent)."""

    root: Path
    files: dict[str, Path]
    config: Path | None
    #: Elements whose text names a JEMSS installation variable (only JEMSS can resolve them).
    unresolved: dict[str, str]

    def path(self, element: str) -> Path:
        """The file of a simFiles element; TableError naming the config and the element."""
        where = f"{self.config}: simFiles/{element}" if self.config else element
        if element in self.unresolved:
            raise TableError(
                f"{where}: {self.unresolved[element]!r} names a JEMSS "
                "installation variable; give a path relative to the config"
            )
        path = self.files.get(element)
        if path is None or not path.exists():
            raise TableError(f"{where}: file {path or '(not given)'} not found")
        return path

    def has(self, element: str) -> bool:
        """True when the element names a file that exists."""
        path = self.files.get(element)
        return element not in self.unresolved and path is not None and path.exists()


def model_files(root: Path) -> ModelFiles:
    """The model's files: sim_config.xml's simFiles (relative to its inputPath, itself relative
    to the config's folder; the model folder when the inputPath is JEMSS-installation bound),
    else JEMSS's usual layout under `root`."""
    files = {k: root / v for k, v in DEFAULT_FILES.items()}
    config = root / "sim_config.xml"
    if not config.exists():
        return ModelFiles(root, files, None, {})
    try:
        tree = ET.parse(config).getroot()
    except ET.ParseError as exc:
        raise TableError(f"{config}: not readable XML ({exc})") from None
    base = config.parent
    input_path = tree.findtext("inputPath")
    if input_path:
        base = resolve(config.parent, input_path) or config.parent
    sim_files = tree.find("simFiles")
    unresolved: dict[str, str] = {}
    for child in sim_files if sim_files is not None else []:
        if not isinstance(child.tag, str) or not child.text or not child.text.strip():
            continue
        path = resolve(base, child.text)
        if path is None:
            unresolved[child.tag] = child.text.strip()
        else:
            files[child.tag] = path
    return ModelFiles(root, files, config, unresolved)


def load_network(root: Path) -> tuple[RoadNetwork, int]:
    """The model's roads and the travel mode of its most urgent priority (the first
    travel set listed); TableError names what is missing or malformed."""
    if not root.is_dir():
        raise TableError(f"{root}: not a JEMSS scenario directory")
    rows = read_rows(model_files(root).files["travel"])
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
