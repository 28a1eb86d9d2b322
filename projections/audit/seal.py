"""Seals the event log: a hash chain row per stored event, kept beside the events table."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from najda.domain.audit.hashchain import GENESIS, link, row_digest
from najda.domain.persistence.atomic_store import DispatchStore
from najda.projections.audit.checkpoint import Checkpoint, write_checkpoint
from najda.projections.audit.signing_key import AuditKey, PublicKey
from najda.projections.audit.witness import ensure_witness_table, witnessed
from najda.projections.store.event_rows import EventLog, RawEvent, SqlRunner
from najda.projections.store.threads import in_thread

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


@dataclass(frozen=True)
class SealPolicy:
    """How the server seals and checkpoints: the audit key, where checkpoints go, how often."""

    key: AuditKey
    checkpoint_dir: Path
    checkpoint_interval_s: float = 60.0
    store: str = ""


class Sealer:
    """Extends the hash chain over rows recorded since the last seal (one transaction a batch).

    Sealing follows the log like a projection does: a row is covered once the sealer has
    passed it; `najda audit verify` reports the rows not sealed yet separately. Only rows the
    application witnessed (see projections/audit/witness.py) are sealed: a row written by anything
    else is passed over, logged, and stays out of the chain for `verify` to name.
    """

    def __init__(self, log: EventLog, public: PublicKey) -> None:
        self.log = log
        self.public = public
        self._created = False
        self._passed = 0  # rows up to here were examined (the refused ones stay unsealed)
        self._lock = threading.Lock()  # one pass at a time in this process

    def ensure_table(self) -> None:
        """Create the seal and witness tables (and the timelines' stream index) if missing."""
        if not self._created:
            with self.log.transaction(commit=True) as runner:
                if self.log.postgres:  # processes starting together must not race on the DDL
                    runner.execute("SELECT pg_advisory_xact_lock(?)", [SEAL_LOCK_KEY])
                runner.execute(_CREATE[self.log.postgres])
            ensure_witness_table(self.log)
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

    def sealed_head(self) -> tuple[int, str]:
        """The last sealed position and the chain value there."""
        self.ensure_table()
        with self.log.transaction() as runner:
            return self.head(runner)

    def seal_batch(self, limit: int = 5000) -> SealBatch:
        """Seal the witnessed rows among up to `limit` rows not examined yet."""
        self.ensure_table()
        with self._lock:
            return self._seal_batch(limit)

    def _seal_batch(self, limit: int) -> SealBatch:
        with self.log.transaction(commit=True) as runner:
            if self.log.postgres:
                runner.execute("SELECT pg_advisory_xact_lock(?)", [SEAL_LOCK_KEY])
            position, chain = self.head(runner)
            after = max(position, self._passed)
            rows = self.log.rows(
                runner, f"{self.log.position_column} > ?", [after], f" LIMIT {int(limit)}"
            )
            if not rows:
                return SealBatch(0, 0)
            vouched = witnessed(runner, self.public, rows[0].position, rows[-1].position)
            seals: list[tuple[int, str, str]] = []
            refused: list[int] = []
            for raw in rows:
                digest = digest_of(raw)
                if vouched.digests.get(raw.position) != digest:
                    refused.append(raw.position)
                    continue
                chain = link(chain, raw.position, digest)
                seals.append((raw.position, digest, chain))
            if seals:
                runner.executemany(
                    f"INSERT INTO {SEAL_TABLE} (position, digest, chain) VALUES (?, ?, ?)", seals
                )
        self._passed = rows[-1].position
        if refused:
            shown = ", ".join(str(p) for p in refused[:5]) + (", ..." if len(refused) > 5 else "")
            log.error(
                "not sealing %d event(s) at position(s) %s: the application did not write them"
                " (no witness, or altered since); `najda audit verify` names them",
                len(refused),
                shown,
            )
        return SealBatch(len(rows), len(seals), refused)

    def seal_all(self, progress: Callable[[int], None] | None = None) -> int:
        """Seal every witnessed unsealed row; `progress(n)` after each batch; the count."""
        total = 0
        while (batch := self.seal_batch()).examined:
            total += batch.sealed
            if progress is not None:
                progress(batch.examined)
        return total

    def checkpoint(self, key: AuditKey, directory: Path, store: str, at: datetime) -> Path | None:
        """Sign the chain head into a checkpoint file in `directory` (None: nothing new)."""
        position, chain = self.sealed_head()
        if position == 0:
            return None
        made = Checkpoint(position, chain, at, store, key.public.fingerprint)
        return write_checkpoint(directory, key, made)


@dataclass(frozen=True)
class SealBatch:
    """What one sealing pass did: rows examined, sealed, and refused (not witnessed)."""

    examined: int
    sealed: int
    refused: list[int] = field(default_factory=list)


def sealed_position(log: EventLog) -> int:
    """The last sealed position (0 when nothing is sealed or there is no seal table yet)."""
    with log.transaction() as runner:
        try:
            rows = runner.fetch(f"SELECT max(position) AS position FROM {SEAL_TABLE}")
        except Exception:  # no seal table yet: nothing sealed
            return 0
    return int(rows[0]["position"] or 0) if rows else 0


@asynccontextmanager
async def sealing(
    app: DispatchStore, policy: SealPolicy, poll_interval_s: float = 1.0
) -> AsyncIterator[Sealer]:
    """Seal in the background while the context is open: after each save, and every poll;
    sign a checkpoint of the chain head every `checkpoint_interval_s` and at the end."""
    sealer = Sealer(EventLog(app), policy.key.public)
    await in_thread(sealer.ensure_table)
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_save(_position: int) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed
            loop.call_soon_threadsafe(wake.set)

    def checkpoint() -> None:
        at = datetime.now(UTC)
        made = sealer.checkpoint(policy.key, policy.checkpoint_dir, policy.store, at)
        if made is not None:
            log.info("signed checkpoint %s", made)

    async def follow() -> None:
        last_checkpoint = -math.inf
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll_interval_s):
                    await wake.wait()
            wake.clear()
            try:
                while (await in_thread(sealer.seal_batch)).examined:
                    pass
                if time.monotonic() - last_checkpoint >= policy.checkpoint_interval_s:
                    await in_thread(checkpoint)
                    last_checkpoint = time.monotonic()
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
        try:  # what was sealed last is checkpointed before the store closes
            await in_thread(sealer.seal_all)
            await in_thread(checkpoint)
        except Exception:
            log.exception("the final seal and checkpoint failed")
