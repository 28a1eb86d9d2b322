"""High-rate vehicle positions: checked in memory, written to the locator in group commits,
recorded as events only when they matter (DESIGN.md, "Vehicle positions")."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from api.live.feed import LiveFeed
from domain.application import Dispatch
from domain.commands import MAX_CLOCK_SKEW, MAX_POSITION_AGE, approx_distance_m
from domain.errors import InvalidValue, UnitNotFound
from domain.values import Position, check_position, require_recent
from projections.changes import UnitMoved
from projections.locator import UnitLocator

#: The channel other processes hear positions on (PostgreSQL only).
POSITIONS_CHANNEL = "najda_positions"


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
        if move.at <= at:
            return False
        policy = self.dispatch.position_policy
        moved = approx_distance_m(Position(lat, lon), Position(move.lat, move.lon))
        return moved >= policy.min_move_m or move.at - at >= policy.max_age

    async def ingest(self, moves: Sequence[UnitMoved], actor: str) -> list[bool]:
        """Record what matters, move the units in the locator, and tell consoles.

        Returns, per report, whether it became an event. When this returns, the locator
        shows every position (or a newer one).
        """
        chosen = [m for m in moves if self._worth_recording(m)]
        recorded: dict[int, bool] = {}
        if chosen:
            dispatch = self.dispatch

            def record() -> list[bool]:
                return dispatch.report_positions(
                    [(m.unit_id, Position(m.lat, m.lon), m.at) for m in chosen], actor
                )

            results = await self.command(record)
            recorded = {id(m): r for m, r in zip(chosen, results, strict=True)}
            self.recorded += sum(results)
        await self._write(moves)
        self.accepted += len(moves)
        return [recorded.get(id(m), False) for m in moves]

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
                    moves, POSITIONS_CHANNEL if self.shared else None
                )
            except Exception as exc:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            if not self.shared:
                self.feed.positions_moved(moves)
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def close(self) -> None:
        """Finish the group commit in flight."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await self._writer
