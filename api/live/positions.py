"""High-rate vehicle positions: checked in memory, written to the locator in group commits,
recorded as events only when they matter (DESIGN.md, "Vehicle positions")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from najda.api.live.feed import LiveFeed
from najda.domain.application import Dispatch
from najda.domain.dispatch.command_inputs import MAX_CLOCK_SKEW, MAX_POSITION_AGE
from najda.domain.errors import InvalidValue, UnitNotFound
from najda.domain.values import Position, check_position, require_recent
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.read_model_changes import UnitMoved

log = logging.getLogger(__name__)

#: The channel other processes hear positions on (PostgreSQL only).
POSITIONS_CHANNEL = "najda_positions"
#: This process's mark on the positions it announces, so it skips its own.
ORIGIN = uuid.uuid4().hex[:12]


@dataclass(frozen=True, slots=True)
class Report:
    """One position report: which unit, where, when measured (None: now)."""

    unit_id: UUID
    lat: float
    lon: float
    at: datetime | None = None


Command = Callable[[Callable[[], list[bool]]], Awaitable[list[bool]]]


class PositionIngestor:
    """Takes position reports; the locator is updated in batches shared by concurrent
    requests, and only reports that matter go through the event store."""

    def __init__(
        self,
        dispatch: Dispatch,
        locator: UnitLocator,
        feed: LiveFeed,
        command: Command,
        *,
        shared: bool,
    ) -> None:
        self.dispatch = dispatch
        self.locator = locator
        self.feed = feed
        self.command = command
        self.shared = shared  # PostgreSQL: other processes hear positions by NOTIFY
        self._pending: list[UnitMoved] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._writer: asyncio.Task[None] | None = None
        self._to_record: list[tuple[UnitMoved, str]] = []
        self._recorder: asyncio.Task[None] | None = None
        self.accepted = 0
        self.recorded = 0

    def check(self, reports: Sequence[Report], field: str | None = None) -> list[UnitMoved]:
        """Validate every report before any is taken (all or nothing): a known unit, a
        position on Earth, a time within the accepted window. Names the offending item."""
        now = self.dispatch.clock()
        moves: list[UnitMoved] = []
        for i, report in enumerate(reports):
            where = "" if field is None else f"{field}[{i}]."
            if self.feed.unit(report.unit_id) is None:
                if field is None:
                    raise UnitNotFound(report.unit_id)
                raise InvalidValue(f"{where}unit", f"no unit {report.unit_id}")
            check_position(report.lat, report.lon, where)
            at = require_recent(
                f"{where}at", report.at or now, now, MAX_POSITION_AGE, MAX_CLOCK_SKEW
            )
            moves.append(UnitMoved(report.unit_id, report.lat, report.lon, at))
        return moves

    def _worth_recording(self, move: UnitMoved) -> bool:
        recorded = self.feed.last_recorded(move.unit_id)
        if recorded is None:
            return True
        lat, lon, at = recorded
        return self.dispatch.position_policy.worth_recording(
            Position(lat, lon), at, Position(move.lat, move.lon), move.at
        )

    async def ingest(
        self, moves: Sequence[UnitMoved], actor: str, *, wait: bool = True
    ) -> list[bool]:
        """Move the units in the locator, tell consoles, and record what matters.

        Returns, per report, whether it becomes an event. With `wait`, those events are
        stored before this returns; without (an AVL gateway's batches), they are stored
        in the background, many batches to a transaction, and a report lost with the
        process is made up by the next one (its last recorded position stays older).
        When this returns, the locator shows every position (or a newer one).
        """
        chosen = [m for m in moves if self._worth_recording(m)]
        picked = {id(m) for m in chosen}
        if chosen and wait:
            results = await self.command(self._recording(chosen, actor))
            picked = {id(m) for m, r in zip(chosen, results, strict=True) if r}
            self.recorded += len(picked)
        elif chosen:
            self._to_record.extend((m, actor) for m in chosen)
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_behind(), name="avl-recorder")
        await self._write(moves)
        self.accepted += len(moves)
        return [id(m) in picked for m in moves]

    def _recording(self, moves: Sequence[UnitMoved], actor: str) -> Callable[[], list[bool]]:
        dispatch = self.dispatch

        def record() -> list[bool]:
            return dispatch.report_positions(
                [(m.unit_id, Position(m.lat, m.lon), m.at) for m in moves], actor
            )

        return record

    async def _record_behind(self) -> None:
        """Store the positions worth an event, all queued ones per transaction and actor."""
        while self._to_record:
            queued, self._to_record = self._to_record, []
            by_actor: dict[str, list[UnitMoved]] = {}
            for move, actor in queued:
                by_actor.setdefault(actor, []).append(move)
            for actor, moves in by_actor.items():
                try:
                    results = await self.command(self._recording(moves, actor))
                except Exception:  # the next report of each unit will be worth it again
                    log.exception("recording %d positions failed", len(moves))
                    continue
                self.recorded += sum(results)

    async def _write(self, moves: Sequence[UnitMoved]) -> None:
        """Join the next group commit and wait for it."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.extend(moves)
        self._waiters.append(future)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="avl-writer")
        await future

    async def _drain(self) -> None:
        while self._pending:
            moves, waiters = self._pending, self._waiters
            self._pending, self._waiters = [], []
            try:
                await self.locator.update_positions(
                    moves, POSITIONS_CHANNEL if self.shared else None, ORIGIN
                )
            except Exception as exc:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            self.feed.positions_moved(moves)  # other processes hear them by NOTIFY
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> None:
        """Finish the group commit and the recording in flight."""
        for task in (self._writer, self._recorder):
            if task is not None:
                with contextlib.suppress(Exception):
                    await task
