"""Follows the notification log after each projection's tracking position (catch-up, then live)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from najda.projections.base import NotificationSource, Projection, Tracked
from najda.projections.store.threads import in_thread

log = logging.getLogger(__name__)


class ProjectionRunner:
    """Feeds projections from the log; wake-ups are hints, a poll bounds any missed one."""

    def __init__(
        self,
        source: NotificationSource,
        projections: Sequence[Projection],
        *,
        followers: Sequence[Projection] = (),
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.source = source
        self.projections = [*projections, *followers]
        self.followers = list(followers)
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.positions: dict[str, int] = {}
        self.error: BaseException | None = None
        self.failures: dict[str, str] = {}
        self._known: dict[str, int] = {}  # positions this runner wrote, to skip a read

    # --- control ------------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up fully, then follow the log in a background task."""
        self._loop = asyncio.get_running_loop()
        await self.catch_up()
        self._task = asyncio.create_task(self._follow(), name="projection-runner")

    async def stop(self) -> None:
        """Stop following (the read models keep their positions)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self, _position: int | None = None) -> None:
        """Hint that new events exist; safe to call from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closed between check and call
            loop.call_soon_threadsafe(self._wake.set)

    # --- work ---------------------------------------------------------------------------

    async def catch_up(self) -> int:
        """Apply everything recorded so far to every projection; returns the lowest position."""
        self._known.clear()
        while await self._step():
            pass
        return min(self.positions.values(), default=0)

    async def _step(self) -> bool:
        """One batch per group of projections at the same position; True if any advanced.

        Within a group the projections apply concurrently (each in its own transaction),
        then the followers (e.g. the live feed, which reads the others) in order. A
        projection whose apply fails keeps its position (its transaction rolled back) and
        is retried on the next step; the others go on, and the failure is reported in
        `failures` (never skipped, never swallowed).
        """
        groups: dict[int, list[Projection]] = {}
        for projection in self.projections:
            position = self._known.get(projection.name)
            if position is None:  # another process may share it: read, don't assume
                position = await projection.position()
            self.positions[projection.name] = position
            groups.setdefault(position, []).append(projection)
        advanced = False
        for position, members in sorted(groups.items()):
            batch = await in_thread(self.source.read, position, self.batch_size)
            if not batch:
                continue
            leaders = [p for p in members if p not in self.followers]
            results = await asyncio.gather(*(self._apply(p, batch) for p in leaders))
            for projection in members:
                if projection in self.followers:
                    results.append(await self._apply(projection, batch))
            advanced = advanced or any(results)
        if advanced:
            async with self._progress:
                self._progress.notify_all()
        return advanced

    async def _apply(self, projection: Projection, batch: Sequence[Tracked]) -> bool:
        try:
            await projection.apply(batch)
        except Exception as exc:
            self._known.pop(projection.name, None)
            self._failed(projection.name, batch[0].position, exc)
            return False
        self.failures.pop(projection.name, None)
        self.positions[projection.name] = batch[-1].position
        self._known[projection.name] = batch[-1].position
        return True

    def _failed(self, name: str, position: int, exc: Exception) -> None:
        text = f"{type(exc).__name__} applying events after position {position - 1}: {exc}"
        if self.failures.get(name) != text:
            log.error("projection %s failed: %s", name, text, exc_info=exc)
        self.failures[name] = text

    async def _follow(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel (stop()) that
            # lands just as a wake-up completes the wait, and the follower never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval_s):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while await self._step():
                    pass
                self.error = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store may be briefly unreachable; retry next tick
                self.error = exc
                log.exception("projection runner step failed; retrying")

    async def wait_for(self, position: int, timeout_s: float = 5.0) -> bool:
        """Wait until every projection has applied `position`; False on timeout."""

        def reached() -> bool:
            return all(self.positions.get(p.name, 0) >= position for p in self.projections)

        if reached():
            return True
        self._wake.set()
        try:
            async with asyncio.timeout(timeout_s), self._progress:
                await self._progress.wait_for(reached)
        except TimeoutError:
            return reached()
        return True
