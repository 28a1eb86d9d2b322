"""A store written before the `najda.*` regroup (tests/fixtures/stores, made by its
make_store.py with the old layout) opens, verifies and rebuilds with today's code."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from eventsourcing.utils import resolve_topic

from najda.api.cli import main
from najda.domain.application import Dispatch
from najda.domain.dispatch.incident import Incident
from najda.domain.values import Position, Priority
from najda.projections.access.user_directory import UserDirectory
from najda.projections.audit.signing_key import load_or_create_key
from najda.projections.audit.witness import attach_witness
from najda.projections.base import NotificationSource
from najda.projections.care.consult_queue import ConsultDirectory
from najda.projections.care.monitoring_board import MonitoringDirectory
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.read_model_changes import BoardRow
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.runner import ProjectionRunner
from najda.projections.store.environment import sqlite_env
from tests.fakes import new_dispatch

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "stores"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the fixture's data directory (git keeps no 0600 mode: put it back)."""
    store = FIXTURE / "before-regroup" / "najda.sqlite"
    assert store.is_file(), f"{store} is missing: is it committed (.gitignore skips *.sqlite)?"
    copy = tmp_path / "data"
    shutil.copytree(FIXTURE / "before-regroup", copy)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)
    return copy


def _topics(store: Path) -> list[str]:
    with sqlite3.connect(store) as conn:
        return [row[0] for row in conn.execute("SELECT DISTINCT topic FROM stored_events")]


def test_every_stored_topic_resolves(data_dir: Path) -> None:
    topics = _topics(data_dir / "najda.sqlite")
    assert len(topics) >= 25  # a varied history: incidents, units, patients, users, ...
    for topic in topics:
        resolved = resolve_topic(topic)
        assert resolved.__module__.startswith("najda."), (topic, resolved)


def test_audit_verify_passes(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["audit", "verify", "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "OK: no event was altered" in out
    assert "63 sealed" in out


def test_a_changed_fixture_row_fails_verification(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check above can fail: the same store with one row altered does not verify."""
    with sqlite3.connect(data_dir / "najda.sqlite") as conn:
        conn.execute("UPDATE stored_events SET state = state || ' ' WHERE rowid = 10")
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) != 0
    assert "OK: no event was altered" not in capsys.readouterr().out


async def _rebuilt(app: Dispatch) -> tuple[dict[str, int], list[BoardRow]]:
    """The read models caught up from the store's log: their counts and the open incidents."""
    locator, board = EmbeddedLocator(), EmbeddedBoard()
    users, consults = UserDirectory(), ConsultDirectory()
    monitoring, reference = MonitoringDirectory(), ReferenceDirectory()
    runner = ProjectionRunner(
        NotificationSource(app), [locator, board, users, consults, monitoring, reference]
    )
    head = await runner.catch_up()
    units = await locator.all_units()
    incidents = await board.open_incidents()
    counts = {
        "log_head": head,
        "units": len(units),
        "available_units": sum(1 for u in units if u.status == "available"),
        "open_incidents": len(incidents),
        "active_users": len(users.list_users()),
        "open_consults": len(consults.listed()),
        "monitored_patients": len(monitoring.board.listed_patients()),
        "open_alerts": len(monitoring.board.open_alerts()),
        "stations": len(reference.list_stations()),
        "hospitals": len(reference.list_hospitals()),
    }
    return counts, incidents


def test_read_models_rebuild_to_the_counts_recorded_before_the_move(data_dir: Path) -> None:
    expected = json.loads((FIXTURE / "expected.json").read_text())
    app = new_dispatch(sqlite_env(data_dir / "najda.sqlite"))
    try:
        counts, incidents = asyncio.run(_rebuilt(app))
        assert counts == expected
        # the aggregates load too, from their old events
        (row,) = [r for r in incidents if r.nature == "chest pain"]
        incident = app.repository.get(row.incident_id)
        assert isinstance(incident, Incident)
        assert incident.priority == Priority.C
        assert app.get_user("old.hand").revoked
    finally:
        app.close()


def test_new_events_append_to_the_old_store_and_seal(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = new_dispatch(sqlite_env(data_dir / "najda.sqlite"))
    attach_witness(app, load_or_create_key(data_dir / "audit" / "najda-audit.key"))
    try:
        app.report_incident(
            location=Position(36.7, 3.1), address="", nature="fall", priority=Priority.B, actor="d"
        )
    finally:
        app.close()
    assert main(["audit", "seal", "--data-dir", str(data_dir)]) == 0
    assert main(["audit", "verify", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "64 sealed" in out and "OK: no event was altered" in out


def test_the_fixture_store_is_tracked_by_git() -> None:
    """A fresh clone has the store: git tracks it although *.sqlite is ignored elsewhere."""
    import subprocess

    root = FIXTURE.parents[2]
    listed = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "tests/fixtures/stores/before-regroup/najda.sqlite"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
