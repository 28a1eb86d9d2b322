"""Small helpers shared by the integration tests: an event-loop runner (fakes: tests/fakes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


def run(coro: Awaitable[T]) -> T:
    """Run one async test body on a fresh event loop."""

    async def main() -> T:
        return await coro

    return asyncio.run(main())
