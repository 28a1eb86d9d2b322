"""Replay determinism: read models rebuilt from the store equal the ones that followed it live."""

from __future__ import annotations

import asyncio
import math
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.dispatch.board import IncidentBoard
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.locator import Query, UnitLocator
from najda.projections.runner import ProjectionRunner
from najda.projections.store.environment import postgres_env, sqlite_env
from najda.projections.store.postgis_pool import PostgisProjections
from tests.fakes import SeededIds, TickingClock, new_dispatch
from tests.integration.support import run

S = UnitStatus
T = TypeVar("T")
ACTOR = "dispatcher-1"
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CITY = Position(36.7538, 3.0588)
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180
WORKERS = 2
ROUNDS = 3
COMMANDS_PER_ROUND = 40
FORWARD = {
    S.DISPATCHED: (S.EN_ROUTE,),
    S.EN_ROUTE: (S.ON_SCENE,),
    S.ON_SCENE: (S.TRANSPORTING, S.AVAILABLE),
    S.TRANSPORTING: (S.AT_HOSPITAL,),
    S.AT_HOSPITAL: (S.AVAILABLE,),
}
RELEASABLE = (S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE)
STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgres)]


def random_point(rng: random.Random) -> Position:
    north, east = rng.uniform(-12_000, 12_000), rng.uniform(-12_000, 12_000)
    return Position(
        CITY.lat + north / M_PER_DEG_LAT,
        CITY.lon + east / (M_PER_DEG_LAT * math.cos(math.radians(CITY.lat))),
    )


class Worker:
    """A dispatcher working its own units and incidents with random valid commands."""

    def __init__(self, app: Dispatch, number: int, units: int = 40) -> None:
        self.app = app
        self.rng = random.Random(1000 + number)
        station = app.register_station(f"W{number}", f"Station {number}", CITY, ACTOR)
        self.units: list[UUID] = []
        for i in range(units):
            kind = self.rng.choice(sorted(UnitKind))
            caps = self.rng.sample(["cpr", "oxygen", "paediatric"], self.rng.randint(0, 2))
            where: dict[str, Any] = (
                {"station_id": station} if i % 3 == 0 else {"home": random_point(self.rng)}
            )
            self.units.append(
                app.register_unit(f"W{number}U{i:02d}", kind, ACTOR, capabilities=caps, **where)
            )
        self.status = dict.fromkeys(self.units, S.AVAILABLE)
        self.on: dict[UUID, UUID] = {}
        self.active: dict[UUID, list[UUID]] = {}

    def _free(self, u: UUID) -> None:
        self.status[u] = S.AVAILABLE
        self.active[self.on.pop(u)].remove(u)

    def play(self, commands: int) -> None:
        for _ in range(commands):
            self.step()

    def step(self) -> None:
        app, rng = self.app, self.rng
        available = [u for u in self.units if self.status[u] is S.AVAILABLE]
        committed = [u for u in self.units if self.status[u].is_committed]
        releasable = [u for u in committed if self.status[u] in RELEASABLE]
        idle = [i for i, us in self.active.items() if not us]
        action = rng.choice(["report", "assign", "advance", "advance", "move", "other"])
        if action == "report" or not self.active:
            iid = app.report_incident(
                location=random_point(rng),
                address=f"{rng.randint(1, 200)} Rue",
                nature=rng.choice(["fall", "chest pain", "crisis", "burns"]),
                priority=rng.choice(sorted(Priority)),
                actor=ACTOR,
            )
            self.active[iid] = []
        elif action == "assign" and available:
            iid = rng.choice(list(self.active))
            picks = rng.sample(available, min(len(available), rng.randint(1, 2)))
            app.assign_units(iid, [UnitChoice(u) for u in picks], ACTOR)
            for u in picks:
                self.status[u], self.on[u] = S.DISPATCHED, iid
                self.active[iid].append(u)
        elif action == "advance" and committed:
            u = rng.choice(committed)
            new = rng.choice(FORWARD[self.status[u]])
            app.update_unit_status(u, new, ACTOR)
            if new is S.AVAILABLE:
                self._free(u)
            else:
                self.status[u] = new
        elif action == "move":
            app.report_position(rng.choice(self.units), random_point(rng), "crew")
        elif idle and rng.random() < 0.4:
            iid = rng.choice(idle)
            app.close_incident(iid, "treated", ACTOR)
            del self.active[iid]
        elif releasable and rng.random() < 0.5:
            u = rng.choice(releasable)
            app.release_unit(self.on[u], u, "re-assigned", ACTOR)
            self._free(u)
        else:
            iid = rng.choice(list(self.active))
            if all(self.status[u] in RELEASABLE for u in self.active[iid]):
                app.cancel_incident(iid, "duplicate call", ACTOR)
                for u in list(self.active[iid]):
                    self._free(u)
                del self.active[iid]
            else:
                app.change_priority(iid, rng.choice(sorted(Priority)), ACTOR)


