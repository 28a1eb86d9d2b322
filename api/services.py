"""What a running server holds: the Dispatch application, read models and their runner."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from api.audit_trust import seal_policy, witnessed
from api.demo import seed_demo
from api.demo_area import seed_area_demo
from api.live.feed import LiveFeed
from api.live.positions import ORIGIN, POSITIONS_CHANNEL, PositionIngestor
from api.live.tokens import TokenWatch
from api.settings import Settings, SettingsError
from api.throttle import AuthThrottle
from api.users import IssuedToken, ensure_users
from domain.application import Dispatch
from domain.errors import AlreadyExists
from domain.response_plan import ResponsePlan
from geo.area import EMERGENCY_MODE, Area
from projections.base import NotificationSource
from projections.board import IncidentBoard
from projections.consults import ConsultDirectory
from projections.embedded import EmbeddedBoard, EmbeddedLocator
from projections.eventlog import EventLog
from projections.geocoder import Geocoder
from projections.history import HistoryIndex
from projections.locator import UnitLocator
from projections.model_saver import ModelSaver
from projections.model_store import ModelStore
from projections.monitoring import MonitoringDirectory
from projections.read_log import ReadLog, ReadRecorder
from projections.reference import ReferenceDirectory
from projections.runner import ProjectionRunner
from projections.seal import sealing
from projections.stores import asyncpg_dsn, postgres_env, sqlite_env
from projections.users import UserDirectory

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How often the embedded read models are saved while the server runs (and at stop).
SAVE_MODELS_EVERY_S = 60.0


class StoreUnavailable(RuntimeError):
    """Raised at start-up when the event store cannot be reached."""


@dataclass
class Listening:
    """Whether the LISTEN connection (PostgreSQL wake-ups across processes) is up."""

    connected: bool = False


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
    users: UserDirectory
    consults: ConsultDirectory
    feed: LiveFeed
    positions: PositionIngestor
    monitoring: MonitoringDirectory
    reads: ReadRecorder  # who read which patient's data
    tokens: TokenWatch
    throttle: AuthThrottle
    issued_tokens: list[IssuedToken] = field(default_factory=list)
    listening: Listening | None = None  # None on the embedded store (no LISTEN)
    area: Area | None = None  # the operating area imported from OpenStreetMap, if any
    geocoder: Geocoder | None = None  # its address index on this store
    #: Every incident for history searches, folded from the log at each search.
    history: HistoryIndex = field(default_factory=HistoryIndex)

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
        """Run a command in a worker thread, then wait until every read model includes it."""
        return await run_command(self.dispatch, self.runner, self.settings.read_timeout_s, write)

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
        key = await run_in_threadpool(witnessed, dispatch, settings)  # before anything is saved
        source = NotificationSource(dispatch)
        area = await run_in_threadpool(_open_area, settings)
        demo_seeded = False  # only into an empty store, and only when asked (see Settings)
        if settings.wants_demo and await run_in_threadpool(source.head) == 0:
            try:
                if area is not None:
                    summary = await run_in_threadpool(seed_area_demo, dispatch, area)
                else:
                    summary = await run_in_threadpool(seed_demo, dispatch)
                demo_seeded = True
                log.info("seeded the demo area: %s", summary)
            except AlreadyExists:  # another process, starting at the same time, seeds it
                log.info("the demo area is being seeded by another process")
        locator, board = await stack.enter_async_context(_read_models(settings))
        ranking = await run_in_threadpool(_road_ranking, settings, locator, area)
        geocoder = None
        if area is not None:
            from api.basemap_area import area_features
            from api.geocoding import open_geocoder

            geocoder = await run_in_threadpool(open_geocoder, settings, area)
            stack.callback(geocoder.index.close)
            await run_in_threadpool(area_features, area)  # the base map's layers, made once
        reference = ReferenceDirectory()
        users = UserDirectory()
        consults = ConsultDirectory()  # open teleconsults
        monitoring = MonitoringDirectory()
        head = await run_in_threadpool(source.head)
        feed = LiveFeed(
            ranking,
            plan,
            reference,
            buffer_size=settings.resume_buffer,
            buffer_bytes=settings.resume_buffer_bytes,
            build_after=max(0, head - settings.resume_buffer),
            stale_after=timedelta(seconds=settings.stale_after_s),
        )
        runner = ProjectionRunner(
            source,
            [locator, board, reference, users, consults, monitoring],
            followers=[feed],  # it reads the locator for recommendations
            poll_interval_s=settings.poll_interval_s,
        )
        history = HistoryIndex()
        saver = None
        if settings.database_url is None:  # embedded: start from the saved read models
            saver = ModelSaver(
                ModelStore(settings.sqlite_path, events_table=_events_table(dispatch)),
                [*runner.projections, history],  # type: ignore[list-item]
                every_s=SAVE_MODELS_EVERY_S,
            )
            await saver.restore()
            stack.push_async_callback(partial(saver.save, force=True))  # at stop
        await runner.start()
        stack.push_async_callback(runner.stop)
        if saver is not None:  # first right away (what the catch-up read), then now and then
            saving = asyncio.create_task(saver.run(), name="read-model-saver")
            stack.push_async_callback(_cancel, saving)
        # The caught-up read models are long-lived: keep the collector from rescanning them
        # on every full collection, which otherwise shows in query tail latency.
        gc.collect()
        gc.freeze()
        dispatch.add_listener(runner.wake)
        policy = seal_policy(settings, key)
        await stack.enter_async_context(sealing(dispatch, policy, settings.poll_interval_s))
        stack.callback(dispatch.remove_listener, runner.wake)
        reads = ReadRecorder(ReadLog(EventLog(dispatch)))
        await reads.start()
        stack.push_async_callback(reads.close)
        services = Services(
            settings=settings,
            plan=plan,
            dispatch=dispatch,
            source=source,
            locator=ranking,
            board=board,
            reference=reference,
            runner=runner,
            users=users,
            consults=consults,
            feed=feed,
            positions=PositionIngestor(
                dispatch,
                locator,
                feed,
                partial(run_command, dispatch, runner, settings.read_timeout_s),
                shared=settings.uses_postgres,
            ),
            monitoring=monitoring,
            reads=reads,
            area=area,
            geocoder=geocoder,
            history=history,
            tokens=TokenWatch(users, dispatch.clock),
            throttle=AuthThrottle(settings.auth_failures_per_minute),
        )
        stack.push_async_callback(services.positions.close)
        if settings.database_url is not None:
            from projections.postgis_locator import parse_position_payload

            channel = str(getattr(dispatch.recorder, "channel_name", "stored_events"))

            def on_positions(payload: str) -> None:
                feed.positions_moved(parse_position_payload(payload, skip_origin=ORIGIN))

            services.listening = Listening()
            listening = asyncio.create_task(
                _listen(
                    asyncpg_dsn(settings.database_url),
                    {channel: lambda _payload: runner.wake(), POSITIONS_CHANNEL: on_positions},
                    on_connect=runner.wake,
                    state=services.listening,
                ),
                name="listen",
            )
            stack.push_async_callback(_cancel, listening)
        watching = asyncio.create_task(_watch_stale(services), name="stale-watch")
        stack.push_async_callback(_cancel, watching)
        services.issued_tokens = await ensure_users(services, demo_seeded)
        yield services


async def run_command(
    dispatch: Dispatch, runner: ProjectionRunner, timeout_s: float, write: Callable[[], T]
) -> T:
    """Run `write` in a worker thread, then wait (bounded) until the read models reach the
    position of its own last event (read-your-writes); nothing saved, nothing to wait for."""

    def run() -> tuple[T, int]:
        dispatch.take_saved_position()  # forget a previous command's, in this thread
        result = write()
        return result, dispatch.take_saved_position()

    result, saved = await run_in_threadpool(run)
    if saved and not await runner.wait_for(saved, timeout_s):
        log.warning("read models did not reach position %d in time", saved)
    return result


def _events_table(dispatch: Dispatch) -> str:
    """The SQLite store's events table (saved read models note the event at their position)."""
    return str(getattr(dispatch.recorder, "events_table_name", "stored_events"))


