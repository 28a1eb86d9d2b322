"""Witnesses: the application signs the rows it records, in the same transaction as the rows.

A row the application wrote has a witness: a `najda_witness` row, written by the recorder in
the transaction that inserts the events, holding each new row's position and digest and an
Ed25519 signature over them by the audit key (kept outside the store). A row written by
anything else (SQL by hand, another program) has none, and one altered afterwards no longer
matches its witness. The sealer seals witnessed rows only; `najda audit verify` names the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL

from najda.domain.audit.hashchain import row_digest
from najda.projections.audit.signing_key import AuditKey, PublicKey
from najda.projections.store.event_rows import EventLog, SqlRunner

WITNESS_TABLE = "najda_witness"
WITNESS_LOCK_KEY = 0x4E575454  # "NWTT": held while creating the table on PostgreSQL
_HEADER = b"najda-witness/1\n"

_CREATE = {
    True: f"CREATE TABLE IF NOT EXISTS {WITNESS_TABLE} (first_position bigint PRIMARY KEY,"
    " last_position bigint NOT NULL, rows text NOT NULL, signature text NOT NULL)",
    False: f"CREATE TABLE IF NOT EXISTS {WITNESS_TABLE} (first_position INTEGER PRIMARY KEY,"
    " last_position INTEGER NOT NULL, rows TEXT NOT NULL, signature TEXT NOT NULL)",
}
_INSERT = {
    True: f"INSERT INTO {WITNESS_TABLE} (first_position, last_position, rows, signature)"
    " VALUES (%s, %s, %s, %s)",
    False: f"INSERT INTO {WITNESS_TABLE} (first_position, last_position, rows, signature)"
    " VALUES (?, ?, ?, ?)",
}


def rows_text(entries: Sequence[tuple[int, str]]) -> str:
    """The witnessed rows as text: `position digest` a line, in position order."""
    return "\n".join(f"{position} {digest}" for position, digest in entries)


def witness_message(rows: str) -> bytes:
    """The bytes a witness signature covers."""
    return _HEADER + rows.encode("ascii")


def witness_row(
    key: AuditKey, ids: Sequence[int], stored: Sequence[StoredEvent]
) -> tuple[int, int, str, str]:
    """The witness of one save: positions `ids` of the `stored` events, signed."""
    entries = sorted(
        (int(position), row_digest(_uuid(s), s.originator_version, s.topic, s.state))
        for position, s in zip(ids, stored, strict=True)
    )
    text = rows_text(entries)
    return entries[0][0], entries[-1][0], text, key.sign(witness_message(text))


def _uuid(s: StoredEvent) -> UUID:
    return s.originator_id if isinstance(s.originator_id, UUID) else UUID(str(s.originator_id))


class WitnessingSQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite recorder that writes a witness of each save in the save's own transaction."""

    audit_key: AuditKey | None = None

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), _CREATE[False]]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if self.audit_key is not None and ids:
            c.execute(_INSERT[False], witness_row(self.audit_key, ids, stored_events))
        return ids


class WitnessingPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL recorder that writes a witness of each save in the save's own transaction
    (under the events table's lock, so positions and witnesses commit together)."""

    audit_key: AuditKey | None = None

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements.append(SQL(cast(Any, _CREATE[True])).format())

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if self.audit_key is not None and ids:
            curs.execute(_INSERT[True], witness_row(self.audit_key, ids, stored_events))
        return ids


def attach_witness(app: Any, key: AuditKey) -> None:
    """Make the application witness every save with `key` from now on."""
    recorder = app.recorder
    if not isinstance(recorder, WitnessingSQLiteRecorder | WitnessingPostgresRecorder):
        raise TypeError(f"{type(recorder).__name__} cannot witness its writes")
    recorder.audit_key = key


def ensure_witness_table(log: EventLog) -> None:
    """Create the witness table (stores made before witnesses existed lack it)."""
    with log.transaction(commit=True) as runner:
        if log.postgres:  # processes starting together must not race on the DDL
            runner.execute("SELECT pg_advisory_xact_lock(?)", [WITNESS_LOCK_KEY])
        runner.execute(_CREATE[log.postgres])


@dataclass(frozen=True)
class Witnessed:
    """What the witnesses in a range of positions vouch for."""

    digests: dict[int, str]  # position -> digest, from witnesses with a valid signature
    bad_signatures: list[int]  # first positions of witnesses whose signature fails


def witnessed(runner: SqlRunner, public: PublicKey, first: int, last: int) -> Witnessed:
    """The digests the application witnessed for positions first..last (inclusive)."""
    found = runner.fetch(
        f"SELECT first_position, rows, signature FROM {WITNESS_TABLE}"
        " WHERE last_position >= ? AND first_position <= ? ORDER BY first_position",
        [first, last],
    )
    digests: dict[int, str] = {}
    bad: list[int] = []
    for r in found:
        text = str(r["rows"])
        if not public.verify(str(r["signature"]), witness_message(text)):
            bad.append(int(r["first_position"]))
            continue
        for line in text.splitlines():
            position, digest = line.split(" ", 1)
            digests[int(position)] = digest
    return Witnessed(digests, bad)


def write_witnesses(runner: SqlRunner, key: AuditKey, entries: Sequence[tuple[int, str]]) -> None:
    """Witness rows that have none (an operator adopting rows written without a key)."""
    ordered = sorted(entries)
    if not ordered:
        return
    text = rows_text(ordered)
    runner.execute(
        _INSERT[False], [ordered[0][0], ordered[-1][0], text, key.sign(witness_message(text))]
    )


def adopt_unwitnessed(log: EventLog, key: AuditKey, after: int) -> int:
    """Witness with `key` the rows after position `after` that carry no witness: the
    operator vouching for rows written without the key (returns how many)."""
    adopted = 0
    while rows := log.scan(after, 5000):
        with log.transaction(commit=True) as runner:
            known = witnessed(runner, key.public, rows[0].position, rows[-1].position)
            orphans = [
                (r.position, row_digest(r.originator_id, r.version, r.topic, r.state))
                for r in rows
                if r.position not in known.digests
            ]
            write_witnesses(runner, key, orphans)
        adopted += len(orphans)
        after = rows[-1].position
    return adopted
