"""Start-up with the real demo area: the bundled extract is imported once, then read back.

The first start is `liechtenstein()` (tests/area_fixture.py): start-up on an empty data
directory, shared with the other readers of the country (in any xdist worker of the run) so that
it is imported once a run."""

from __future__ import annotations

from pathlib import Path

from najda.api.services import open_operating_area
from najda.api.settings import Settings
from tests.area_fixture import liechtenstein


def test_the_first_start_imports_the_bundled_area_and_later_starts_reuse_it() -> None:
    data_dir, first = liechtenstein()  # the first start, on an empty data directory
    assert first.name == "Liechtenstein"
    saved = data_dir / "area" / "area.json.gz"
    written = saved.stat().st_mtime_ns
    again = open_operating_area(Settings(data_dir=data_dir, demo_area="liechtenstein"))
    assert again is not None and again.counts() == first.counts()
    assert saved.stat().st_mtime_ns == written  # read back, not imported again
    facilities = {f.name for f in again.facilities}
    assert {"Liechtensteinisches Landesspital", "Rotes Kreuz Liechtenstein"} <= facilities


def test_the_invented_town_or_no_demo_loads_no_area(tmp_path: Path) -> None:
    assert open_operating_area(Settings(data_dir=tmp_path, demo_area="sahil")) is None
    assert open_operating_area(Settings(data_dir=tmp_path, seed_demo=False)) is None
    assert not (tmp_path / "area").exists()
