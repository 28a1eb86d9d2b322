"""A rebuild's batches: what each read model is given, and the GC settings it leaves behind."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from itertools import cycle
from uuid import UUID

from najda.projections.base import Tracked
from najda.projections.rebuild import REBUILD_GC_THRESHOLDS, _for, _split, rebuild
from najda.projections.store.fast_log_reader import SKIPPED, LightEvent

TOPICS = (
    "najda:Unit.Registered",
    "najda:Unit.StatusChanged",
    "najda:Unit.PositionReported",
    "najda:Incident.Reported",
    "najda:Incident.UnitAssigned",
    "najda:Incident.Closed",
    "najda:Station.Registered",
    "najda:Unit.Dispatched",
)
ENDED = {UUID(int=2)}


def _event(topic: str, originator: int) -> LightEvent:
    cls = type(f"Light[{topic}]", (LightEvent,), {"TOPIC": topic})
    return cls(UUID(int=originator), 1, {})


def _batch(size: int, last_topic: str | None = None) -> list[Tracked]:
    topics = cycle(TOPICS)
    batch = [Tracked(i + 1, _event(next(topics), i % 3)) for i in range(size)]
    if last_topic is not None:
        batch.append(Tracked(size + 1, _event(last_topic, 2)))
    return batch


def test_the_one_pass_split_gives_each_read_model_what_it_would_be_given_alone() -> None:
    names = ["unit_locator", "incident_board"]
    for batch in (_batch(40), _batch(17, "najda:Station.Registered"), _batch(9, "najda:Unit.X")):
        split = _split(names, batch, ENDED)
        assert split == [_for(name, batch, ENDED) for name in names]
        # each ends at the batch's position, with the last event or a marker for it
        assert all(part[-1].position == batch[-1].position for part in split)
    locator, board = _split(names, _batch(16), ENDED)
    assert {item.topic for item in locator} >= {"najda:Unit.PositionReported"}
    assert "najda:Unit.PositionReported" not in {item.topic for item in board[:-1]}
    assert all(
        item.originator_id not in ENDED
        for item in board
        if item.topic.startswith("najda:Incident.")
    )
    assert any(item.event is SKIPPED for item in _split(names, _batch(7, "x:Y"), ENDED)[0])


def test_other_read_models_are_given_their_batches_as_before() -> None:
    batch = _batch(12)
    assert _split(["unit_locator", "timeline"], batch, ENDED) == [
        _for("unit_locator", batch, ENDED),
        batch,
    ]


class _Recording:
    """A read model that records the batches it is given and the GC thresholds meanwhile."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.batches: list[list[Tracked]] = []
        self.thresholds: set[tuple[int, int, int]] = set()

    async def position(self) -> int:
        return self.batches[-1][-1].position if self.batches else 0

    async def reset(self) -> None:
        self.batches.clear()

    async def apply(self, batch: Sequence[Tracked]) -> None:
        self.thresholds.add(gc.get_threshold())
        self.batches.append(list(batch))


def test_a_rebuild_holds_off_the_gc_while_it_runs_and_restores_it_after() -> None:
    log = _batch(25)

    async def read(after: int, limit: int) -> list[Tracked]:
        return [t for t in log if t.position > after][:limit]

    before = gc.get_threshold()
    models = [_Recording("unit_locator"), _Recording("incident_board")]
    total = asyncio.run(rebuild(read, models, batch_size=10))

    assert total == len(log)
    assert gc.get_threshold() == before != REBUILD_GC_THRESHOLDS
    assert all(m.thresholds == {REBUILD_GC_THRESHOLDS} for m in models)
    assert [len(b) for b in models[0].batches] == [
        len(_for("unit_locator", log[i : i + 10], ())) for i in (0, 10, 20)
    ]
