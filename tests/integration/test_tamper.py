"""Tamper evidence: a stored row changed by hand is named by `najda audit verify` (both stores)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from najda.api.cli import main
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.seal import Sealer
from najda.projections.audit.signing_key import load_or_create_key
from najda.projections.audit.witness import attach_witness
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.projections.store.event_rows import EventLog
from tests.fakes import new_dispatch


@dataclass
class Store:
    """An app on a real store, the CLI options naming it, and raw SQL on its events table."""

    app: Dispatch
    options: list[str]
    sql: Callable[[str], None]
    table: str
    position: str


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    key = load_or_create_key(tmp_path / "audit" / "najda-audit.key")  # where the CLI looks
    if request.param == "sqlite":
        path = tmp_path / "najda.sqlite"
        app = new_dispatch(sqlite_env(path))
        attach_witness(app, key)

        def sqlite_sql(statement: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement)

        yield Store(app, ["--data-dir", str(tmp_path)], sqlite_sql, "stored_events", "rowid")
    else:
        url: str = request.getfixturevalue("pg_url")
        app = new_dispatch(postgres_env(url))
        attach_witness(app, key)

        def pg_sql(statement: str) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(statement.encode())

        options = ["--database-url", url, "--data-dir", str(tmp_path)]  # the key's folder
        yield Store(app, options, pg_sql, "dispatch_events", "notification_id")
    app.close()


def _work(app: Dispatch) -> dict[str, int]:
    """Some history; returns the positions of a few events by name."""
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", home=Position(36.75, 3.06))
    incident = app.report_incident(
        location=Position(36.76, 3.07), address="", nature="fall", priority=Priority.C, actor="d"
    )
    app.add_note(incident, "first note", "d.ali")
    app.add_note(incident, "second note", "d.ali")
    app.assign_units(incident, [UnitChoice(unit)], "d.ali")
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew.a")
    rows = EventLog(app).scan(0, 100)
    notes = [r.position for r in rows if r.topic == "najda:Incident.NoteAdded"]
    en_route = next(r.position for r in rows if r.topic == "najda:Unit.StatusChanged")
    return {"note1": notes[0], "note2": notes[1], "en_route": en_route, "head": rows[-1].position}


def _verify(store: Store, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", *store.options])
    return code, capsys.readouterr().out


def _seal(store: Store) -> None:
    assert main(["audit", "seal", *store.options]) == 0


def test_an_untouched_store_verifies(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    marks = _work(store.app)
    _seal(store)
    incident = next(
        r.originator_id
        for r in EventLog(store.app).scan(0, 100)
        if r.topic == "najda:Incident.Reported"
    )
    store.app.add_note(incident, "late note", "d.ali")  # recorded after the seal

    code, out = _verify(store, capsys)

    assert code == 0, out
    assert f"checked {marks['head'] + 1} events: {marks['head']} sealed, 1 not sealed yet" in out
    assert "OK" in out


def test_verify_names_an_altered_event(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    marks = _work(store.app)
    _seal(store)
    at = marks["en_route"]
    if store.position == "rowid":
        text = "replace(CAST(state AS TEXT), 'crew.a', 'crew.b')"
        store.sql(f"UPDATE {store.table} SET state = CAST({text} AS BLOB) WHERE rowid = {at}")
    else:
        text = "replace(convert_from(state, 'UTF8'), 'crew.a', 'crew.b')"
        store.sql(
            f"UPDATE {store.table} SET state = convert_to({text}, 'UTF8')"
            f" WHERE notification_id = {at}"
        )

    code, out = _verify(store, capsys)

    assert code == 1
    assert f"FIRST PROBLEM: altered: event at position {at} " in out


def test_verify_names_a_removed_event(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    marks = _work(store.app)
    _seal(store)
    at = marks["note1"]
    store.sql(f"DELETE FROM {store.table} WHERE {store.position} = {at}")

    code, out = _verify(store, capsys)

    assert code == 1
    assert f"FIRST PROBLEM: removed: event at position {at}: " in out
    # The stream's versions now skip one too.
    assert f"out-of-sequence: event at position {marks['note2']}" in out


def test_verify_names_reordered_events(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    marks = _work(store.app)
    _seal(store)
    one, two = marks["note1"], marks["note2"]
    # Swap the two notes' places in the log (through a free position: ids are unique).
    column, spare = store.position, marks["head"] + 100
    for old, new in ((one, spare), (two, one), (spare, two)):
        store.sql(f"UPDATE {store.table} SET {column} = {new} WHERE {column} = {old}")

    code, out = _verify(store, capsys)

    assert code == 1
    assert f"FIRST PROBLEM: reordered: event at position {one} " in out, out
    assert f"holds the event sealed at position {two}" in out
    assert f"also reordered: event at position {two} " in out
    assert f"holds the event sealed at position {one}" in out


def test_sealing_twice_adds_nothing_and_the_chain_covers_every_row(store: Store) -> None:
    _work(store.app)
    key = store.app.recorder.audit_key  # type: ignore[attr-defined]
    sealer = Sealer(EventLog(store.app), key.public)

    assert sealer.seal_all() == EventLog(store.app).head()
    assert sealer.seal_all() == 0
    assert sealer.sealed_position() == EventLog(store.app).head()
