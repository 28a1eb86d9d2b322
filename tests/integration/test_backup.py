"""`najda backup` and `najda restore` on real stores: a live store copied, restored, verified."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from najda.api.cli import main
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.signing_key import load_or_create_key
from najda.projections.audit.witness import attach_witness
from najda.projections.base import NotificationSource
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch
from tests.pgdatabases import empty_database


def _history(app: Dispatch) -> int:
    """A few incidents and units; the store's head afterwards."""
    for n in range(3):
        unit = app.register_unit(f"A-{n}", UnitKind.ALS, "admin", home=Position(47.14, 9.52))
        incident = app.report_incident(
            location=Position(47.15, 9.51), address="", nature="fall", priority=Priority.C,
            actor="d",
        )  # fmt: skip
        app.assign_units(incident, [UnitChoice(unit, 900.0, 120.0)], "d")
        app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew")
    return NotificationSource(app).head()


def _store_events(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    finally:
        conn.close()


def test_sqlite_backup_of_a_running_store_restores_and_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = tmp_path / "live"
    app = new_dispatch(sqlite_env(live / "najda.sqlite"))
    attach_witness(app, load_or_create_key(live / "audit" / "najda-audit.key"))
    try:
        head = _history(app)
        assert main(["audit", "seal", "--data-dir", str(live)]) == 0
        # The application is still open: its last commits may sit in the WAL only, where a
        # plain copy of the main file does not see them.
        dest = tmp_path / "najda.backup"
        assert main(["backup", str(dest), "--data-dir", str(live)]) == 0
        assert dest.stat().st_mode & 0o077 == 0  # personal data: the owner only
        assert _store_events(dest) == head
    finally:
        app.close()
    assert main(["backup", str(dest), "--data-dir", str(live)]) == 1  # never overwrites
    capsys.readouterr()

    restored = tmp_path / "restored"
    assert main(["restore", str(dest), "--data-dir", str(restored)]) == 0
    assert f"restored {head} events" in capsys.readouterr().out
    # The key and the checkpoints live outside the store (and outside its backup): the
    # restored copy verifies against the original's public key and signed checkpoints.
    trust = ["--public-key", str(live / "audit" / "najda-audit.key.pub"),
             "--checkpoints", str(live / "checkpoints")]  # fmt: skip
    assert main(["audit", "verify", "--data-dir", str(restored), *trust]) == 0
    assert "OK: no event was altered" in capsys.readouterr().out
    copy = new_dispatch(sqlite_env(restored / "najda.sqlite"))
    try:
        assert NotificationSource(copy).head() == head
    finally:
        copy.close()

    # A store that holds events is never overwritten, and what is not a backup is refused.
    assert main(["restore", str(dest), "--data-dir", str(restored)]) == 1
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database at all" * 100)
    empty = tmp_path / "empty"
    assert main(["restore", str(junk), "--data-dir", str(empty)]) == 1
    assert not (empty / "najda.sqlite").exists()
    assert "not a Najda event store" in capsys.readouterr().err


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A second, empty database (no PostGIS yet: the backup brings its extension)."""
    with empty_database("najda_test_restore") as url:
        yield url


@pytest.mark.postgres
def test_postgres_backup_restores_into_an_empty_database_and_verifies(
    pg_url: str, empty_pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = new_dispatch(postgres_env(pg_url))
    attach_witness(app, load_or_create_key(tmp_path / "audit" / "najda-audit.key"))
    try:
        head = _history(app)
    finally:
        app.close()
    trust = ["--data-dir", str(tmp_path)]  # where the key and the checkpoints are
    assert main(["audit", "seal", "--database-url", pg_url, *trust]) == 0
    dest = tmp_path / "najda.dump"
    assert main(["backup", str(dest), "--database-url", pg_url]) == 0
    assert dest.stat().st_mode & 0o077 == 0
    capsys.readouterr()

    assert main(["restore", str(dest), "--database-url", empty_pg_url]) == 0
    assert f"restored {head} events" in capsys.readouterr().out
    assert main(["audit", "verify", "--database-url", empty_pg_url, *trust]) == 0
    assert "OK: no event was altered" in capsys.readouterr().out
    copy = new_dispatch(postgres_env(empty_pg_url))
    try:
        assert NotificationSource(copy).head() == head
    finally:
        copy.close()
    # A database that holds Najda's tables is never restored over.
    assert main(["restore", str(dest), "--database-url", pg_url]) == 1
    assert "restore only into an empty database" in capsys.readouterr().err
