"""What a running server holds: the Dispatch application, read models and their runner."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from api.demo import seed_demo
from api.settings import Settings
from domain.application import Dispatch
from domain.errors import AlreadyExists
from domain.response_plan import ResponsePlan
from projections.base import NotificationSource
from projections.board import IncidentBoard
from projections.embedded import EmbeddedBoard, EmbeddedLocator
from projections.locator import UnitLocator
from projections.reference import ReferenceDirectory
from projections.runner import ProjectionRunner
from projections.seal import sealing
from projections.stores import asyncpg_dsn, postgres_env, sqlite_env

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """Raised at start-up when the event store cannot be reached."""


@dataclass
class Services:
    """The application, its read models and the runner that feeds them, for one server."""

    settings: Settings
    plan: ResponsePlan
    dispatch: Dispatch
    source: NotificationSource
    locator: UnitLocator
    board: IncidentBoard
    reference: ReferenceDirectory
    runner: ProjectionRunner

    @property
    def store(self) -> str:
        """'postgresql' or 'sqlite'."""
        return "postgresql" if self.settings.uses_postgres else "sqlite"

    def now(self) -> datetime:
        """The application's clock (UTC-aware)."""
        return self.dispatch.clock()

    async def query(self, read: Callable[[], T]) -> T:
        """Run a blocking read on the event store in a worker thread."""
        return await run_in_threadpool(read)

    async def command(self, write: Callable[[], T]) -> T:
        """Run a command in a worker thread, then wait until every read model includes it.

        The store's head after the command is at or beyond the command's own events, so a
        request that follows the answer sees the change (read-your-writes).
        """

        def run() -> tuple[T, int]:
            result = write()
            return result, self.source.head()

        result, head = await run_in_threadpool(run)
        await self.caught_up(head)
        return result

    async def caught_up(self, position: int) -> bool:
        """Wait (bounded by the read timeout) until the read models reach `position`."""
        reached = await self.runner.wait_for(position, self.settings.read_timeout_s)
        if not reached:
            log.warning("read models did not reach position %d in time", position)
        return reached


@asynccontextmanager
async def open_services(settings: Settings, plan: ResponsePlan) -> AsyncIterator[Services]:
    """Open the store, seed the demo area if empty, build and start the read models."""
    async with AsyncExitStack() as stack:
        if settings.database_url is not None:
            env = postgres_env(settings.database_url)
        else:
            env = sqlite_env(settings.sqlite_path)
        try:
            dispatch = await run_in_threadpool(Dispatch, env)
        except (OperationalError, InterfaceError) as exc:
            raise StoreUnavailable(
                f"cannot open the event store ({settings.store_description()}): {exc}"
            ) from None
        stack.callback(dispatch.close)
        source = NotificationSource(dispatch)
        if settings.seed_demo and await run_in_threadpool(source.head) == 0:
            try:
                summary = await run_in_threadpool(seed_demo, dispatch)
                log.info("seeded the demo area: %s", summary)
            except AlreadyExists:  # another process, starting at the same time, seeds it
                log.info("the demo area is being seeded by another process")
        locator, board = await stack.enter_async_context(_read_models(settings))
        reference = ReferenceDirectory()
        runner = ProjectionRunner(
            source, [locator, board, reference], poll_interval_s=settings.poll_interval_s
        )
        await runner.start()
        stack.push_async_callback(runner.stop)
        # The caught-up read models are long-lived: keep the collector from rescanning them
        # on every full collection, which otherwise shows in query tail latency.
        gc.collect()
        gc.freeze()
        dispatch.add_listener(runner.wake)
        await stack.enter_async_context(sealing(dispatch, settings.poll_interval_s))  # audit
        stack.callback(dispatch.remove_listener, runner.wake)
        if settings.database_url is not None:
            channel = str(getattr(dispatch.recorder, "channel_name", "stored_events"))
            await stack.enter_async_context(
                _listen(asyncpg_dsn(settings.database_url), channel, runner.wake)
            )
        yield Services(
            settings=settings,
            plan=plan,
            dispatch=dispatch,
            source=source,
            locator=locator,
            board=board,
            reference=reference,
            runner=runner,
        )


@asynccontextmanager
async def _read_models(settings: Settings) -> AsyncIterator[tuple[UnitLocator, IncidentBoard]]:
    """In-memory read models, or PostGIS tables when a database URL is set."""
    if settings.database_url is None:
        yield EmbeddedLocator(), EmbeddedBoard()
        return
    from projections.postgis import PostgisProjections  # lazy: PostGIS mode only

    projections = await PostgisProjections.connect(asyncpg_dsn(settings.database_url))
    try:
        yield projections.locator, projections.board
    finally:
        await projections.close()


@asynccontextmanager
async def _listen(dsn: str, channel: str, wake: Callable[[], None]) -> AsyncIterator[None]:
    """LISTEN on the recorder's channel and wake the runner on each NOTIFY (a hint only)."""
    import asyncpg

    def on_notify(*_args: Any) -> None:
        wake()

    connection = await asyncpg.connect(dsn)
    try:
        await connection.add_listener(channel, on_notify)
        yield
    finally:
        await connection.close()  # closing also ends the LISTEN
