"""What a running server holds: the Dispatch application, read models and their runner."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from eventsourcing.persistence import InterfaceError, OperationalError
from starlette.concurrency import run_in_threadpool

from najda.api.audit_trust import seal_policy, witnessed
from najda.api.demo import seed_demo
from najda.api.demo_area import seed_area_demo
from najda.api.listen import Listening, cancel, start_listening
from najda.api.live.feed import LiveFeed
from najda.api.live.positions import PositionIngestor
from najda.api.live.tokens import TokenWatch
from najda.api.settings import Settings, SettingsError
from najda.api.throttle import AuthThrottle
from najda.api.users import IssuedToken, ensure_users
from najda.domain.application import Dispatch
from najda.domain.dispatch.response_plan import ResponsePlan
from najda.domain.errors import AlreadyExists
from najda.geo.area import EMERGENCY_MODE, Area
from najda.geo.distance import great_circle_m
from najda.projections.access.user_directory import UserDirectory
from najda.projections.addresses.geocoder import Geocoder
from najda.projections.audit.patient_reads import ReadLog, ReadRecorder
from najda.projections.audit.seal import sealing
from najda.projections.base import NotificationSource
from najda.projections.care.consult_queue import ConsultDirectory
from najda.projections.care.monitoring_board import MonitoringDirectory
from najda.projections.dispatch.board import IncidentBoard
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.incident_history import HistoryIndex
from najda.projections.dispatch.locator import UnitLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.policies.recommender import PolicyRecommender
from najda.projections.runner import ProjectionRunner
from najda.projections.store.environment import asyncpg_dsn, postgres_env, sqlite_env
from najda.projections.store.event_rows import EventLog
from najda.projections.store.read_model_saver import ModelSaver
from najda.projections.store.saved_read_models import ModelStore

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How often the embedded read models are saved while the server runs (and at stop).
SAVE_MODELS_EVERY_S = 60.0


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
    recommender: PolicyRecommender | None = None  # the dispatch policy's recommendations
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
        dispatch = await run_in_threadpool(_open_store, settings)
        stack.callback(dispatch.close)
        key = await run_in_threadpool(witnessed, dispatch, settings)  # before anything is saved
        source = NotificationSource(dispatch)
        area = await run_in_threadpool(open_operating_area, settings)
        demo_seeded = await run_in_threadpool(_seed_demo, settings, dispatch, source, area)
        locator, board = await stack.enter_async_context(_read_models(settings))
        ranking = await run_in_threadpool(_road_ranking, settings, locator, area)
        geocoder = None
        if area is not None:
            geocoder = await run_in_threadpool(_open_geocoder, settings, area)
            stack.callback(geocoder.index.close)
        reference = ReferenceDirectory()
        users = UserDirectory()
        consults = ConsultDirectory()  # open teleconsults
        monitoring = MonitoringDirectory()
        head = await run_in_threadpool(source.head)
        recommender = await run_in_threadpool(
            policy_recommender, settings, locator, ranking, reference, area, dispatch
        )
        feed = _live_feed(settings, plan, ranking, reference, recommender, head)
        runner = ProjectionRunner(
            source,
            [locator, board, reference, users, consults, monitoring, recommender.posts],
            followers=[feed],  # it reads the locator for recommendations
            poll_interval_s=settings.poll_interval_s,
        )
        history = HistoryIndex()
        await _start_read_models(stack, settings, dispatch, runner, history)
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
            recommender=recommender,
            history=history,
            tokens=TokenWatch(users, dispatch.clock),
            throttle=AuthThrottle(settings.auth_failures_per_minute),
        )
        stack.push_async_callback(services.positions.close)
        if settings.database_url is not None:
            services.listening, listening = start_listening(
                asyncpg_dsn(settings.database_url), dispatch, runner, feed
            )
            stack.push_async_callback(cancel, listening)
        watching = asyncio.create_task(_watch_stale(services), name="stale-watch")
        stack.push_async_callback(cancel, watching)
        services.issued_tokens = await ensure_users(services, demo_seeded)
        yield services


def _live_feed(
    settings: Settings,
    plan: ResponsePlan,
    ranking: UnitLocator,
    reference: ReferenceDirectory,
    recommender: PolicyRecommender,
    head: int,
) -> LiveFeed:
    """The live feed, building messages for the last `resume_buffer` events of the log."""
    return LiveFeed(
        ranking,
        plan,
        reference,
        recommender=recommender,
        buffer_size=settings.resume_buffer,
        buffer_bytes=settings.resume_buffer_bytes,
        build_after=max(0, head - settings.resume_buffer),
        stale_after=timedelta(seconds=settings.stale_after_s),
    )


async def _start_read_models(
    stack: AsyncExitStack,
    settings: Settings,
    dispatch: Dispatch,
    runner: ProjectionRunner,
    history: HistoryIndex,
) -> None:
    """Start the runner (embedded: from the saved read models, saved again now and then and
    at stop), then have each save wake it; `stack` undoes it all in reverse."""
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
        stack.push_async_callback(cancel, saving)
    # The caught-up read models are long-lived: keep the collector from rescanning them
    # on every full collection, which otherwise shows in query tail latency.
    gc.collect()
    gc.freeze()
    dispatch.add_listener(runner.wake)


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


def _open_store(settings: Settings) -> Dispatch:
    """The Dispatch application on the configured store; StoreUnavailable when unreachable."""
    if settings.database_url is not None:
        env = postgres_env(settings.database_url)
    else:
        env = sqlite_env(settings.sqlite_path)
    try:
        return Dispatch(env, distance=great_circle_m)
    except (OperationalError, InterfaceError) as exc:
        raise StoreUnavailable(
            f"cannot open the event store ({settings.store_description()}): {exc}"
        ) from None


def _seed_demo(
    settings: Settings, dispatch: Dispatch, source: NotificationSource, area: Area | None
) -> bool:
    """Seed the demo into an empty store when asked (see Settings); True when this did."""
    if not settings.wants_demo or source.head() != 0:
        return False
    try:
        summary = seed_demo(dispatch) if area is None else seed_area_demo(dispatch, area)
    except AlreadyExists:  # another process, starting at the same time, seeds it
        log.info("the demo area is being seeded by another process")
        return False
    log.info("seeded the demo area: %s", summary)
    return True


def _open_geocoder(settings: Settings, area: Area) -> Geocoder:
    """The area's address index on this store, and the base map's layers made once."""
    from najda.api.basemap_area import area_features
    from najda.api.geocoding import open_geocoder

    geocoder = open_geocoder(settings, area)
    area_features(area)
    return geocoder


def _events_table(dispatch: Dispatch) -> str:
    """The SQLite store's events table (saved read models note the event at their position)."""
    return str(getattr(dispatch.recorder, "events_table_name", "stored_events"))


