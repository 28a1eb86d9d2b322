"""Raw reads of the stored event rows (both stores): one stream, streams in a range, the log."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

_COLUMNS = "originator_id, originator_version, topic, state"


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One stored event row as it is in the table, with its notification position."""

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes

    def stored(self) -> StoredEvent:
        """The row as eventsourcing's StoredEvent (for the application's mapper)."""
        return StoredEvent(self.originator_id, self.version, self.topic, self.state)


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


#: The index of rows by stream and position that timelines use, and its DDL lock key.
STREAM_INDEX = "najda_events_stream_position"
STREAM_INDEX_LOCK_KEY = 0x4E534950  # "NSIP"

_ASSIGNED = "najda:Incident.UnitAssigned"
_ENDS = ("najda:Incident.Closed", "najda:Incident.Cancelled")
#: A position beyond any the log will reach (PostgreSQL bigint's maximum).
_END_OF_LOG = 2**63 - 1


def _span(own: Sequence[RawEvent], unit_ids: Sequence[UUID]) -> tuple[list[UUID], int, int] | None:
    """The units assigned to an incident and the positions their relevant rows lie within.

    Cancelling saves the incident's events, then one Released event per unit, in one save
    (contiguous positions): the span ends that many rows after the incident's last event.
    """
    first = next((r.position for r in own if r.topic == _ASSIGNED), None)
    if first is None:
        return None
    units = sorted(set(unit_ids), key=str)
    ended = any(r.topic in _ENDS for r in own)
    last = own[-1].position + len(units) if ended else _END_OF_LOG
    return units, first, last


def _raw(r: Any) -> RawEvent:
    return RawEvent(
        int(r["position"]),
        _uuid(r["originator_id"]),
        int(r["originator_version"]),
        r["topic"],
        _bytes(r["state"]),
    )


def _bytes(value: object) -> bytes:
    """The state column as bytes (a hand-edited SQLite row may hold text instead)."""
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"unexpected state column type {type(value).__name__}")