async def snapshot(locator: UnitLocator, board: IncidentBoard) -> tuple[Any, ...]:
    """Everything a console would read: every unit, the board, and a few nearest queries."""
    rng = random.Random(99)
    points = [random_point(rng) for _ in range(8)]
    nearest = [
        [(c.unit_id, c.distance_m, c.eta_s) for c in await locator.nearest(Query(p.lat, p.lon))]
        for p in points
    ]
    return (await locator.all_units(), await board.open_incidents(), nearest)


async def rebuilt_embedded(app: Dispatch) -> tuple[Any, ...]:
    """Fresh in-memory projections caught up from the store in one go."""
    locator, board = EmbeddedLocator(), EmbeddedBoard()
    await ProjectionRunner(NotificationSource(app), [locator, board]).catch_up()
    return await snapshot(locator, board)


async def follow_live_then_rebuild(app: Dispatch, pg_url: str | None) -> None:
    pg = None if pg_url is None else await PostgisProjections.connect(pg_url)
    locator: UnitLocator = EmbeddedLocator() if pg is None else pg.locator
    board: IncidentBoard = EmbeddedBoard() if pg is None else pg.board
    source = NotificationSource(app)
    # A long poll: the live model must keep up through wake-ups, not through polling.
    runner = ProjectionRunner(source, [locator, board], batch_size=20, poll_interval_s=60)
    try:
        await runner.start()
        app.add_listener(runner.wake)
        workers = await asyncio.gather(*(asyncio.to_thread(Worker, app, n) for n in range(WORKERS)))
        for _ in range(ROUNDS):
            await asyncio.gather(*(asyncio.to_thread(w.play, COMMANDS_PER_ROUND) for w in workers))
            head = source.head()
            assert await runner.wait_for(head, timeout_s=30), runner.positions
            assert runner.error is None
            live = await snapshot(locator, board)
            assert live == await rebuilt_embedded(app)
        assert len(live[0]) == 40 * WORKERS and live[1]
        assert {r.status for r in live[0]} > {S.AVAILABLE}
        assert sum(len(r.units) for r in live[1]) > 0
        app.remove_listener(runner.wake)
        await runner.stop()
        if pg is not None:
            # A new process rebuilds the PostGIS tables from nothing.
            await pg.close()
            pg = await PostgisProjections.connect(pg_url or "")
            await pg.locator.reset()
            await pg.board.reset()
            await ProjectionRunner(source, [pg.locator, pg.board]).catch_up()
            assert await snapshot(pg.locator, pg.board) == live
            assert await pg.locator.position() == head
    finally:
        app.remove_listener(runner.wake)
        await runner.stop()
        if pg is not None:
            await pg.close()


@pytest.mark.parametrize("store", STORES)
def test_read_models_rebuilt_from_the_store_equal_the_live_ones(
    store: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    pg_url: str | None = None
    if store == "embedded":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        pg_url = request.getfixturevalue("pg_url")
        env = postgres_env(pg_url)
    app = new_dispatch(env=env, clock=TickingClock(), new_id=SeededIds(3))
    try:
        run(follow_live_then_rebuild(app, pg_url))
    finally:
        app.close()


def test_stopping_a_live_runner_as_a_wake_up_lands_does_not_hang(tmp_path: Path) -> None:
    """The follower must honour stop() even when a save's wake-up has just released it."""
    app = new_dispatch(env=sqlite_env(tmp_path / "events.sqlite"), clock=TickingClock())

    async def body() -> None:
        runner = ProjectionRunner(NotificationSource(app), [EmbeddedLocator()], poll_interval_s=60)
        await runner.start()
        for _ in range(20):
            runner.wake()
            await asyncio.sleep(0)  # one loop turn: the wake-up is delivered to the follower
            async with asyncio.timeout(10):
                await runner.stop()
            await runner.start()
        await runner.stop()

    try:
        run(body())
    finally:
        app.close()
