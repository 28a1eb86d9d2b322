"""Small helpers shared by the integration tests: an event-loop runner and a fake clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def run(coro: Awaitable[T]) -> T:
    """Run one async test body on a fresh event loop."""

    async def main() -> T:
        return await coro

    return asyncio.run(main())


class FakeClock:
    """A clock that moves one second forward at every reading (thread-safe)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(seconds=1)
            return self.now
