"""The wheel installs one top-level package, `najda`, and serves the console from a fresh venv."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import NajdaServer, clean_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # a build, a venv, a server


def _build_wheel(out: Path) -> Path:
    """`pip wheel --no-deps` of the checkout (its build back-end from pip's index or cache)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("najda-*.whl")
    return wheel


def _fresh_venv(where: Path) -> tuple[Path, Path]:
    """A new venv whose dependencies come from this venv's site-packages (no index): the
    fresh venv's python and site-packages."""
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    site = Path(purelib)
    # a .pth adds a directory to sys.path without running its own .pth files, so this
    # venv's editable najda (a .pth import hook) is not seen there; only its dependencies are
    (site / "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, site


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built once for the module."""
    return _build_wheel(tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_najda_alone_with_its_static_files(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"najda", "najda-0.1.0.dist-info"}
    for packaged in (
        "najda/api/static/console.html",
        "najda/api/static/console.js",
        "najda/api/static/vendor/leaflet/leaflet.js",
        "najda/geo/data/liechtenstein.osm.pbf",
        "najda/domain/dispatch/incident.py",
        "najda/projections/audit/witness.py",
    ):
        assert packaged in names
    entry_points = zipfile.ZipFile(wheel).read("najda-0.1.0.dist-info/entry_points.txt").decode()
    assert "najda = najda.cli:main" in entry_points


def test_a_fresh_venv_gets_only_najda_and_serves_the_console(wheel: Path, tmp_path: Path) -> None:
    python, site = _fresh_venv(tmp_path / "venv")
    before = {p.name for p in site.iterdir()}
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    added = {p.name for p in site.iterdir()} - before
    assert added == {"najda", "najda-0.1.0.dist-info"}
    where = subprocess.run(
        [str(python), "-c", "import najda.api.cli as m; print(m.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,  # not the checkout, whose najda/ would shadow the installed one
    ).stdout.strip()
    assert Path(where).is_relative_to(site)
    for old in ("api", "domain", "geo", "projections", "simulations"):
        gone = subprocess.run([str(python), "-c", f"import {old}"], cwd=tmp_path, check=False)
        assert gone.returncode != 0, f"{old} is importable at top level"

    server = NajdaServer(tmp_path / "run", command=[str(python.parent / "najda")], env=clean_env())
    try:
        server.start()
        page = httpx.get(f"{server.url}/", timeout=10)
        script = httpx.get(f"{server.url}/ui/console.js", timeout=10)
        leaflet = httpx.get(f"{server.url}/ui/vendor/leaflet/leaflet.js", timeout=10)
    finally:
        server.stop()
    assert page.status_code == 200
    assert '<script type="module" src="/ui/console.js">' in page.text
    assert script.status_code == 200 and "import" in script.text
    assert leaflet.status_code == 200
    assert (site / "najda" / "api" / "static" / "console.html").read_text() == page.text
