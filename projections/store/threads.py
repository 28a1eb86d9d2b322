"""Blocking store calls in worker threads that are never abandoned on cancellation."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(func: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `func` in the loop's default executor; when the caller is cancelled, wait for the
    call to finish before the cancellation goes on.

    `asyncio.to_thread` returns at once on cancellation while the thread still runs: a store
    closed right after (a failed start, a shutdown) would then be used by that thread, which
    for SQLite means a crash. Waiting keeps "stop, then close" true.
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, func, *args, **kwargs)
    future = loop.run_in_executor(None, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        if not future.cancelled():
            future.exception()  # retrieved: its result or error no longer matters
        raise
