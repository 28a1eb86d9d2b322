"""A fast reader of the PostgreSQL event log for full rebuilds: asyncpg rows, lazy decoding.

The application's mapper builds every event object in full (about 50 µs an event here); a
rebuild reads millions of them and the read models use a few fields of each. This reader
parses the state with the C JSON decoder and decodes a transcoded field (time, UUID,
position) only when a read model reads it. It serves events stored as plain JSON, which is
how Dispatch stores them (no compression or encryption configured); anything else falls
back to the mapper.
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder

from najda.domain.values import Position
from najda.projections.base import Tracked
from najda.projections.store.postgis_pool import Pool

_new = object.__new__
_set = object.__setattr__


def stored_position(data: Any) -> Position:
    """A Position read back from the log: checked when it was recorded, not again (the
    check is a third of a unit event's translation in a rebuild)."""
    position: Position = _new(Position)
    _set(position, "lat", float(data[0]))
    _set(position, "lon", float(data[1]))
    return position


_fromisoformat = datetime.fromisoformat

_DECODERS: dict[str, Callable[[Any], Any]] = {
    "datetime_iso": datetime.fromisoformat,
    "uuid_hex": lambda data: UUID(hex=data),
    "position": stored_position,
}


class LightEvent:
    """A stored event's fields, decoded on first access (a read-only view for read models)."""

    TOPIC: ClassVar[str] = ""
    _fallback: ClassVar[Callable[[Any], Any] | None] = None

    def __init__(self, originator_id: UUID, version: int, fields: dict[str, Any]) -> None:
        self.originator_id = originator_id
        self.originator_version = version
        self._fields = fields
        # Every read model reads `at`: decoded here, it costs no __getattr__ call.
        at = fields.get("at")
        if type(at) is dict and at.get("_type_") == "datetime_iso":
            self.at = _fromisoformat(at["_data_"])

    def __getattr__(self, name: str) -> Any:
        try:
            value = self.__dict__["_fields"][name]
        except KeyError:
            raise AttributeError(name) from None
        if isinstance(value, dict) and "_type_" in value:
            decoder = _DECODERS.get(value["_type_"])
            if decoder is not None:
                value = decoder(value["_data_"])
            elif LightEvent._fallback is not None:
                value = LightEvent._fallback(value)
        self.__dict__[name] = value
        return value


class Skipped:
    """Stands for an event a read model need not see; no read model reacts to its topic."""

    TOPIC = "najda:Rebuild.Skipped"
    originator_id = UUID(int=0)


SKIPPED = Skipped()

_CLASSES: dict[str, type[LightEvent]] = {}

#: The C JSON scanner itself: json.loads adds an encoding check and two regex matches per
#: call, a fifth of the decoding time of these small documents. Stored states are JSON
#: objects written by the transcoder, without surrounding whitespace.
_SCAN: Any = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def parse_state(state: bytes) -> Any:
    """A stored state's JSON object: orjson reads the bytes as they come, about twice as
    fast as the standard scanner; what it refuses (a NaN, an integer past 64 bits, both of
    which the standard encoder writes) is read by the standard scanner."""
    try:
        return orjson.loads(state)
    except orjson.JSONDecodeError:
        return _SCAN(state.decode(), 0)[0]


def _event_class(topic: str) -> type[LightEvent]:
    """A LightEvent subclass per topic, so that `type(event).TOPIC` names it as usual."""
    cls = _CLASSES.get(topic)
    if cls is None:
        cls = type(f"Light[{topic}]", (LightEvent,), {"TOPIC": topic})
        _CLASSES[topic] = cls
    return cls


_READ_SQL = """
SELECT notification_id, originator_id, originator_version, topic, state FROM {table}
WHERE notification_id > $1 ORDER BY notification_id LIMIT $2
"""


class FastLogReader:
    """Reads the notification log of a PostgreSQL Dispatch store through an asyncpg pool."""

    def __init__(self, app: Application[Any], pool: Pool, *, skip: Collection[UUID] = ()) -> None:
        recorder: Any = app.recorder
        if not isinstance(recorder, PostgresApplicationRecorder):
            raise ValueError("the fast log reader reads PostgreSQL stores only")
        self.pool = pool
        self.mapper = app.mapper
        #: Incidents whose events are not decoded (a rebuild's ended incidents): each of
        #: their events is read as SKIPPED, keeping its position.
        self.skip = skip
        self.plain = getattr(app.mapper, "cipher", None) is None and (
            getattr(app.mapper, "compressor", None) is None
        )
        transcoder: Any = app.mapper.transcoder
        LightEvent._fallback = staticmethod(
            lambda value: transcoder.decode(json.dumps(value).encode())
        )
        self._table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        self._sql = _READ_SQL.format(table=self._table)

    async def read(self, after: int, limit: int) -> list[Tracked]:
        """Up to `limit` events after position `after`, in log order."""
        rows = await self.pool.fetch(self._sql, after, limit)
        if not self.plain:
            from eventsourcing.persistence import StoredEvent

            to_event = self.mapper.to_domain_event
            return [Tracked(r[0], to_event(StoredEvent(r[1], r[2], r[3], r[4]))) for r in rows]
        parse = parse_state
        skip = self.skip
        classes = _CLASSES
        return [
            Tracked(r[0], SKIPPED)
            if r[1] in skip and r[3].startswith("najda:Incident.")
            else Tracked(
                r[0],
                (classes.get(r[3]) or _event_class(r[3]))(r[1], r[2], parse(r[4])),
            )
            for r in rows
        ]

    async def ended_incidents(self, until: int) -> set[UUID]:
        """Incidents closed or cancelled at or before position `until`."""
        table = self._table
        rows = await self.pool.fetch(
            f"SELECT originator_id FROM {table} WHERE notification_id <= $1"
            " AND topic = ANY($2::text[])",
            until,
            ["najda:Incident.Closed", "najda:Incident.Cancelled"],
        )
        return {r[0] for r in rows}

    async def head(self) -> int:
        """The highest position in the log (0 when empty)."""
        table = self._table
        return int(
            await self.pool.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {table}")
        )
