"""The PostGIS incident board: one row per open incident, its units in a child table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from uuid import UUID

from najda.domain.values import Priority, UnitKind, UnitStatus
from najda.projections.base import Tracked
from najda.projections.dispatch.board_rules import BoardRules
from najda.projections.dispatch.read_model_changes import (
    BoardChange,
    BoardRow,
    BoardUnit,
    BoardUnitStatus,
    IncidentOpened,
    IncidentUnitAdded,
    IncidentUnitRemoved,
    board_change,
)
from najda.projections.store.postgis_pool import (
    Conn,
    Pool,
    apply_tracked,
    read_position,
    reset_tracked,
)

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


def _board_row(r: Mapping[str, Any], units: Sequence[BoardUnit]) -> BoardRow:
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


async def _load_board(conn: Conn, where: str, *args: object) -> list[BoardRow]:
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


class _BoardBatch(BoardRules):
    """The board rows a batch touches, loaded, changed by the shared rules, written back."""

    def __init__(self, rows: Iterable[BoardRow], unit_incident: dict[UUID, UUID]) -> None:
        super().__init__(rows, unit_incident)
        self.changed: set[UUID] = set()
        self.ended: set[UUID] = set()
        self.links: set[UUID] = set()  # units whose incident link changed

    @classmethod
    async def load(cls, conn: Conn, changes: Sequence[BoardChange]) -> _BoardBatch:
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

    def _put(self, row: BoardRow) -> None:
        super()._put(row)
        self.changed.add(row.incident_id)

    def _ended(self, incident_id: UUID) -> None:
        self.changed.discard(incident_id)
        self.ended.add(incident_id)

    def _link(self, unit_id: UUID, incident_id: UUID) -> None:
        super()._link(unit_id, incident_id)
        self.links.add(unit_id)

    def _unlink(self, unit_id: UUID) -> None:
        super()._unlink(unit_id)
        self.links.add(unit_id)

    async def save(self, conn: Conn) -> None:
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


class PostgisBoard:
    """Incident board in PostGIS tables: one row per open incident, its units in a child table."""

    name = "incident_board"

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def position(self) -> int:
        return await read_position(self.pool, self.name)

    async def reset(self) -> None:
        await reset_tracked(
            self.pool,
            self.name,
            "TRUNCATE najda_incident_board_unit, najda_incident_board, najda_board_unit_incident",
        )

    async def apply(self, batch: Sequence[Tracked]) -> None:
        await apply_tracked(self.pool, self.name, batch, self._write)

    async def _write(self, conn: Conn, fresh: Sequence[Tracked]) -> None:
        """Load the rows the batch touches, change them in memory, write them back."""
        changes = [c for item in fresh if (c := board_change(item)) is not None]
        if changes:
            state = await _BoardBatch.load(conn, changes)
            for change in changes:
                state.apply(change)
            await state.save(conn)

    async def open_incidents(self) -> list[BoardRow]:
        """Open incidents, most urgent first, then oldest first."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            return await _load_board(conn, "true")

    async def get(self, incident_id: UUID) -> BoardRow | None:
        """One open incident's row."""
        async with self.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
            rows = await _load_board(conn, "b.incident_id = $1", incident_id)
        return rows[0] if rows else None
