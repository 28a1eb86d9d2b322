"""The audit commands of `najda` on real stores: replay, report, eido and rebuild."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from najda.api.cli import main
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.store.environment import asyncpg_dsn, postgres_env, sqlite_env
from najda.projections.store.postgis_pool import PostgisProjections
from tests.eido_schema import require_eido_dir
from tests.fakes import new_dispatch
from tests.integration.support import run


def _history(app: Dispatch) -> str:
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", home=Position(36.75, 3.06))
    spare = app.register_unit("B-1", UnitKind.BLS, "admin", home=Position(36.75, 3.06))
    incident = app.report_incident(
        location=Position(36.76, 3.07), address="", nature="fall", priority=Priority.D, actor="d"
    )
    app.assign_units(incident, [UnitChoice(unit, 1200.0, 180.0), UnitChoice(spare)], "d.ali")
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew.a")
    app.update_unit_status(unit, UnitStatus.ON_SCENE, "crew.a")
    app.report_incident(
        location=Position(36.70, 3.00), address="", nature="burn", priority=Priority.B, actor="d"
    )
    # Two incidents that end: their events change nothing the rebuilt board ends with.
    third = app.register_unit("C-1", UnitKind.ALS, "admin", home=Position(36.74, 3.05))
    fourth = app.register_unit("D-1", UnitKind.BLS, "admin", home=Position(36.74, 3.05))
    for unit, ending in ((third, "close"), (fourth, "cancel")):
        other = app.report_incident(
            location=Position(36.72, 3.02), address="", nature="fall", priority=Priority.C,
            actor="d",
        )  # fmt: skip
        app.assign_units(other, [UnitChoice(unit)], "d.ali")
        app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew")
        if ending == "close":
            app.update_unit_status(unit, UnitStatus.ON_SCENE, "crew")
            app.update_unit_status(unit, UnitStatus.AVAILABLE, "crew")
            app.close_incident(other, "treated", "d.ali")
        else:
            app.cancel_incident(other, "duplicate call", "d.ali")
    return str(incident)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> tuple[list[str], str]:
    app = new_dispatch(sqlite_env(tmp_path / "najda.sqlite"))
    try:
        incident = _history(app)
    finally:
        app.close()
    return ["--data-dir", str(tmp_path)], incident


def test_replay_prints_the_timeline(
    sqlite_store: tuple[list[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    options, incident = sqlite_store

    assert main(["replay", incident, *options]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == f"incident {incident} (7 events, times UTC)"
    assert lines[2].endswith("d.ali assigned A-1 (ALS): 1.2 km, ETA 3 min")
    assert lines[-1].endswith("crew.a reported A-1 on scene")
    assert main(["replay", "00000000-0000-0000-0000-000000000009", *options]) == 2
    capsys.readouterr()
    assigned_at = lines[2].split()[0]  # the assignment's position
    assert main(["replay", incident, "--as-of", assigned_at, *options]) == 0
    assert capsys.readouterr().out.splitlines()[0] == f"incident {incident} (2 events, times UTC)"
    assert main(["replay", incident, "--as-of", "someday", *options]) == 2


def test_report_and_eido_export_write_their_formats(
    sqlite_store: tuple[list[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options, incident = sqlite_store

    assert main(["report", "--format", "csv", *options]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 5 and rows[1].startswith(incident)  # A-1 and B-1, then C-1 and D-1
    png = tmp_path / "report.png"
    assert main(["report", "--format", "png", "--output", str(png), *options]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    assert main(["report", *options]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["incidents"] == 3 and "responses" not in summary
    assert main(["eido", "export", incident, *options]) == 0
    eido = json.loads(capsys.readouterr().out)
    assert eido["incidentComponent"]["internalIncidentId"] == incident
    sample = require_eido_dir() / "Samples" / "Sample call transfer EIDO.json"
    where = ["--lat", "39.74", "--lon", "-75.55", "--priority", "C"]
    assert main(["eido", "import", str(sample), *where, *options]) == 0
    created = capsys.readouterr().out.strip()
    assert main(["eido", "import", str(sample), *where, *options]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{created} (already imported: urn:emergency:uid:incidentid:a56e556d871:bcf.state.pa.us)"
    )


@pytest.mark.postgres
def test_rebuild_gives_the_read_models_the_catch_up_built(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from najda.projections.runner import ProjectionRunner

    app = new_dispatch(postgres_env(pg_url))
    try:
        _history(app)
        head = NotificationSource(app).head()

        async def follow() -> tuple[object, object]:
            async with await PostgisProjections.connect(asyncpg_dsn(pg_url)) as models:
                runner = ProjectionRunner(NotificationSource(app), [models.locator, models.board])
                await runner.catch_up()
                return await models.locator.all_units(), await models.board.open_incidents()

        before = run(follow())
        assert main(["rebuild", "--database-url", pg_url, "--batch-size", "3"]) == 0
        assert capsys.readouterr().out.strip().endswith(f"from {head} events")

        async def read() -> tuple[object, object, int]:
            async with await PostgisProjections.connect(asyncpg_dsn(pg_url)) as models:
                return (
                    await models.locator.all_units(),
                    await models.board.open_incidents(),
                    await models.board.position(),
                )

        units, board, position = run(read())
        assert units == before[0]
        assert board == before[1]
        assert position == head
    finally:
        app.close()
