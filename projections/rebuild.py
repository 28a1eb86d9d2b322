"""A full rebuild of read models from the start of the log, reading ahead while applying."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from uuid import UUID

from najda.projections.base import Projection, Tracked
from najda.projections.store.fast_log_reader import SKIPPED

#: Reads up to `limit` events after a position.
Reader = Callable[[int, int], Awaitable[list[Tracked]]]


def _board_wants(item: Tracked, ended: Collection[UUID]) -> bool:
    topic = item.topic
    if topic.startswith("najda:Incident."):
        return item.originator_id not in ended
    return topic == "najda:Unit.StatusChanged"


def _locator_wants(item: Tracked, _ended: Collection[UUID]) -> bool:
    return item.topic.startswith("najda:Unit.")


#: Which events each read model reacts to (the others would be read and ignored).
WANTS: dict[str, Callable[[Tracked, Collection[UUID]], bool]] = {
    "incident_board": _board_wants,
    "unit_locator": _locator_wants,
}


def _for(name: str, batch: list[Tracked], ended: Collection[UUID]) -> list[Tracked]:
    """The batch as one read model needs it: the events it reacts to, then its position.

    The board leaves out the events of incidents known to end later in the log: an incident
    that ends leaves the board with everything it held, so they change nothing the rebuilt
    board ends with. A left-out last event is replaced by a marker that changes nothing, so
    that the read model still records the batch's position.
    """
    wants = WANTS.get(name)
    if wants is None:
        return batch
    kept = [item for item in batch if wants(item, ended)]
    if not kept or kept[-1] is not batch[-1]:
        kept.append(Tracked(batch[-1].position, SKIPPED))
    return kept


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
            await asyncio.gather(*(p.apply(_for(p.name, batch, ended)) for p in projections))
            total += len(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        if not pending.done():
            pending.cancel()
    return total
