"""The PostGIS unit locator: a table of units, nearest available ones by GiST KNN."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple
from uuid import UUID

from najda.domain.values import UnitKind, UnitStatus
from najda.geo.speed import SpeedModel
from najda.projections.base import Tracked
from najda.projections.dispatch.locator import Candidate, Query, rank
from najda.projections.dispatch.read_model_changes import (
    UnitMoved,
    UnitRow,
    UnitStatusSet,
    UnitUpserted,
    fold_unit_row,
    locator_change,
)
from najda.projections.store.postgis_pool import (
    Conn,
    Pool,
    apply_tracked,
    read_position,
    reset_tracked,
)

_UNIT_COLUMNS = (
    "unit_id, call_sign, kind, capabilities, station_id, status, incident_id,"
    " lat, lon, position_at, status_at"
)

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

# A batch's net status and latest position for each unit it touches, in one statement (one
# new row version per unit); NULL status: unchanged; NULL or older moved_at: not moved.
_UPDATE_UNITS = """
UPDATE najda_unit_locator AS u
SET status = coalesce(c.status, u.status),
    incident_id = CASE WHEN c.status IS NULL OR c.keep THEN u.incident_id ELSE c.incident_id END,
    status_at = coalesce(c.status_at, u.status_at),
    lat = CASE WHEN c.moved_at > u.position_at THEN c.lat ELSE u.lat END,
    lon = CASE WHEN c.moved_at > u.position_at THEN c.lon ELSE u.lon END,
    position_at = greatest(c.moved_at, u.position_at)
FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::boolean[], $5::timestamptz[],
        $6::float8[], $7::float8[], $8::timestamptz[])
    AS c(unit_id, status, incident_id, keep, status_at, lat, lon, moved_at)
