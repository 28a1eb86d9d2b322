"""Tamper evidence against an insider with database access (both stores): signed checkpoints
outside the database catch a trimmed or re-chained log, witnesses catch a forged append, and
the sealer never seals a row the application did not write."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from najda.api.cli import main
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.audit.hashchain import GENESIS, link
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.checkpoint import load_checkpoints
from najda.projections.audit.seal import SEAL_TABLE, Sealer, digest_of
from najda.projections.audit.signing_key import AuditKey, load_or_create_key
from najda.projections.audit.verify import Trust, verify
from najda.projections.audit.witness import attach_witness, witness_message
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.projections.store.event_rows import EventLog, RawEvent
from tests.fakes import new_dispatch


@dataclass
class Store:
    """A witnessing app on a real store, the CLI options naming it, raw SQL as an insider."""

    app: Dispatch
    key: AuditKey
    options: list[str]
    sql: Callable[[str, tuple[object, ...]], None]
    table: str
    position: str
    checkpoints: Path

    def insert_event(self, raw: RawEvent) -> None:
        """An insider's INSERT of an event row, beside the application."""
        ident: object = raw.originator_id.hex if self.position == "rowid" else raw.originator_id
        self.sql(
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state)"
            " VALUES (?, ?, ?, ?)",
            (ident, raw.version, raw.topic, raw.state),
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    key = load_or_create_key(tmp_path / "audit" / "najda-audit.key")  # where the CLI looks
    options = ["--data-dir", str(tmp_path)]
    if request.param == "sqlite":
        path = tmp_path / "najda.sqlite"
        app = new_dispatch(sqlite_env(path))

        def sqlite_sql(statement: str, params: tuple[object, ...] = ()) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement, params)

        sql, table, position = sqlite_sql, "stored_events", "rowid"
    else:
        url: str = request.getfixturevalue("pg_url")
        app = new_dispatch(postgres_env(url))

        def pg_sql(statement: str, params: tuple[object, ...] = ()) -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(statement.replace("?", "%s").encode(), params)

        sql, table, position = pg_sql, "dispatch_events", "notification_id"
        options += ["--database-url", url]
    attach_witness(app, key)
    yield Store(app, key, options, sql, table, position, tmp_path / "checkpoints")
    app.close()


def _work(app: Dispatch) -> dict[str, int]:
    """Some history; the positions of a few events by name."""
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", home=Position(36.75, 3.06))
    incident = app.report_incident(
        location=Position(36.76, 3.07), address="", nature="fall", priority=Priority.C, actor="d"
    )
    app.add_note(incident, "first note", "d.ali")
    app.assign_units(incident, [UnitChoice(unit)], "d.ali")
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew.a")
    app.add_note(incident, "second note", "d.ali")
    rows = EventLog(app).scan(0, 100)
    en_route = next(r.position for r in rows if r.topic == "najda:Unit.StatusChanged")
    return {"en_route": en_route, "head": rows[-1].position}


def _cli(store: Store, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, *store.options])
    return code, capsys.readouterr().out


def _seal(store: Store, capsys: pytest.CaptureFixture[str]) -> str:
    code, out = _cli(store, capsys, "audit", "seal")
    assert code == 0, out
    return out


def _alter(store: Store, at: int) -> None:
    """Change the event at `at` by hand (the crew's name in a status change)."""
    if store.position == "rowid":
        text = "replace(CAST(state AS TEXT), 'crew.a', 'crew.b')"
        store.sql(f"UPDATE {store.table} SET state = CAST({text} AS BLOB) WHERE rowid = {at}", ())
    else:
        text = "replace(convert_from(state, 'UTF8'), 'crew.a', 'crew.b')"
        store.sql(
            f"UPDATE {store.table} SET state = convert_to({text}, 'UTF8')"
            f" WHERE notification_id = {at}",
            (),
        )


def _forge_note(store: Store, text: str) -> int:
    """Append, by SQL, a note on the incident as if the application had recorded it."""
    rows = EventLog(store.app).scan(0, 1000)
    note = next(r for r in reversed(rows) if r.topic == "najda:Incident.NoteAdded")
    last = max(r.version for r in rows if r.originator_id == note.originator_id)
    state = note.state.replace(b"second note", text.encode())
    store.insert_event(RawEvent(0, note.originator_id, last + 1, note.topic, state))
    return EventLog(store.app).head()


def _sealed_positions(store: Store) -> set[int]:
    with EventLog(store.app).transaction() as runner:
        return {int(r["position"]) for r in runner.fetch(f"SELECT position FROM {SEAL_TABLE}")}


