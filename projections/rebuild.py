"""A full rebuild of read models from the start of the log, reading ahead while applying."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from uuid import UUID

from projections.base import NotificationSource, Projection, Tracked

#: Reads up to `limit` events after a position.
Reader = Callable[[int, int], Awaitable[list[Tracked]]]

#: The read model that only shows open incidents.
BOARD = "incident_board"


def threaded(source: NotificationSource) -> Reader:
    """The application's notification source, read in a worker thread."""

    async def read(after: int, limit: int) -> list[Tracked]:
        return await asyncio.to_thread(source.read, after, limit)

    return read


def _for_board(batch: list[Tracked], ended: Collection[UUID]) -> list[Tracked]:
    """The batch without the events of incidents known to end later in the log.

    An incident that ends leaves the board with everything it held, so its events change
    nothing the rebuilt board ends with. A skipped last event is replaced by a marker that
    changes nothing, so that the board still records the batch's position.
    """
    if not ended:
        return batch
    kept = [
        item
        for item in batch
        if not (item.topic.startswith("najda:Incident.") and item.originator_id in ended)
    ]
    if not kept or kept[-1] is not batch[-1]:
        kept.append(Tracked(batch[-1].position, _Skipped()))
    return kept


class _Skipped:
    """Stands for an event left out of a batch; no read model reacts to its topic."""

    TOPIC = "najda:Rebuild.Skipped"
    originator_id = UUID(int=0)


async def rebuild(
    read: Reader,
    projections: Sequence[Projection],
    *,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    ended: Collection[UUID] = (),
) -> int:
    """Reset the projections and apply the whole log to them; returns the events read.

    The next batch is read while the current one is being written, and the projections
    apply a batch at the same time as each other. `ended`: incidents closed or cancelled
    in the log (the board skips their events; until the rebuild is done it shows fewer
    incidents than were open at its position, and the same ones once it is).
    """
    for projection in projections:
        await projection.reset()
    total = 0
    pending = asyncio.ensure_future(read(0, batch_size))
    try:
        while batch := await pending:
            pending = asyncio.ensure_future(read(batch[-1].position, batch_size))
            board_batch = _for_board(batch, ended)
            await asyncio.gather(
                *(p.apply(board_batch if p.name == BOARD else batch) for p in projections)
            )
            total += len(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        if not pending.done():
            pending.cancel()
    return total
