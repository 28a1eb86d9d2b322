"""Wake-ups across processes: LISTEN on the store's PostgreSQL channels (new events, unit
positions), reconnecting whenever the connection is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from najda.api.live.feed import LiveFeed
from najda.api.live.positions import ORIGIN, POSITIONS_CHANNEL
from najda.domain.application import Dispatch
from najda.projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class Listening:
    """Whether the LISTEN connection (PostgreSQL wake-ups across processes) is up."""

    connected: bool = False


def start_listening(
    dsn: str, dispatch: Dispatch, runner: ProjectionRunner, feed: LiveFeed
) -> tuple[Listening, asyncio.Task[None]]:
    """Start listening for other processes' events (wake the runner) and AVL positions (move
    units on consoles); the state says whether the connection is up."""
    from najda.projections.dispatch.postgis_locator import parse_position_payload

    channel = str(getattr(dispatch.recorder, "channel_name", "stored_events"))

    def on_positions(payload: str) -> None:
        feed.positions_moved(parse_position_payload(payload, skip_origin=ORIGIN))

    state = Listening()
    task = asyncio.create_task(
        listen(
            dsn,
            {channel: lambda _payload: runner.wake(), POSITIONS_CHANNEL: on_positions},
            on_connect=runner.wake,
            state=state,
        ),
        name="listen",
    )
    return state, task


async def cancel(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait until it has ended."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def listen(
    dsn: str,
    channels: dict[str, Callable[[str], None]],
    on_connect: Callable[[], None],
    state: Listening,
) -> None:
    """LISTEN on the channels, reconnecting whenever the connection is lost.

    Notifications are hints: after each (re)connection `on_connect` runs, since some may
    have been missed while the connection was down, and the runner's poll covers the rest.
    """
    import asyncpg

    delay = 0.2
    while True:
        lost = asyncio.Event()
        connection = None
        try:
            connection = await asyncpg.connect(dsn, timeout=5)
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            for name, handler in channels.items():

                def listener(*args: Any, handler: Callable[[str], None] = handler) -> None:
                    handler(str(args[-1]))

                await connection.add_listener(name, listener)
            delay = 0.2
            state.connected = True
            on_connect()
            while not lost.is_set() and not connection.is_closed():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2.0):
                        await lost.wait()
            state.connected = False
        except asyncio.CancelledError:
            if connection is not None:
                connection.terminate()
            raise
        except Exception as exc:  # the database may be restarting: retry with backoff
            state.connected = False
            log.warning("LISTEN connection failed (%s); retrying in %.1fs", exc, delay)
        if connection is not None and not connection.is_closed():
            connection.terminate()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
