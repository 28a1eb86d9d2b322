"""`najda area import`: the report, --apply registering facilities as the importing actor.

They read the small cut of the bundled extract (central Vaduz and a piece of Prattville,
Alabama, with the boundaries): the whole country is imported in test_area_import.py."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from najda.api.cli import main
from najda.projections.base import NotificationSource
from najda.projections.store.environment import sqlite_env
from tests.area_fixture import small_extract
from tests.fakes import new_dispatch


def test_import_reports_and_apply_registers_as_the_actor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["area", "import", str(small_extract()), "--boundary", "Liechtenstein"]
    argv += ["--apply", "--actor", "planner.k", "--data-dir", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "area: Liechtenstein" in out and "addresses: " in out
    assert "Rotes Kreuz Liechtenstein" in out and "Liechtensteinisches Landesspital" in out
    assert "Prattville" not in out
    assert "registered: " in out and (tmp_path / "area" / "geocode.sqlite").exists()
    lines = out.splitlines()
    codes = next(line for line in lines if line.startswith("registered: "))
    start = lines.index("proposed reference data:") + 1
    proposed = list(itertools.takewhile(lambda line: line.startswith("  "), lines[start:]))
    dispatch = new_dispatch(sqlite_env(tmp_path / "najda.sqlite"))
    try:
        items = NotificationSource(dispatch).read(0, 100)
        registered = {i.event.name: i.event.actor for i in items if i.topic.endswith(".Registered")}
    finally:
        dispatch.close()
    assert registered["Rotes Kreuz Liechtenstein"] == "planner.k"
    assert registered["Liechtensteinisches Landesspital"] == "planner.k"
    assert set(registered.values()) == {"planner.k"}
    assert len(registered) == len(codes.split(", ")) == len(proposed) >= 2


def test_without_apply_nothing_is_registered_and_a_bad_boundary_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = ["area", "import", str(small_extract()), "--boundary", "Atlantis"]
    assert main([*bad, "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Atlantis" in err and "Vaduz" in err
    assert not (tmp_path / "area").exists() and not (tmp_path / "najda.sqlite").exists()
    box = ["area", "import", str(small_extract()), "--bbox", "9.50,47.13,9.53,47.15"]
    assert main([*box, "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "nothing registered: run again with --apply" in out
    assert not (tmp_path / "najda.sqlite").exists()
