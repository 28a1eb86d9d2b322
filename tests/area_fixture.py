"""The Liechtenstein extract imported once per test run (by a first start), and a small cut.

`liechtenstein()` is the first start of the real demo on an empty data directory: start-up
(`open_operating_area`) imports the bundled extract there, exactly as a server's first start does;
test_area_start.py checks that start and a second one reading it back, and every other reader
shares the import (the import of the whole country takes seconds of CPU). The run's first caller,
in whichever pytest-xdist worker, makes that first start in the directory the controlling process
shares with its workers (tests/run_shared.py), under a file lock; the others wait
for it and read the area back, as a later start does. Readers copy the directory, never write it.

Import tests whose subject is the import itself (a bbox, a re-import, a bad choice, the CLI)
read `small_extract()`: the centre of Vaduz and a piece of Prattville, Alabama, cut from the
bundled extract with every administrative boundary complete, so boundary names resolve, the
Alabama piece is still there to be left out, and an import takes a fraction of the time.
Regenerate it with `python -m tests.area_fixture` after the bundled extract changes.
"""

from __future__ import annotations

import atexit
import fcntl
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import osmium

from najda.api.areas import area_dir, demo_extract
from najda.api.services import open_operating_area
from najda.api.settings import Settings
from najda.geo.area import Area, load_area
from tests.run_shared import shared_dir

SMALL_EXTRACT = Path(__file__).parent / "fixtures" / "osm" / "vaduz-and-prattville.osm.pbf"
#: The boxes (W, S, E, N) the small extract keeps: central Vaduz, central Prattville (Alabama).
SMALL_BOXES = ((9.50, 47.12, 9.54, 47.15), (-86.50, 32.44, -86.44, 32.48))


def _first_start(directory: Path) -> Area:
    """The first start of the real demo on the empty `directory`: it imports the extract."""
    assert not area_dir(directory).exists()
    area = open_operating_area(Settings(data_dir=directory, demo_area="liechtenstein"))
    assert area is not None, "the first start of the real demo imported no area"
    return area


@lru_cache(maxsize=1)
def liechtenstein() -> tuple[Path, Area]:
    """A data directory holding the imported area (`<dir>/area`), and the area: the first start
    of the real demo on this empty directory, which imports the bundled extract (once a run)."""
    shared = shared_dir()
    if shared is None:  # outside pytest (no run to share with): this process's own first start
        directory = Path(tempfile.mkdtemp(prefix="najda-area-"))
        atexit.register(shutil.rmtree, directory, True)
        return directory, _first_start(directory)
    directory = shared / "liechtenstein"
    done = shared / "liechtenstein.done"
    with (shared / "liechtenstein.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if done.exists():  # another process of this run made the first start
            return directory, load_area(area_dir(directory))
        shutil.rmtree(directory, ignore_errors=True)  # a first start that failed midway
        directory.mkdir()
        area = _first_start(directory)
        done.touch()
        return directory, area


def small_extract() -> Path:
    """The committed small cut of the bundled extract (see the module docstring)."""
    return SMALL_EXTRACT


def _inside(lon: float, lat: float, boxes: tuple[tuple[float, float, float, float], ...]) -> bool:
    return any(w <= lon <= e and s <= lat <= n for w, s, e, n in boxes)


def cut_extract(
    source: Path, target: Path, boxes: tuple[tuple[float, float, float, float], ...]
) -> None:
    """Write the nodes inside `boxes`, the ways touching them and the relations using them or
    bounding an administrative area, each with everything it references (complete shapes)."""
    nodes: set[int] = set()
    ways: set[int] = set()
    with osmium.BackReferenceWriter(
        str(target), str(source), overwrite=True, remove_tags=False
    ) as writer:
        for obj in osmium.FileProcessor(str(source)):
            if obj.is_node():
                if obj.location.valid() and _inside(obj.lon, obj.lat, boxes):
                    nodes.add(obj.id)
                    writer.add_node(obj)
            elif obj.is_way():
                if any(n.ref in nodes for n in obj.nodes):
                    ways.add(obj.id)
                    writer.add_way(obj)
            elif obj.is_relation() and (
                obj.tags.get("boundary") == "administrative"
                or any(
                    (m.type == "w" and m.ref in ways) or (m.type == "n" and m.ref in nodes)
                    for m in obj.members
                )
            ):
                writer.add_relation(obj)


if __name__ == "__main__":
    SMALL_EXTRACT.parent.mkdir(parents=True, exist_ok=True)
    cut_extract(demo_extract(), SMALL_EXTRACT, SMALL_BOXES)
    sys.stdout.write(f"wrote {SMALL_EXTRACT} ({SMALL_EXTRACT.stat().st_size} bytes)\n")