def _open_area(settings: Settings) -> Area | None:
    """The imported area of the data directory; for the real demo, the bundled one."""
    from api.areas import AreaImportError, open_area
    from geo.area import AreaCacheError

    demo = settings.wants_demo and settings.demo_area == "liechtenstein"
    try:
        return open_area(settings.data_dir, demo=demo)
    except (AreaImportError, AreaCacheError) as exc:
        raise SettingsError(f"operating area: {exc}") from None


def _road_ranking(settings: Settings, locator: UnitLocator, area: Area | None) -> UnitLocator:
    """The locator, ranking by road ETA over a JEMSS road network when one is configured,
    else over the imported area's roads (emergency driving), else by distance."""
    if settings.road_network is None:
        if area is not None and area.roads.lats.size:
            from projections.road_locator import RoadLocator

            network = area.roads.network()
            log.info("ranking units by road ETA over %s (%d nodes)", area.name, network.node_count)
            return RoadLocator(locator, network, EMERGENCY_MODE)
        return locator
    from geo.jemss_tables import TableError
    from projections.road_locator import RoadLocator
    from simulations.network import load_network

    try:
        network, mode = load_network(settings.road_network)
    except (OSError, TableError) as exc:
        raise SettingsError(f"road network {settings.road_network}: {exc}") from None
    log.info("ranking units by road ETA (%d nodes, mode %d)", network.node_count, mode)
    return RoadLocator(locator, network, mode)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _watch_stale(services: Services) -> None:
    """Flag units silent for too long (checked a few times per threshold)."""
    interval = min(5.0, max(0.2, services.settings.stale_after_s / 10))
    while True:
        await asyncio.sleep(interval)
        services.feed.check_stale(services.now())


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


async def _listen(
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
