"""The projection runner: catch-up, isolation of a failing read model, and its recovery."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from najda.projections.base import NotificationSource, Tracked


class ListSource(NotificationSource):
    """A notification log held in a list (positions 1..n)."""

    def __init__(self, events: list[object]) -> None:
        self.items = [Tracked(i + 1, e) for i, e in enumerate(events)]

    def read(self, after: int, limit: int) -> list[Tracked]:
        return [t for t in self.items if t.position > after][:limit]

    def head(self) -> int:
        return len(self.items)


class Recording:
    """A read model that records what it applied; fails on events listed in `poison`."""

    def __init__(self, name: str, poison: set[object] | None = None) -> None:
        self.name = name
        self.poison = poison or set()
        self.seen: list[object] = []
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def apply(self, batch: Sequence[Tracked]) -> None:
        fresh = [t for t in batch if t.position > self._position]
        if any(t.event in self.poison for t in fresh):
            raise ValueError("cannot apply")
        self.seen.extend(t.event for t in fresh)
        if fresh:
            self._position = fresh[-1].position

    async def reset(self) -> None:
        self.seen.clear()
        self._position = 0


def test_catch_up_applies_every_event_once_in_order_across_batches() -> None:
    from najda.projections.runner import ProjectionRunner

    source = ListSource(list(range(25)))
    first, second = Recording("a"), Recording("b")
    runner = ProjectionRunner(source, [first, second], batch_size=4)
    assert asyncio.run(runner.catch_up()) == 25
    assert first.seen == second.seen == list(range(25))


def test_a_failing_read_model_does_not_hold_back_the_others_and_is_reported() -> None:
    from najda.projections.runner import ProjectionRunner

    source = ListSource(list(range(10)))
    healthy, stuck = Recording("healthy"), Recording("stuck", poison={6})
    runner = ProjectionRunner(source, [healthy, stuck], batch_size=3)

    asyncio.run(runner.catch_up())

    assert healthy.seen == list(range(10))
    assert stuck.seen == list(range(6))  # stopped before the batch holding the bad event
    assert "ValueError" in runner.failures["stuck"]
    assert "healthy" not in runner.failures

    stuck.poison.clear()  # the cause is fixed (e.g. a new release): it resumes where it stopped
    asyncio.run(runner.catch_up())
    assert stuck.seen == list(range(10))
    assert runner.failures == {}


def test_wait_for_returns_once_live_events_are_applied() -> None:
    from najda.projections.runner import ProjectionRunner

    async def scenario() -> tuple[bool, bool]:
        source = ListSource([1, 2])
        model = Recording("m")
        runner = ProjectionRunner(source, [model], poll_interval_s=60.0)
        await runner.start()
        source.items.append(Tracked(3, 3))
        runner.wake(3)
        reached = await runner.wait_for(3, timeout_s=5.0)
        missing = await runner.wait_for(99, timeout_s=0.05)
        await runner.stop()
        return reached, missing

    reached, missing = asyncio.run(scenario())
    assert reached is True
    assert missing is False
