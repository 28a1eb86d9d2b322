"""PostGIS read models written through asyncpg: unit locator (GiST KNN) and incident board."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self
from uuid import UUID

import asyncpg

from domain.values import Priority, UnitKind, UnitStatus
from geo.speed import SpeedModel
from projections.base import Tracked
from projections.changes import (
    BoardChange,
    BoardRow,
    BoardUnit,
    BoardUnitStatus,
    IncidentEnded,
    IncidentOpened,
    IncidentPatched,
    IncidentUnitAdded,
    IncidentUnitRemoved,
    UnitMoved,
    UnitRow,
    UnitStatusSet,
    UnitUpserted,
    board_change,
    locator_change,
    next_incident_id,
)
from projections.locator import Candidate, Query, rank
from projections.stores import asyncpg_dsn

#: Advisory lock key held while creating the schema ("NAJDA" in ASCII).
DDL_LOCK_KEY = 0x4E414A4441

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE TABLE IF NOT EXISTS najda_tracking (
    name text PRIMARY KEY,
    position bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS najda_unit_locator (
    unit_id uuid PRIMARY KEY,
    call_sign text NOT NULL,
    kind text NOT NULL,
    capabilities text[] NOT NULL,
    station_id uuid,
    status text NOT NULL,
    incident_id uuid,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    geom geography(Point, 4326) NOT NULL
        GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography) STORED,
    position_at timestamptz NOT NULL,
    status_at timestamptz NOT NULL
);
-- Only available units are ever searched: a partial GiST index serves the KNN query and
-- costs far less to maintain than a full one under a stream of position updates.
CREATE INDEX IF NOT EXISTS najda_unit_locator_available_geom
    ON najda_unit_locator USING gist (geom) WHERE status = 'available';
CREATE TABLE IF NOT EXISTS najda_incident_board (
    incident_id uuid PRIMARY KEY,
    priority text NOT NULL,
    priority_rank smallint NOT NULL,
    determinant text NOT NULL,
    nature text NOT NULL,
    address text NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    source text NOT NULL,
    call_received_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    dispatched boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS najda_incident_board_order
    ON najda_incident_board (priority_rank DESC, call_received_at, incident_id);
CREATE TABLE IF NOT EXISTS najda_incident_board_unit (
    incident_id uuid NOT NULL REFERENCES najda_incident_board ON DELETE CASCADE,
    seq integer NOT NULL,
    unit_id uuid NOT NULL,
    call_sign text NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE TABLE IF NOT EXISTS najda_board_unit_incident (
    unit_id uuid PRIMARY KEY,
    incident_id uuid NOT NULL
);
"""

_UNIT_COLUMNS = (
    "unit_id, call_sign, kind, capabilities, station_id, status, incident_id,"
    " lat, lon, position_at, status_at"
)

_NEAREST = f"""
SELECT {_UNIT_COLUMNS}, geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS approx_m
FROM najda_unit_locator
WHERE status = 'available'
  AND ($3::text[] IS NULL OR kind = ANY($3::text[]))
  AND capabilities @> $4::text[]
  AND NOT unit_id = ANY($5::uuid[])
ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography
LIMIT $6
"""

_UPSERT_UNIT = f"""
INSERT INTO najda_unit_locator ({_UNIT_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (unit_id) DO UPDATE SET
    call_sign = EXCLUDED.call_sign, kind = EXCLUDED.kind,
    capabilities = EXCLUDED.capabilities, station_id = EXCLUDED.station_id,
    status = EXCLUDED.status, incident_id = EXCLUDED.incident_id,
    lat = EXCLUDED.lat, lon = EXCLUDED.lon,
    position_at = EXCLUDED.position_at, status_at = EXCLUDED.status_at
"""

_SET_STATUSES = """
UPDATE najda_unit_locator AS u
SET status = c.status,
    incident_id = CASE WHEN c.keep THEN u.incident_id ELSE c.incident_id END,
    status_at = c.at
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::boolean[], $5::timestamptz[])
    AS c(unit_id, status, incident_id, keep, at)
WHERE u.unit_id = c.unit_id
"""

_MOVE_UNITS = """
UPDATE najda_unit_locator AS u
SET lat = c.lat, lon = c.lon, position_at = c.at
FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::timestamptz[]) AS c(unit_id, lat, lon, at)
WHERE u.unit_id = c.unit_id AND u.position_at < c.at
"""