WHERE u.unit_id = c.unit_id AND (c.status IS NOT NULL OR c.moved_at > u.position_at)
"""

#: What nearest() reads of each unit: what ranking needs, nothing more.
_MOVE_UNITS = """
UPDATE najda_unit_locator AS u SET lat = v.lat, lon = v.lon, position_at = v.at
FROM unnest($1::uuid[], $2::float8[], $3::float8[], $4::timestamptz[]) AS v(unit_id, lat, lon, at)
WHERE u.unit_id = v.unit_id AND u.position_at < v.at
"""

#: NOTIFY payloads must stay under 8000 bytes.
_PAYLOAD_LIMIT = 7_000


def position_payloads(moves: Sequence[UnitMoved], origin: str = "") -> list[str]:
    """'origin|' then positions as compact JSON arrays [[id, lat, lon, epoch_ms], ...],
    each payload under the limit."""
    payloads: list[str] = []
    items: list[str] = []
    head = f"{origin}|"
    size = 2 + len(head)
    for m in moves:
        item = f'["{m.unit_id}",{m.lat!r},{m.lon!r},{round(m.at.timestamp() * 1000)}]'
        if items and size + len(item) + 1 > _PAYLOAD_LIMIT:
            payloads.append(head + "[" + ",".join(items) + "]")
            items, size = [], 2 + len(head)
        items.append(item)
        size += len(item) + 1
    if items:
        payloads.append(head + "[" + ",".join(items) + "]")
    return payloads


def parse_position_payload(payload: str, skip_origin: str = "") -> list[UnitMoved]:
    """The moves in one payload made by `position_payloads` (bad payloads give []),
    unless it came from `skip_origin`."""
    origin, _, body = payload.partition("|")
    if skip_origin and origin == skip_origin:
        return []
    try:
        items = json.loads(body)
        return [
            UnitMoved(
                UUID(i[0]), float(i[1]), float(i[2]), datetime.fromtimestamp(i[3] / 1000, UTC)
            )
            for i in items
        ]
    except (ValueError, TypeError, IndexError, KeyError):
        return []


_NEARBY_COLUMNS = "unit_id, call_sign, kind, capabilities, status, lat, lon, position_at"


@lru_cache(maxsize=64)
def _nearest_sql(kinds: bool, capabilities: bool, exclude: bool, fetch: int) -> str:
    """The KNN query for one shape of filter ($1 lon, $2 lat, then each filter's array).

    Empty filters are left out and LIMIT is a literal, so each shape is one prepared
    statement that PostgreSQL plans once per connection (a generic plan) instead of on every
    call, as it does when LIMIT is a parameter.
    """
    point = "ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography"
    where = ["status = 'available'"]
    if kinds:
        where.append(f"kind = ANY(${len(where) + 2}::text[])")
    if capabilities:
        where.append(f"capabilities @> ${len(where) + 2}::text[]")
    if exclude:
        where.append(f"NOT unit_id = ANY(${len(where) + 2}::uuid[])")
    return (
        f"SELECT {_NEARBY_COLUMNS}, geom <-> {point} AS approx_m FROM najda_unit_locator"
        f" WHERE {' AND '.join(where)} ORDER BY geom <-> {point} LIMIT {int(fetch)}"
    )


class _Nearby(NamedTuple):
    """A unit as nearest() ranks it (a tuple: far cheaper to build than a UnitRow)."""

    unit_id: UUID
    call_sign: str
    kind: UnitKind
    capabilities: tuple[str, ...]
    status: UnitStatus
    lat: float
    lon: float
    position_at: datetime

    @property
    def available(self) -> bool:
        return self.status is UnitStatus.AVAILABLE


def _nearby(r: Mapping[str, Any]) -> _Nearby:
    return _Nearby(
        r["unit_id"],
        r["call_sign"],
        UnitKind(r["kind"]),
        tuple(r["capabilities"]),
        UnitStatus(r["status"]),
        r["lat"],
        r["lon"],
        r["position_at"],
    )


class _NetStatus(NamedTuple):
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


def _unit_row(r: Mapping[str, Any]) -> UnitRow:
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

    def __init__(self, pool: Pool, speed: SpeedModel | None = None) -> None:
        self.pool = pool
        self.speed = speed or SpeedModel()

    async def position(self) -> int:
        return await read_position(self.pool, self.name)

    async def reset(self) -> None:
        await reset_tracked(self.pool, self.name, "TRUNCATE najda_unit_locator")

    async def apply(self, batch: Sequence[Tracked]) -> None:
        await apply_tracked(self.pool, self.name, batch, self._write)

    async def _write(self, conn: Conn, fresh: Sequence[Tracked]) -> None:
        """Fold a batch's changes per unit, then write them in at most two statements."""
        changes = (locator_change(item) for item in fresh)
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
                registered[change.unit_id] = fold_unit_row(registered[change.unit_id], change)
            elif isinstance(change, UnitStatusSet):
                before = statuses.get(change.unit_id)
                statuses[change.unit_id] = _net_status(change, before)
            else:
                held = moves.get(change.unit_id)
                if held is None or change.at > held.at:
                    moves[change.unit_id] = change
        await _save(conn, registered, statuses, moves)

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

    async def update_positions(
        self, moves: Sequence[UnitMoved], notify: str | None = None, origin: str = ""
    ) -> int:
        latest: dict[UUID, UnitMoved] = {}
        for move in moves:
            held = latest.get(move.unit_id)
            if held is None or move.at > held.at:
                latest[move.unit_id] = move
        if not latest:
            return 0
        rows = list(latest.values())
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                _MOVE_UNITS,
                [m.unit_id for m in rows],
                [m.lat for m in rows],
                [m.lon for m in rows],
                [m.at for m in rows],
            )
            if notify is not None:
                for payload in position_payloads(rows, origin):
                    await conn.execute("SELECT pg_notify($1, $2)", notify, payload)
        return int(status.split()[-1])

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
        filters: list[object] = []
        if query.kinds is not None:
            filters.append(sorted(k.value for k in query.kinds))
        if query.capabilities:
            filters.append(sorted(query.capabilities))
        if query.exclude:
            filters.append(sorted(query.exclude))
        shape = (query.kinds is not None, bool(query.capabilities), bool(query.exclude))
        # Exclusions are filtered in SQL, so unlike the embedded locator's first fetch this
        # one needs no room for them; three spare rows almost always bound the answer.
        fetch = query.limit + 3
        while True:
            records = await self.pool.fetch(
                _nearest_sql(*shape, fetch), query.lon, query.lat, *filters
            )
            bound = float(records[-1]["approx_m"]) if len(records) == fetch else None
            ranked = rank(query, [_nearby(r) for r in records], self.speed, bound)
            if ranked is not None:
                return ranked
            fetch *= 4


#: Sort key giving UUID order at C speed: a batch writes its rows in a fixed order.
_uuid_int = attrgetter("int")


async def _save(
    conn: Conn,
    registered: Mapping[UUID, UnitRow],
    statuses: Mapping[UUID, _NetStatus],
    moves: Mapping[UUID, UnitMoved],
) -> None:
    """Write a batch's folded changes: new rows, then net statuses and latest positions."""
    if registered:
        await conn.executemany(
            _UPSERT_UNIT, [_unit_args(registered[k]) for k in sorted(registered, key=_uuid_int)]
        )
    keys = sorted(statuses.keys() | moves.keys(), key=_uuid_int)
    if keys:
        args = [_update_args(statuses.get(k), moves.get(k)) for k in keys]
        await conn.execute(_UPDATE_UNITS, keys, *zip(*args, strict=True))


def _update_args(net: _NetStatus | None, move: UnitMoved | None) -> tuple[object, ...]:
    """One unit's columns of _UPDATE_UNITS after unit_id (NULLs for what did not change)."""
    status = (
        (None,) * 4
        if net is None
        else (net.status.value, net.incident_id, net.keep_incident, net.at)
    )
    position = (None,) * 3 if move is None else (move.lat, move.lon, move.at)
    return (*status, *position)