def test_a_good_chain_verifies_against_its_signed_checkpoint(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    marks = _work(store.app)
    out = _seal(store, capsys)
    assert f"sealed {marks['head']} events" in out
    checkpoint = store.checkpoints / f"checkpoint-{marks['head']:020d}.json"
    assert f"signed checkpoint {checkpoint}" in out
    assert checkpoint.stat().st_mode & 0o777 == 0o600
    incident = next(
        r.originator_id
        for r in EventLog(store.app).scan(0, 100)
        if r.topic == "najda:Incident.Reported"
    )
    store.app.add_note(incident, "late note", "d.ali")  # recorded after the checkpoint

    code, out = _cli(store, capsys, "audit", "verify")

    assert code == 0, out
    assert f"{marks['head']} sealed, 1 not sealed yet" in out
    assert f"newest signed checkpoint: position {marks['head']}" in out
    assert "OK: no event was altered" in out


def _tamper_and_trim(store: Store, capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    """Seal and checkpoint some history; then, as an insider, alter an event and delete the
    seal rows from it on (the chain in the database is consistent again, only shorter).
    Returns the altered position and the checkpoint's."""
    marks = _work(store.app)
    _seal(store, capsys)
    at = marks["en_route"]
    _alter(store, at)
    store.sql(f"DELETE FROM {SEAL_TABLE} WHERE position >= {at}", ())
    return at, marks["head"]


def test_a_tampered_then_trimmed_chain_is_detected(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    at, head = _tamper_and_trim(store, capsys)

    code, out = _cli(store, capsys, "audit", "verify")

    assert code == 1, out
    assert f"truncated: checkpoint-{head:020d}.json signed the chain up to" in out
    assert f"the store's chain ends at position {at - 1}" in out
    assert f"FIRST PROBLEM: forged: event at position {at} " in out  # the altered one
    assert "its content differs from what the application wrote" in out

    # The next start seals what it finds: never the altered row, so the chain stays broken.
    _seal(store, capsys)
    assert at not in _sealed_positions(store)
    code, out = _cli(store, capsys, "audit", "verify")
    assert code == 1, out
    assert f"rewritten: the chain at position {head} differs from the one signed" in out


def test_a_rechained_log_differs_from_the_signed_checkpoint(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    at, head = _tamper_and_trim(store, capsys)
    # The insider recomputes every seal from the altered event on, as the old sealer would.
    with EventLog(store.app).transaction() as runner:
        chain = Sealer(EventLog(store.app), store.key.public).head(runner)[1]
    for raw in EventLog(store.app).scan(at - 1, 100):
        digest = digest_of(raw)
        chain = link(chain, raw.position, digest)
        store.sql(
            f"INSERT INTO {SEAL_TABLE} (position, digest, chain) VALUES (?, ?, ?)",
            (raw.position, digest, chain),
        )

    code, out = _cli(store, capsys, "audit", "verify")

    assert code == 1, out
    assert f"rewritten: the chain at position {head} differs from the one signed" in out
    assert f"forged: event at position {at} " not in out  # before the checkpoint: the chain


def test_a_forged_append_is_detected_and_never_sealed(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _work(store.app)
    _seal(store, capsys)
    forged = _forge_note(store, "patient refused transport")

    code, out = _cli(store, capsys, "audit", "verify")
    assert code == 1, out
    assert f"FIRST PROBLEM: forged: event at position {forged} " in out
    assert "the application did not write it" in out

    # The next start (the server's sealer, then a manual seal) passes over it.
    assert Sealer(EventLog(store.app), store.key.public).seal_all() == 0
    _seal(store, capsys)
    assert forged not in _sealed_positions(store)
    incident = next(
        r.originator_id
        for r in EventLog(store.app).scan(0, 100)
        if r.topic == "najda:Incident.Reported"
    )
    unit = next(r for r in EventLog(store.app).scan(0, 100) if r.topic == "najda:Unit.Registered")
    store.app.update_unit_status(unit.originator_id, UnitStatus.ON_SCENE, "crew.a")
    store.app.add_note(incident, "genuine, after the forgery", "d.ali")  # version after it
    _seal(store, capsys)
    assert EventLog(store.app).head() in _sealed_positions(store)  # genuine rows still are
    code, out = _cli(store, capsys, "audit", "verify")
    assert code == 1, out
    assert f"forged: event at position {forged} " in out
    assert f"inserted: event at position {forged} " in out


def test_a_forged_witness_does_not_make_a_forgery_genuine(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _work(store.app)
    _seal(store, capsys)
    forged = _forge_note(store, "forged")
    intruder = load_or_create_key(store.checkpoints.parent / "intruder" / "key")
    digest = digest_of(EventLog(store.app).scan(forged - 1, 1)[0])
    rows = f"{forged} {digest}"
    store.sql(
        "INSERT INTO najda_witness (first_position, last_position, rows, signature)"
        " VALUES (?, ?, ?, ?)",
        (forged, forged, rows, intruder.sign(witness_message(rows))),
    )

    assert Sealer(EventLog(store.app), store.key.public).seal_all() == 0
    code, out = _cli(store, capsys, "audit", "verify")
    assert code == 1 and f"forged: event at position {forged} " in out, out


def test_a_checkpoint_signed_by_another_key_is_refused(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _work(store.app)
    _seal(store, capsys)
    made = next(store.checkpoints.glob("checkpoint-*.json"))
    made.write_text(made.read_text().replace('"chain": "', '"chain": "0'))

    loaded = load_checkpoints(store.checkpoints, store.key.public)
    code, out = _cli(store, capsys, "audit", "verify")

    assert loaded.valid == [] and loaded.refused[0][0] == made
    assert code == 1, out
    assert "checkpoint-refused:" in out and "signature does not match" in out


def test_events_left_unsealed_too_long_fail_verification(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    _work(store.app)
    public = store.key.public
    log = EventLog(store.app)
    fresh = Trust(public, load_checkpoints(store.checkpoints, public), timedelta(minutes=5))
    later = datetime.now(UTC) + timedelta(minutes=6)

    assert verify(log, replace(fresh, now=datetime.now(UTC))).ok
    result = verify(log, replace(fresh, now=later))

    assert [f.kind for f in result.findings] == ["unsealed-too-long"]
    assert result.unsealed == log.head() and result.sealed == 0
    assert result.chain_head == GENESIS
    # From the command line, with the age given (the events are older than a millisecond).
    code, out = _cli(store, capsys, "audit", "verify", "--max-unsealed-age", "0.001")
    assert code == 1 and f"unsealed-too-long: {log.head()} events are not sealed" in out, out