def open_operating_area(settings: Settings) -> Area | None:
    """The imported area of the data directory; for the real demo, the bundled one."""
    from najda.api.areas import AreaImportError, open_area
    from najda.geo.area import AreaCacheError

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
            from najda.projections.dispatch.road_locator import RoadLocator

            network = area.roads.network()
            log.info("ranking units by road ETA over %s (%d nodes)", area.name, network.node_count)
            return RoadLocator(locator, network, EMERGENCY_MODE)
        return locator
    from najda.geo.jemss_model import load_network
    from najda.geo.jemss_tables import TableError
    from najda.projections.dispatch.road_locator import RoadLocator

    try:
        network, mode = load_network(settings.road_network)
    except (OSError, TableError) as exc:
        raise SettingsError(f"road network {settings.road_network}: {exc}") from None
    log.info("ranking units by road ETA (%d nodes, mode %d)", network.node_count, mode)
    return RoadLocator(locator, network, mode)


def policy_recommender(
    settings: Settings,
    locator: UnitLocator,
    ranking: UnitLocator,
    reference: ReferenceDirectory,
    area: Area | None,
    dispatch: Dispatch,
) -> PolicyRecommender:
    """The server's one policy object: `--policy`, else closest by road when it has roads."""
    from najda.projections.dispatch.road_locator import RoadLocator
    from najda.projections.policies.live import zones_from_area
    from najda.projections.policies.recommender import PolicyError

    road = ranking if isinstance(ranking, RoadLocator) else None
    name = settings.policy or ("closest-road" if road is not None else "closest-straight")
    try:
        recommender = PolicyRecommender(
            name,
            locator,
            road,
            reference,
            settings.load_targets(),
            zones=zones_from_area(area) if area is not None else None,
            network=road.network if road is not None else None,
            mode=road.mode if road is not None else EMERGENCY_MODE,
            now=dispatch.clock,
        )
    except PolicyError as exc:
        raise SettingsError(str(exc)) from None
    log.info("recommendations follow the %s policy", name)
    return recommender


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
    from najda.projections.store.postgis_pool import PostgisProjections  # lazy: PostGIS mode only

    projections = await PostgisProjections.connect(asyncpg_dsn(settings.database_url))
    try:
        yield projections.locator, projections.board
    finally:
        await projections.close()
