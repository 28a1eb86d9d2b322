"""Seals the event log: a hash chain row per stored event, kept beside the events table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from domain.hashchain import GENESIS, link, row_digest
from domain.store import DispatchStore
from projections.eventlog import EventLog, RawEvent, SqlRunner
from projections.threads import in_thread

log = logging.getLogger(__name__)

SEAL_TABLE = "najda_seal"

#: Advisory lock key held while sealing on PostgreSQL ("SEAL" in ASCII).
SEAL_LOCK_KEY = 0x5345414C

_CREATE = {
    True: f"CREATE TABLE IF NOT EXISTS {SEAL_TABLE} ("
    "position bigint PRIMARY KEY, digest text NOT NULL, chain text NOT NULL)",
    False: f"CREATE TABLE IF NOT EXISTS {SEAL_TABLE} ("
    "position INTEGER PRIMARY KEY, digest TEXT NOT NULL, chain TEXT NOT NULL)",
}


def digest_of(raw: RawEvent) -> str:
    """The digest of a stored row as the chain covers it."""
    return row_digest(raw.originator_id, raw.version, raw.topic, raw.state)


class Sealer:
    """Extends the hash chain over rows recorded since the last seal (one transaction a batch).

    Sealing follows the log like a projection does: a row is covered once the sealer has
    passed it; `najda audit verify` reports the rows not sealed yet separately.
    """

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self._created = False

    def ensure_table(self) -> None:
        """Create the seal table (and the timelines' stream index) if they do not exist."""
        if not self._created:
            with self.log.transaction(commit=True) as runner:
                runner.execute(_CREATE[self.log.postgres])
            self.log.ensure_stream_index()  # for timelines; every server seals
            self._created = True

    def head(self, runner: SqlRunner) -> tuple[int, str]:
        """The last sealed position and chain value ((0, GENESIS) when nothing is sealed)."""
        rows = runner.fetch(
            f"SELECT position, chain FROM {SEAL_TABLE} ORDER BY position DESC LIMIT 1"
        )
        if not rows:
            return 0, GENESIS
        return int(rows[0]["position"]), str(rows[0]["chain"])

    def sealed_position(self) -> int:
        """The last sealed position (0 when nothing is sealed)."""
        self.ensure_table()
        with self.log.transaction() as runner:
            return self.head(runner)[0]

    def seal_batch(self, limit: int = 5000) -> int:
        """Seal up to `limit` unsealed rows; returns how many were sealed."""
        self.ensure_table()
        with self.log.transaction(commit=True) as runner:
            if self.log.postgres:
                runner.execute("SELECT pg_advisory_xact_lock(?)", [SEAL_LOCK_KEY])
            position, chain = self.head(runner)
            rows = self.log.rows(
                runner, f"{self.log.position_column} > ?", [position], f" LIMIT {int(limit)}"
            )
            seals: list[tuple[int, str, str]] = []
            for raw in rows:
                digest = digest_of(raw)
                chain = link(chain, raw.position, digest)
                seals.append((raw.position, digest, chain))
            if seals:
                runner.executemany(
                    f"INSERT INTO {SEAL_TABLE} (position, digest, chain) VALUES (?, ?, ?)", seals
                )
            return len(seals)

    def seal_all(self, progress: Callable[[int], None] | None = None) -> int:
        """Seal every unsealed row; `progress(n)` after each batch; returns the count."""
        total = 0
        while sealed := self.seal_batch():
            total += sealed
            if progress is not None:
                progress(sealed)
        return total


@asynccontextmanager
async def sealing(app: DispatchStore, poll_interval_s: float = 1.0) -> AsyncIterator[Sealer]:
    """Seal in the background while the context is open: after each save, and every poll."""
    sealer = Sealer(EventLog(app))
    await in_thread(sealer.ensure_table)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_save(_position: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed
            loop.call_soon_threadsafe(wake.set)

    async def follow() -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll_interval_s):
                    await wake.wait()
            wake.clear()
            try:
                while await in_thread(sealer.seal_batch):
                    pass
            except Exception:  # the store may be briefly unreachable; retry next tick
                log.exception("sealing the event log failed; retrying")

    app.add_listener(on_save)
    task = asyncio.create_task(follow(), name="sealer")
    try:
        yield sealer
    finally:
        app.remove_listener(on_save)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