_BOARD_COLUMNS = (
    "incident_id, priority, determinant, nature, address, lat, lon, source,"
    " call_received_at, updated_at, dispatched"
)

_UPSERT_INCIDENTS = f"""
INSERT INTO najda_incident_board ({_BOARD_COLUMNS}, priority_rank)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::float8[], $7::float8[], $8::text[], $9::timestamptz[], $10::timestamptz[],
    $11::boolean[], $12::smallint[])
ON CONFLICT (incident_id) DO UPDATE SET
    priority = EXCLUDED.priority, priority_rank = EXCLUDED.priority_rank,
    determinant = EXCLUDED.determinant, nature = EXCLUDED.nature,
    address = EXCLUDED.address, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
    source = EXCLUDED.source, call_received_at = EXCLUDED.call_received_at,
    updated_at = EXCLUDED.updated_at, dispatched = EXCLUDED.dispatched
"""

_INSERT_BOARD_UNITS = """
INSERT INTO najda_incident_board_unit (incident_id, seq, unit_id, call_sign, kind, status)
SELECT * FROM unnest($1::uuid[], $2::integer[], $3::uuid[], $4::text[], $5::text[], $6::text[])
"""

_UPSERT_UNIT_INCIDENTS = """
INSERT INTO najda_board_unit_incident (unit_id, incident_id)
SELECT * FROM unnest($1::uuid[], $2::uuid[])
ON CONFLICT (unit_id) DO UPDATE SET incident_id = EXCLUDED.incident_id
"""

Record = Mapping[str, Any]


# --- tracking -------------------------------------------------------------------------


async def _lock_tracking(conn: Any, name: str) -> int:
    """The projection's position, row-locked until the transaction ends (created at 0)."""
    select = "SELECT position FROM najda_tracking WHERE name = $1 FOR UPDATE"
    position = await conn.fetchval(select, name)
    if position is None:
        await conn.execute(
            "INSERT INTO najda_tracking (name, position) VALUES ($1, 0) ON CONFLICT DO NOTHING",
            name,
        )
        position = await conn.fetchval(select, name)
    return int(position)


async def _read_tracking(pool: Any, name: str) -> int:
    position = await pool.fetchval("SELECT position FROM najda_tracking WHERE name = $1", name)
    return int(position or 0)


async def _write_tracking(conn: Any, name: str, position: int) -> None:
    await conn.execute("UPDATE najda_tracking SET position = $2 WHERE name = $1", name, position)


# --- unit locator ---------------------------------------------------------------------


@dataclass(frozen=True)
class _NetStatus:
    """Several status changes of one unit folded into one (incident kept or set)."""

    status: UnitStatus
    at: datetime
    keep_incident: bool
    incident_id: UUID | None


def _net_status(change: UnitStatusSet, before: _NetStatus | None = None) -> _NetStatus:
    """The effect of `before` then `change`, as next_incident_id defines it."""
    if not change.status.is_committed:
        return _NetStatus(change.status, change.at, False, None)
    if change.incident_id is not None:
        return _NetStatus(change.status, change.at, False, change.incident_id)
    if before is None:
        return _NetStatus(change.status, change.at, True, None)
    return _NetStatus(change.status, change.at, before.keep_incident, before.incident_id)


def _unit_row(r: Record) -> UnitRow:
    return UnitRow(
        unit_id=r["unit_id"],
        call_sign=r["call_sign"],
        kind=UnitKind(r["kind"]),
        capabilities=tuple(r["capabilities"]),
        station_id=r["station_id"],
        status=UnitStatus(r["status"]),
        incident_id=r["incident_id"],
        lat=r["lat"],
        lon=r["lon"],
        position_at=r["position_at"],
        status_at=r["status_at"],
    )


def _unit_args(row: UnitRow) -> tuple[object, ...]:
    return (
        row.unit_id,
        row.call_sign,
        row.kind.value,
        list(row.capabilities),
        row.station_id,
        row.status.value,
        row.incident_id,
        row.lat,
        row.lon,
        row.position_at,
        row.status_at,
    )