class SqlRunner:
    """Runs SQL written with `?` placeholders on a PostgreSQL or SQLite cursor."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def _args(self, sql: str, params: Sequence[object]) -> tuple[str, list[object]]:
        if self.postgres:
            return sql.replace("?", "%s"), list(params)
        return sql, [p.hex if isinstance(p, UUID) else p for p in params]

    def fetch(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        """All rows of a query (mappings by column name)."""
        statement, args = self._args(sql, params)
        if self.postgres:
            self.cursor.execute(statement, args, prepare=True)
        else:
            self.cursor.execute(statement, args)
        return list(self.cursor.fetchall())

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        """Run a statement."""
        statement, args = self._args(sql, params)
        self.cursor.execute(statement, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        """Run a statement once per row of parameters."""
        statement, _ = self._args(sql, ())
        self.cursor.executemany(statement, [self._args(sql, r)[1] for r in rows])


class EventLog:
    """Reads stored event rows straight from the recorder's table (SQLite or PostgreSQL).

    The application's own API returns stream events without their notification position,
    and notifications only in log order; the audit needs both at once, and the raw bytes.
    """

    def __init__(self, app: Application[Any]) -> None:
        self.app = app
        recorder: Any = app.recorder
        self._table: str = recorder.events_table_name
        self._datastore: Any = recorder.datastore
        self.postgres = isinstance(recorder, PostgresApplicationRecorder)
        if self.postgres:
            self._table = f'"{self._datastore.schema}"."{self._table}"'
            self._position = "notification_id"
        else:
            self._position = "rowid"

    @property
    def table(self) -> str:
        """The events table's (quoted, schema-qualified on PostgreSQL) name."""
        return self._table

    @property
    def position_column(self) -> str:
        """The column holding the notification position."""
        return self._position

    def decode(self, raw: RawEvent) -> Any:
        """The domain event a row holds."""
        return self.app.mapper.to_domain_event(raw.stored())

    @contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[SqlRunner]:
        """A transaction on the store's own connection (PostgreSQL or SQLite)."""
        with self._datastore.transaction(commit=commit) as cursor:
            yield SqlRunner(cursor, self.postgres)

    def rows(
        self, runner: SqlRunner, where: str, params: Sequence[object], tail: str = ""
    ) -> list[RawEvent]:
        """Rows matching `where` (with `?` placeholders), in log order."""
        sql = (
            f"SELECT {self._position} AS position, {_COLUMNS} FROM {self._table}"
            f" WHERE {where} ORDER BY {self._position}{tail}"
        )
        return [_raw(r) for r in runner.fetch(sql, params)]

    def _fetch(self, where: str, params: Sequence[object], tail: str = "") -> list[RawEvent]:
        if self.postgres:  # pool connections autocommit: one statement, one round trip
            with self._datastore.get_connection() as conn, conn.cursor() as cursor:
                return self.rows(SqlRunner(cursor, True), where, params, tail)
        with self.transaction() as runner:
            return self.rows(runner, where, params, tail)

    def incident_rows(self, incident_id: UUID) -> list[RawEvent]:
        """The incident's rows, then its units' rows from its first assignment to its end
        (to the head of the log while it is open), all in log order.

        Units join an incident in the same save as its UnitAssigned event and have all left
        it when it is closed or cancelled, so no row of theirs that belongs to the incident
        lies outside that span. On PostgreSQL this is one statement (one round trip).
        """
        if not self.postgres:
            own = self.stream(incident_id)
            span = _span(own, [self.decode(r).unit_id for r in own if r.topic == _ASSIGNED])
            if span is None:
                return own
            unit_ids, first, last = span
            return sorted(
                [*own, *self.streams_between(unit_ids, first, last)], key=lambda r: r.position
            )
        with self._datastore.get_connection() as conn, conn.cursor() as cursor:
            # Not prepared: a generic plan cannot see how few rows the incident has.
            cursor.execute(self._incident_sql, [incident_id], prepare=False)
            return [_raw(r) for r in cursor.fetchall()]

    def ensure_stream_index(self) -> None:
        """Index the rows by stream and position (PostgreSQL), for timelines' unit ranges.

        Created once, at the first start after an upgrade; on a large table the build
        holds up writes for a few seconds.
        """
        if not self.postgres:
            return  # SQLite's primary key index already carries the rowid
        with self.transaction(commit=True) as runner:
            runner.execute("SELECT pg_advisory_xact_lock(?)", [STREAM_INDEX_LOCK_KEY])
            runner.execute(
                f"CREATE INDEX IF NOT EXISTS {STREAM_INDEX} ON {self._table}"
                f" (originator_id, {self._position})"
            )

    @property
    def _incident_sql(self) -> str:
        # The unit ids are read from the UnitAssigned events' JSON: the transcoder stores a
        # UUID as {"_type_": "uuid_hex", "_data_": "<hex>"} (the timeline tests cover it).
        t, p = self._table, self._position
        return f"""
WITH own AS (
    SELECT {p} AS position, {_COLUMNS} FROM {t} WHERE originator_id = %s
), units AS (
    SELECT DISTINCT (convert_from(state, 'UTF8')::jsonb #>> '{{unit_id,_data_}}')::uuid AS id
    FROM own WHERE topic = '{_ASSIGNED}'
), span AS (
    SELECT min(position) FILTER (WHERE topic = '{_ASSIGNED}') AS first,
        CASE WHEN bool_or(topic IN ({", ".join(f"'{e}'" for e in _ENDS)}))
            THEN max(position) + (SELECT count(*) FROM units) ELSE {_END_OF_LOG} END AS last
    FROM own
)
SELECT * FROM own
UNION ALL
SELECT e.{p}, e.originator_id, e.originator_version, e.topic, e.state
FROM {t} AS e, span
WHERE e.originator_id IN (SELECT id FROM units) AND e.{p} BETWEEN span.first AND span.last
ORDER BY position"""

    def stream(self, originator_id: UUID) -> list[RawEvent]:
        """Every row of one aggregate, in log order."""
        return self._fetch("originator_id = ?", [originator_id])

    def streams_between(
        self, originator_ids: Sequence[UUID], first: int, last: int
    ) -> list[RawEvent]:
        """The rows of these aggregates at positions first..last (inclusive), in log order."""
        if not originator_ids:
            return []
        if self.postgres:
            where = f"originator_id = ANY(?) AND {self._position} BETWEEN ? AND ?"
            return self._fetch(where, [list(originator_ids), first, last])
        marks = ", ".join("?" for _ in originator_ids)
        where = f"originator_id IN ({marks}) AND {self._position} BETWEEN ? AND ?"
        return self._fetch(where, [*originator_ids, first, last])

    def scan(self, after: int, limit: int) -> list[RawEvent]:
        """Up to `limit` rows after position `after`, in log order."""
        return self._fetch(f"{self._position} > ?", [after], f" LIMIT {int(limit)}")

    def head(self) -> int:
        """The highest position in the table (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)
