"""The Liechtenstein extract imported once per test process (several modules read it)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from najda.api.areas import demo_extract, import_area
from najda.geo.area import Area


@lru_cache(maxsize=1)
def liechtenstein() -> tuple[Path, Area]:
    """A data directory holding the imported area (`<dir>/area`), and the area."""
    directory = Path(tempfile.mkdtemp(prefix="najda-area-"))
    atexit.register(shutil.rmtree, directory, True)
    return directory, import_area(demo_extract(), directory, boundary="Liechtenstein").area