class PostgisLocator:
    """Unit locator in a PostGIS table; nearest units by `ORDER BY geom <-> point`."""

    name = "unit_locator"

    def __init__(self, pool: Any, speed: SpeedModel | None = None) -> None:
        self.pool = pool
        self.speed = speed or SpeedModel()

    async def position(self) -> int:
        return await _read_tracking(self.pool, self.name)

    async def reset(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("TRUNCATE najda_unit_locator")
            await conn.execute("DELETE FROM najda_tracking WHERE name = $1", self.name)

    async def apply(self, batch: Sequence[Tracked]) -> None:
        if not batch:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            current = await _lock_tracking(conn, self.name)
            fresh = [item for item in batch if item.position > current]
            if not fresh:
                return
            await self._write(conn, (locator_change(item) for item in fresh))
            await _write_tracking(conn, self.name, fresh[-1].position)

    async def _write(
        self, conn: Any, changes: Iterable[UnitUpserted | UnitStatusSet | UnitMoved | None]
    ) -> None:
        """Fold a batch's changes per unit, then write them in three statements."""
        registered: dict[UUID, UnitRow] = {}  # rows created in this batch, folded in memory
        statuses: dict[UUID, _NetStatus] = {}
        moves: dict[UUID, UnitMoved] = {}
        for change in changes:
            if change is None:
                continue
            if isinstance(change, UnitUpserted):
                unit_id = change.row.unit_id
                registered[unit_id] = change.row
                statuses.pop(unit_id, None)
                moves.pop(unit_id, None)
            elif change.unit_id in registered:
                registered[change.unit_id] = _fold(registered[change.unit_id], change)
            elif isinstance(change, UnitStatusSet):
                before = statuses.get(change.unit_id)
                statuses[change.unit_id] = _net_status(change, before)
            else:
                held = moves.get(change.unit_id)
                if held is None or change.at > held.at:
                    moves[change.unit_id] = change
        if registered:
            await conn.executemany(
                _UPSERT_UNIT, [_unit_args(registered[k]) for k in sorted(registered)]
            )
        if statuses:
            keys = sorted(statuses)
            nets = [statuses[k] for k in keys]
            await conn.execute(
                _SET_STATUSES,
                keys,
                [n.status.value for n in nets],
                [n.incident_id for n in nets],
                [n.keep_incident for n in nets],
                [n.at for n in nets],
            )
        if moves:
            keys = sorted(moves)
            ms = [moves[k] for k in keys]
            await conn.execute(
                _MOVE_UNITS, keys, [m.lat for m in ms], [m.lon for m in ms], [m.at for m in ms]
            )

    async def update_position(self, unit_id: UUID, lat: float, lon: float, at: datetime) -> bool:
        status = await self.pool.execute(
            "UPDATE najda_unit_locator SET lat = $2, lon = $3, position_at = $4"
            " WHERE unit_id = $1 AND position_at < $4",
            unit_id,
            lat,
            lon,
            at,
        )
        return bool(status == "UPDATE 1")

    async def get(self, unit_id: UUID) -> UnitRow | None:
        r = await self.pool.fetchrow(
            f"SELECT {_UNIT_COLUMNS} FROM najda_unit_locator WHERE unit_id = $1", unit_id
        )
        return None if r is None else _unit_row(r)

    async def all_units(self) -> list[UnitRow]:
        records = await self.pool.fetch(
            f"SELECT {_UNIT_COLUMNS} FROM najda_unit_locator"
            ' ORDER BY call_sign COLLATE "C", unit_id'
        )
        return [_unit_row(r) for r in records]

    async def nearest(self, query: Query) -> list[Candidate]:
        kinds = None if query.kinds is None else sorted(k.value for k in query.kinds)
        capabilities = sorted(query.capabilities)
        exclude = sorted(query.exclude)
        fetch = max(2 * query.limit, query.limit + 8)
        while True:
            records = await self.pool.fetch(
                _NEAREST, query.lon, query.lat, kinds, capabilities, exclude, fetch
            )
            bound = float(records[-1]["approx_m"]) if len(records) == fetch else None
            ranked = rank(query, [_unit_row(r) for r in records], self.speed, bound)
            if ranked is not None:
                return ranked
            fetch *= 4


def _fold(row: UnitRow, change: UnitStatusSet | UnitMoved) -> UnitRow:
    """One change applied to a row held in memory (the embedded locator's rule)."""
    if isinstance(change, UnitStatusSet):
        return replace(
            row,
            status=change.status,
            incident_id=next_incident_id(row.incident_id, change),
            status_at=change.at,
        )
    if change.at > row.position_at:
        return replace(row, lat=change.lat, lon=change.lon, position_at=change.at)
    return row


# --- incident board -------------------------------------------------------------------


def _board_row(r: Record, units: Sequence[BoardUnit]) -> BoardRow:
    return BoardRow(
        incident_id=r["incident_id"],
        priority=Priority(r["priority"]),
        determinant=r["determinant"],
        nature=r["nature"],
        address=r["address"],
        lat=r["lat"],
        lon=r["lon"],
        source=r["source"],
        call_received_at=r["call_received_at"],
        updated_at=r["updated_at"],
        dispatched=r["dispatched"],
        units=tuple(units),
    )


async def _load_board(conn: Any, where: str, *args: object) -> list[BoardRow]:
    """Board rows matching `where` (on table b), with their units in assignment order."""
    rows = await conn.fetch(
        f"SELECT b.* FROM najda_incident_board AS b WHERE {where}"
        " ORDER BY b.priority_rank DESC, b.call_received_at, b.incident_id",
        *args,
    )
    units = await conn.fetch(
        "SELECT u.incident_id, u.unit_id, u.call_sign, u.kind, u.status"
        " FROM najda_incident_board_unit AS u JOIN najda_incident_board AS b USING (incident_id)"
        f" WHERE {where} ORDER BY u.incident_id, u.seq",
        *args,
    )
    by_incident: dict[UUID, list[BoardUnit]] = {}
    for u in units:
        by_incident.setdefault(u["incident_id"], []).append(
            BoardUnit(u["unit_id"], u["call_sign"], UnitKind(u["kind"]), UnitStatus(u["status"]))
        )
    return [_board_row(r, by_incident.get(r["incident_id"], ())) for r in rows]


class _BoardBatch:
    """The board rows a batch touches, loaded, changed in memory as the embedded board does."""

    def __init__(self, rows: Iterable[BoardRow], unit_incident: dict[UUID, UUID]) -> None:
        self.rows = {r.incident_id: r for r in rows}
        self.unit_incident = unit_incident
        self.changed: set[UUID] = set()
        self.ended: set[UUID] = set()
        self.links: set[UUID] = set()  # units whose incident link changed

    @classmethod
    async def load(cls, conn: Any, changes: Sequence[BoardChange]) -> _BoardBatch:
        incident_ids: set[UUID] = set()
        unit_ids: set[UUID] = set()
        for c in changes:
            if isinstance(c, IncidentOpened):
                incident_ids.add(c.row.incident_id)
            elif isinstance(c, BoardUnitStatus):
                unit_ids.add(c.unit_id)
            else:
                incident_ids.add(c.incident_id)
                if isinstance(c, IncidentUnitAdded):
                    unit_ids.add(c.unit.unit_id)
                elif isinstance(c, IncidentUnitRemoved):
                    unit_ids.add(c.unit_id)
        links = await conn.fetch(
            "SELECT unit_id, incident_id FROM najda_board_unit_incident WHERE unit_id = ANY($1)",
            list(unit_ids),
        )
        unit_incident: dict[UUID, UUID] = {r["unit_id"]: r["incident_id"] for r in links}
        incident_ids.update(unit_incident.values())
        rows = await _load_board(conn, "b.incident_id = ANY($1)", list(incident_ids))
        return cls(rows, unit_incident)

    def apply(self, change: BoardChange) -> None:
        if isinstance(change, IncidentOpened):
            self._put(change.row)
        elif isinstance(change, IncidentEnded):
            row = self.rows.pop(change.incident_id, None)
            if row is not None:
                self.changed.discard(row.incident_id)
                self.ended.add(row.incident_id)
                for unit in row.units:
                    self._unlink(unit.unit_id)
        elif isinstance(change, BoardUnitStatus):
            incident_id = self.unit_incident.get(change.unit_id)
            row = self.rows.get(incident_id) if incident_id else None
            if row is not None:
                units = tuple(
                    replace(u, status=change.status) if u.unit_id == change.unit_id else u
                    for u in row.units
                )
                self._put(replace(row, units=units, updated_at=change.at))
        else:
            self._apply_incident(change)

    def _apply_incident(
        self, change: IncidentPatched | IncidentUnitAdded | IncidentUnitRemoved
    ) -> None:
        row = self.rows.get(change.incident_id)
        if row is None:
            return
        if isinstance(change, IncidentPatched):
            row = replace(row, **change.fields, updated_at=change.at)  # type: ignore[arg-type]
        elif isinstance(change, IncidentUnitAdded):
            units = (*row.units, change.unit)
            row = replace(row, units=units, dispatched=True, updated_at=change.at)
            self.unit_incident[change.unit.unit_id] = row.incident_id
            self.links.add(change.unit.unit_id)
        else:
            units = tuple(u for u in row.units if u.unit_id != change.unit_id)
            row = replace(row, units=units, updated_at=change.at)
            self._unlink(change.unit_id)
        self._put(row)

    def _put(self, row: BoardRow) -> None:
        self.rows[row.incident_id] = row
        self.changed.add(row.incident_id)

    def _unlink(self, unit_id: UUID) -> None:
        self.unit_incident.pop(unit_id, None)
        self.links.add(unit_id)

    async def save(self, conn: Any) -> None:
        if self.ended:
            await conn.execute(
                "DELETE FROM najda_incident_board WHERE incident_id = ANY($1)", list(self.ended)
            )
        if self.changed:
            rows = [self.rows[k] for k in sorted(self.changed)]
            await conn.execute(
                _UPSERT_INCIDENTS,
                *zip(*(_incident_args(r) for r in rows), strict=True),
            )
            await conn.execute(
                "DELETE FROM najda_incident_board_unit WHERE incident_id = ANY($1)",
                [r.incident_id for r in rows],
            )
            units = [(r.incident_id, i, u) for r in rows for i, u in enumerate(r.units)]
            if units:
                await conn.execute(
                    _INSERT_BOARD_UNITS,
                    [iid for iid, _, _ in units],
                    [i for _, i, _ in units],
                    [u.unit_id for _, _, u in units],
                    [u.call_sign for _, _, u in units],
                    [u.kind.value for _, _, u in units],
                    [u.status.value for _, _, u in units],
                )
        if self.links:
            linked = sorted(k for k in self.links if k in self.unit_incident)
            unlinked = sorted(k for k in self.links if k not in self.unit_incident)
            if unlinked:
                await conn.execute(
                    "DELETE FROM najda_board_unit_incident WHERE unit_id = ANY($1)", unlinked
                )
            if linked:
                await conn.execute(
                    _UPSERT_UNIT_INCIDENTS, linked, [self.unit_incident[k] for k in linked]
                )


def _incident_args(row: BoardRow) -> tuple[object, ...]:
    return (
        row.incident_id,
        row.priority.value,
        row.determinant,
        row.nature,
        row.address,
        row.lat,
        row.lon,
        row.source,
        row.call_received_at,
        row.updated_at,
        row.dispatched,
        row.priority.rank,
    )


class PostgisBoard:
    """Incident board in PostGIS tables: one row per open incident, its units in a child table."""

    name = "incident_board"

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def position(self) -> int:
        return await _read_tracking(self.pool, self.name)

    async def reset(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "TRUNCATE najda_incident_board_unit, najda_incident_board,"
                " najda_board_unit_incident"
            )
            await conn.execute("DELETE FROM najda_tracking WHERE name = $1", self.name)

    async def apply(self, batch: Sequence[Tracked]) -> None:
        if not batch:
            return
        async with self.pool.acquire() as conn, conn.transaction():
            current = await _lock_tracking(conn, self.name)
            fresh = [item for item in batch if item.position > current]
            if not fresh:
                return
            changes = [c for item in fresh if (c := board_change(item)) is not None]
            if changes:
                state = await _BoardBatch.load(conn, changes)
                for change in changes:
                    state.apply(change)
                await state.save(conn)
            await _write_tracking(conn, self.name, fresh[-1].position)

    async def open_incidents(self) -> list[BoardRow]:
        """Open incidents, most urgent first, then oldest first."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await _load_board(conn, "true")

    async def get(self, incident_id: UUID) -> BoardRow | None:
        """One open incident's row."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rows = await _load_board(conn, "b.incident_id = $1", incident_id)
        return rows[0] if rows else None


# --- the pair -------------------------------------------------------------------------


class PostgisProjections:
    """The PostGIS locator and board sharing one asyncpg pool."""

    def __init__(self, pool: Any, speed: SpeedModel | None = None) -> None:
        self.pool = pool
        self.locator = PostgisLocator(pool, speed)
        self.board = PostgisBoard(pool)

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        speed: SpeedModel | None = None,
        pool_min: int = 2,
        pool_max: int = 10,
    ) -> PostgisProjections:
        """Open a pool and create the schema if needed (serialised across processes)."""
        pool = await asyncpg.create_pool(asyncpg_dsn(dsn), min_size=pool_min, max_size=pool_max)
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", DDL_LOCK_KEY)
                await conn.execute(SCHEMA)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, speed)

    async def close(self) -> None:
        """Close the pool (waits for connections in use to be released)."""
        await self.pool.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
