"""A full rebuild of read models from the start of the log, reading ahead while applying."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
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
    return _closed([item for item in batch if wants(item, ended)], batch)


def _closed(kept: list[Tracked], batch: list[Tracked]) -> list[Tracked]:
    """`kept`, ending with a marker at the batch's last position if it does not already."""
    if not kept or kept[-1] is not batch[-1]:
        kept.append(Tracked(batch[-1].position, SKIPPED))
    return kept


def _split(
    names: Sequence[str], batch: list[Tracked], ended: Collection[UUID]
) -> list[list[Tracked]]:
    """`_for` for each name, the locator's and the board's in one pass (each event's topic
    looked up once: a rebuild sorts millions)."""
    if set(names) != {"unit_locator", "incident_board"}:
        return [_for(name, batch, ended) for name in names]
    locator: list[Tracked] = []
    board: list[Tracked] = []
    for item in batch:
        topic = item.topic
        if topic.startswith("najda:Unit."):
            locator.append(item)
            if topic == "najda:Unit.StatusChanged":
                board.append(item)
        elif topic.startswith("najda:Incident.") and item.originator_id not in ended:
            board.append(item)
    lists = {"unit_locator": _closed(locator, batch), "incident_board": _closed(board, batch)}
    return [lists[name] for name in names]


#: Cyclic-GC thresholds while rebuilding. A rebuild makes millions of short-lived, acyclic
#: objects (parsed states, changes) that reference counting frees; with the default
#: thresholds their allocation sets off a collection every 700 of them and a full one
#: (the whole heap of a server process) every few batches: measured, that was three
#: times the JSON decoding itself. Cycles are still collected, rarely.
REBUILD_GC_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def rare_gc(thresholds: tuple[int, int, int] = REBUILD_GC_THRESHOLDS) -> Iterator[None]:
    """These GC thresholds (the rebuild's) for the duration, the previous ones restored
    after."""
    before = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)


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
    with rare_gc():
        return await _apply_all(read, projections, batch_size, progress, ended)


async def _apply_all(
    read: Reader,
    projections: Sequence[Projection],
    batch_size: int,
    progress: Callable[[int], None] | None,
    ended: Collection[UUID],
) -> int:
    """Apply the log from its start, reading the next batch while writing this one."""
    names = [p.name for p in projections]
    total = 0
    pending = asyncio.ensure_future(read(0, batch_size))
    try:
        while batch := await pending:
            pending = asyncio.ensure_future(read(batch[-1].position, batch_size))
            parts = _split(names, batch, ended)
            await asyncio.gather(
                *(p.apply(part) for p, part in zip(projections, parts, strict=True))
            )
            total += len(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        if not pending.done():
            pending.cancel()
    return total
