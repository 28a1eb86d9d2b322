"""PostGIS read models' shared parts: the asyncpg pool, the schema and tracking positions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeAlias

import asyncpg

from najda.geo.speed import SpeedModel
from najda.projections.base import Tracked
from najda.projections.store.environment import asyncpg_dsn

#: An asyncpg pool, and a connection from it; asyncpg ships no type information, so these
#: aliases only name what is passed around.
Pool: TypeAlias = Any
Conn: TypeAlias = Any

if TYPE_CHECKING:
    from najda.projections.dispatch.postgis_board import PostgisBoard
    from najda.projections.dispatch.postgis_locator import PostgisLocator

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

#: Writes one batch's unseen items inside the caller's transaction.
BatchWriter = Callable[[Any, Sequence[Tracked]], Awaitable[None]]


# --- tracking -------------------------------------------------------------------------


async def _lock_tracking(conn: Conn, name: str) -> int:
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


async def _write_tracking(conn: Conn, name: str, position: int) -> None:
    await conn.execute("UPDATE najda_tracking SET position = $2 WHERE name = $1", name, position)


async def read_position(pool: Pool, name: str) -> int:
    """The projection's committed position (0 when it has none)."""
    position = await pool.fetchval("SELECT position FROM najda_tracking WHERE name = $1", name)
    return int(position or 0)


async def apply_tracked(
    pool: Pool, name: str, batch: Sequence[Tracked], write: BatchWriter
) -> None:
    """Write the items after the projection's position and advance it, in one transaction.

    The tracking row is locked first, so a second process applying the same batch waits,
    then finds nothing new and writes nothing.
    """
    if not batch:
        return
    async with pool.acquire() as conn, conn.transaction():
        current = await _lock_tracking(conn, name)
        fresh = [item for item in batch if item.position > current]
        if not fresh:
            return
        await write(conn, fresh)
        await _write_tracking(conn, name, fresh[-1].position)


async def reset_tracked(pool: Pool, name: str, truncate: str) -> None:
    """Empty the projection's tables (`truncate`) and forget its position, in one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(truncate)
        await conn.execute("DELETE FROM najda_tracking WHERE name = $1", name)


# --- the pair -------------------------------------------------------------------------


async def _keep_session(_conn: Conn) -> None:
    """Release a pool connection as it is (see PostgisProjections.connect)."""


class PostgisProjections:
    """The PostGIS locator and board sharing one asyncpg pool."""

    def __init__(self, pool: Pool, speed: SpeedModel | None = None) -> None:
        # Imported here: both modules import this one for the tracking helpers.
        from najda.projections.dispatch.postgis_board import PostgisBoard
        from najda.projections.dispatch.postgis_locator import PostgisLocator

        self.pool = pool
        self.locator: PostgisLocator = PostgisLocator(pool, speed)
        self.board: PostgisBoard = PostgisBoard(pool)

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
        # asyncpg's default release sends `SELECT pg_advisory_unlock_all(); CLOSE ALL;
        # UNLISTEN *; RESET ALL` (a round trip on every acquire, about a quarter of a
        # nearest() call). It has nothing to undo here, so the pool skips it: the only
        # advisory lock taken (DDL_LOCK_KEY) is transaction-scoped; cursors, if any, close
        # with their transaction; no pool connection runs LISTEN (najda.api.services listens on
        # its own connection) or SET. asyncpg still rolls back a transaction left open on
        # release. Prepared statements are session state too, and are meant to stay.
        # Anything that adds session state on a pool connection must undo it itself.
        pool = await asyncpg.create_pool(
            asyncpg_dsn(dsn), min_size=pool_min, max_size=pool_max, reset=_keep_session
        )
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
