"""A full rebuild of read models from the start of the log, reading ahead while applying."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from projections.base import NotificationSource, Projection, Tracked


async def rebuild(
    source: NotificationSource,
    projections: Sequence[Projection],
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Reset the projections and apply the whole log to them; returns the events applied.

    The next batch is read and decoded in a worker thread while the current one is being
    written, and every projection applies a batch at the same time as the others.
    """
    for projection in projections:
        await projection.reset()
    total = 0

    def read(after: int) -> list[Tracked]:
        return source.read(after, batch_size)

    pending = asyncio.create_task(asyncio.to_thread(read, 0))
    try:
        while batch := await pending:
            pending = asyncio.create_task(asyncio.to_thread(read, batch[-1].position))
            await asyncio.gather(*(p.apply(batch) for p in projections))
            total += len(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        if not pending.done():
            pending.cancel()
    return total
