"""Unit locator contract: embedded (SQLite store) and PostGIS (PostgreSQL store) answer alike."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.geo.distance import geodesic_m, great_circle_m
from najda.geo.speed import SpeedModel
from najda.projections.base import NotificationSource, Tracked
from najda.projections.dispatch.board import IncidentBoard
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.locator import Candidate, Query, UnitLocator
from najda.projections.runner import ProjectionRunner
from najda.projections.store import postgis_pool as postgis
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
CAPABILITIES = ("bariatric", "cpr", "oxygen", "paediatric", "ventilator")
IMPLEMENTATIONS = ["embedded", pytest.param("postgis", marks=pytest.mark.postgres)]


def near(origin: Position, north_m: float, east_m: float) -> Position:
    """A point about `north_m`, `east_m` away from `origin` (exact distances are measured)."""
    lat = origin.lat + north_m / M_PER_DEG_LAT
    lon = origin.lon + east_m / (M_PER_DEG_LAT * math.cos(math.radians(origin.lat)))
    return Position(lat, lon)


def make_app(env: dict[str, str], seed: int = 7) -> Dispatch:
    """A Dispatch application with a fake clock and seeded ids on a real store."""
    return new_dispatch(env=env, clock=TickingClock(), new_id=SeededIds(seed))


@dataclass
class Opened:
    """A locator and board of one implementation, and how to stop them."""

    locator: UnitLocator
    board: IncidentBoard
    handle: PostgisProjections | None = None

    async def close(self) -> None:
        if self.handle is not None:
            await self.handle.close()

    def kill(self) -> None:
        """Drop the connections at once, as a crashed process would."""
        if self.handle is not None:
            self.handle.pool.terminate()


@dataclass
class Backend:
    """One implementation with the Dispatch application on its matching store."""

    kind: str
    app: Dispatch
    pg_url: str | None = None

    @property
    def clock(self) -> TickingClock:
        clock = self.app.clock
        assert isinstance(clock, TickingClock)
        return clock

    async def open(self) -> Opened:
        """New projection objects (PostGIS: a new pool on the same tables)."""
        if self.pg_url is None:
            return Opened(EmbeddedLocator(), EmbeddedBoard())
        handle = await PostgisProjections.connect(self.pg_url, pool_min=1, pool_max=4)
        return Opened(handle.locator, handle.board, handle)

    async def session(self, body: Callable[[Opened], Awaitable[T]]) -> T:
        """Open projections, run `body`, close them whatever happens."""
        opened = await self.open()
        try:
            return await body(opened)
        finally:
            await opened.close()

    def source(self) -> NotificationSource:
        return NotificationSource(self.app)


def backend_for(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if kind == "embedded":
        return Backend(kind, make_app(sqlite_env(tmp_path / "events.sqlite")))
    url: str = request.getfixturevalue("pg_url")
    return Backend(kind, make_app(postgres_env(url)), url)


@pytest.fixture(params=IMPLEMENTATIONS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each implementation in turn, with a Dispatch application on its store."""
    b = backend_for(request.param, request, tmp_path)
    try:
        yield b
    finally:
        b.app.close()


async def catch_up(app: Dispatch, *projections: Any, batch_size: int = 500) -> int:
    """Feed projections from the application's notification log up to its head."""
    runner = ProjectionRunner(NotificationSource(app), list(projections), batch_size=batch_size)
    return await runner.catch_up()


def unit(
    app: Dispatch, call_sign: str, at: Position, kind: UnitKind = UnitKind.ALS, *caps: str
) -> UUID:
    return app.register_unit(call_sign, kind, ACTOR, capabilities=caps, home=at)


def incident(app: Dispatch, at: Position = CITY, priority: Priority = Priority.D) -> UUID:
    return app.report_incident(
        location=at,
        address="1 Rue Didouche Mourad",
        nature="chest pain",
        priority=priority,
        actor=ACTOR,
    )


def call_signs(found: Sequence[Candidate]) -> list[str]:
    return [c.call_sign for c in found]


def assert_same_answers(got: Sequence[Candidate], expected: Sequence[Candidate]) -> None:
    """Same units in the same order, distances within 1 mm, equal ETAs."""
    assert [c.unit_id for c in got] == [c.unit_id for c in expected]
    for a, b in zip(got, expected, strict=True):
        assert abs(a.distance_m - b.distance_m) <= 1e-3, (a, b)
        assert a.eta_s == b.eta_s
        assert (a.lat, a.lon, a.status, a.kind) == (b.lat, b.lon, b.status, b.kind)


# --- nearest: filters and ranking -----------------------------------------------------


def test_nearest_ranks_available_units_by_geodesic_distance_with_eta(backend: Backend) -> None:
    app = backend.app
    offsets = {"FAR": (4000, 0), "MID": (0, -1500), "CLOSE": (300, 200), "NEXT": (-700, 0)}
    homes = {cs: near(CITY, n, e) for cs, (n, e) in offsets.items()}
    for cs, home in homes.items():
        unit(app, cs, home)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        found = await p.locator.nearest(Query(CITY.lat, CITY.lon, limit=3))
        assert call_signs(found) == ["CLOSE", "NEXT", "MID"]
        speed = SpeedModel()
        for c in found:
            exact = geodesic_m(CITY.lat, CITY.lon, homes[c.call_sign].lat, homes[c.call_sign].lon)
            assert abs(c.distance_m - exact) <= 1e-3
            assert c.eta_s == round(speed.eta_s(c.distance_m), 1)
            assert c.status is S.AVAILABLE
            assert (c.lat, c.lon) == (homes[c.call_sign].lat, homes[c.call_sign].lon)

    run(backend.session(body))


def test_kinds_and_capabilities_filter_the_candidates(backend: Backend) -> None:
    app = backend.app
    unit(app, "ALS-CPR", near(CITY, 900, 0), UnitKind.ALS, "cpr")
    unit(app, "ALS-BARE", near(CITY, 100, 0), UnitKind.ALS)
    unit(app, "BLS-OXY", near(CITY, 500, 0), UnitKind.BLS, "cpr", "oxygen")
    unit(app, "CRISIS", near(CITY, 50, 0), UnitKind.CRISIS)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        nearest = p.locator.nearest
        als_cpr = Query(CITY.lat, CITY.lon, frozenset({UnitKind.ALS}), frozenset({"cpr"}))
        assert call_signs(await nearest(als_cpr)) == ["ALS-CPR"]
        oxygen = Query(CITY.lat, CITY.lon, None, frozenset({"oxygen"}))
        assert call_signs(await nearest(oxygen)) == ["BLS-OXY"]
        ambulances = Query(CITY.lat, CITY.lon, frozenset({UnitKind.ALS, UnitKind.BLS}))
        assert call_signs(await nearest(ambulances)) == ["ALS-BARE", "BLS-OXY", "ALS-CPR"]
        both = Query(CITY.lat, CITY.lon, None, frozenset({"cpr", "oxygen"}))
        assert call_signs(await nearest(both)) == ["BLS-OXY"]
        nobody = Query(CITY.lat, CITY.lon, frozenset({UnitKind.SUPERVISOR}))
        assert await nearest(nobody) == []
        anyone = Query(CITY.lat, CITY.lon, limit=10)
        assert call_signs(await nearest(anyone)) == ["CRISIS", "ALS-BARE", "BLS-OXY", "ALS-CPR"]

    run(backend.session(body))


def test_excluded_units_are_skipped(backend: Backend) -> None:
    app = backend.app
    first = unit(app, "FIRST", near(CITY, 100, 0))
    unit(app, "SECOND", near(CITY, 200, 0))
    third = unit(app, "THIRD", near(CITY, 300, 0))
    unit(app, "FOURTH", near(CITY, 400, 0))

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        query = Query(CITY.lat, CITY.lon, limit=2, exclude=frozenset({first, third}))
        assert call_signs(await p.locator.nearest(query)) == ["SECOND", "FOURTH"]

    run(backend.session(body))


def test_limit_larger_than_the_matches_returns_every_match(backend: Backend) -> None:
    app = backend.app
    for i, cs in enumerate(["D4", "B2", "C3", "A1"]):
        unit(app, cs, near(CITY, 0, 250 * (i + 1)))
    unit(app, "BLS9", CITY, UnitKind.BLS)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        query = Query(CITY.lat, CITY.lon, frozenset({UnitKind.ALS}), limit=50)
        assert call_signs(await p.locator.nearest(query)) == ["D4", "B2", "C3", "A1"]

    run(backend.session(body))


def test_ties_are_broken_by_call_sign_even_at_the_fetch_boundary(backend: Backend) -> None:
    """Twelve units at one station: more than the first fetch, all at the same distance."""
    app = backend.app
    station = app.register_station("ST1", "Station 1", near(CITY, 2000, 2000), ACTOR)
    names = [f"AMB{i:02d}" for i in range(12)]
    for cs in reversed(names):  # registered in the opposite order to the expected answer
        app.register_unit(cs, UnitKind.ALS, ACTOR, station_id=station)
    unit(app, "AMB99", near(CITY, 2000, 2000))  # same point, registered by position

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        found = await p.locator.nearest(Query(CITY.lat, CITY.lon, limit=3))
        assert call_signs(found) == ["AMB00", "AMB01", "AMB02"]
        assert len({c.distance_m for c in found}) == 1
        everyone = await p.locator.nearest(Query(CITY.lat, CITY.lon, limit=13))
        assert call_signs(everyone) == [*names, "AMB99"]

    run(backend.session(body))


def test_the_geodesic_nearest_is_found_beyond_the_first_sphere_ordered_fetch(
    backend: Backend,
) -> None:
    """Nine units due east are nearer on the sphere; the one due north is nearer on WGS84."""
    app = backend.app
    east = {f"EAST{i}": near(CITY, 0, 1000 + 0.2 * i) for i in range(9)}
    north = near(CITY, 1003, 0)
    for cs, home in east.items():
        unit(app, cs, home)
    unit(app, "NORTH", north)
    unit(app, "FAR", near(CITY, 9000, 0))
    north_m = geodesic_m(CITY.lat, CITY.lon, north.lat, north.lon)
    assert all(north_m < geodesic_m(CITY.lat, CITY.lon, p.lat, p.lon) for p in east.values())
    north_sphere_m = great_circle_m(CITY.lat, CITY.lon, north.lat, north.lon)
    assert all(
        north_sphere_m > great_circle_m(CITY.lat, CITY.lon, p.lat, p.lon) for p in east.values()
    )

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        found = await p.locator.nearest(Query(CITY.lat, CITY.lon, limit=1))
        assert call_signs(found) == ["NORTH"]
        assert abs(found[0].distance_m - north_m) <= 1e-3

    run(backend.session(body))


# --- status -----------------------------------------------------------------------------


def test_units_that_are_not_available_are_never_returned_until_available_again(
    backend: Backend,
) -> None:
    app = backend.app
    ids = {cs: unit(app, cs, near(CITY, 100 * (i + 1), 0)) for i, cs in enumerate("ABCDEFG")}
    first, second = incident(app), incident(app, near(CITY, 50, 50))
    app.assign_units(first, [UnitChoice(ids["A"]), UnitChoice(ids["B"])], ACTOR)
    app.assign_units(second, [UnitChoice(ids["C"]), UnitChoice(ids["E"])], ACTOR)
    app.update_unit_status(ids["B"], S.EN_ROUTE, ACTOR)
    for status in (S.EN_ROUTE, S.ON_SCENE):
        app.update_unit_status(ids["C"], status, ACTOR)
    for status in (S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING):
        app.update_unit_status(ids["E"], status, ACTOR)
    app.update_unit_status(ids["D"], S.OUT_OF_SERVICE, ACTOR)
    anyone = Query(CITY.lat, CITY.lon, limit=10)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        assert call_signs(await p.locator.nearest(anyone)) == ["F", "G"]
        a, b, c, d = [await p.locator.get(ids[cs]) for cs in "ABCD"]
        assert a is not None and (a.status, a.incident_id) == (S.DISPATCHED, first)
        assert b is not None and (b.status, b.incident_id) == (S.EN_ROUTE, first)
        assert c is not None and (c.status, c.incident_id) == (S.ON_SCENE, second)
        assert d is not None and (d.status, d.incident_id) == (S.OUT_OF_SERVICE, None)

        app.update_unit_status(ids["E"], S.AT_HOSPITAL, ACTOR)
        app.release_unit(first, ids["A"], "re-assigned", ACTOR)
        await catch_up(app, p.locator)
        assert call_signs(await p.locator.nearest(anyone)) == ["A", "F", "G"]
        e = await p.locator.get(ids["E"])
        assert e is not None and (e.status, e.incident_id) == (S.AT_HOSPITAL, second)

        app.update_unit_status(ids["D"], S.AVAILABLE, ACTOR)
        app.update_unit_status(ids["C"], S.AVAILABLE, ACTOR)  # cleared from the scene
        app.update_unit_status(ids["E"], S.AVAILABLE, ACTOR)
        app.cancel_incident(first, "caller called back", ACTOR)  # releases B
        await catch_up(app, p.locator)
        assert call_signs(await p.locator.nearest(anyone)) == list("ABCDEFG")
        for row in await p.locator.all_units():
            assert (row.status, row.incident_id) == (S.AVAILABLE, None)

    run(backend.session(body))


# --- positions ------------------------------------------------------------------------


def test_position_reports_and_direct_updates_move_units_and_older_ones_are_ignored(
    backend: Backend,
) -> None:
    app = backend.app
    mover = unit(app, "MOVER", near(CITY, 5000, 0))
    unit(app, "STILL", near(CITY, 1000, 0))
    base = backend.clock.now
    reported = near(CITY, 100, 0)
    assert app.report_position(mover, reported, "crew", at=base + timedelta(minutes=1))
    nearest_one = Query(CITY.lat, CITY.lon, limit=1)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)
        row = await p.locator.get(mover)
        assert row is not None
        assert (row.lat, row.lon) == (reported.lat, reported.lon)
        assert row.position_at == base + timedelta(minutes=1)
        assert call_signs(await p.locator.nearest(nearest_one)) == ["MOVER"]

        away = near(CITY, -8000, 0)
        assert await p.locator.update_position(
            mover, away.lat, away.lon, base + timedelta(minutes=3)
        )
        assert call_signs(await p.locator.nearest(nearest_one)) == ["STILL"]
        older = near(CITY, 10, 0)
        assert not await p.locator.update_position(
            mover, older.lat, older.lon, base + timedelta(minutes=2)
        )
        assert not await p.locator.update_position(
            mover, older.lat, older.lon, base + timedelta(minutes=3)
        )
        assert not await p.locator.update_position(uuid.uuid4(), 0.0, 0.0, base)
        row = await p.locator.get(mover)
        assert row is not None
        assert (row.lat, row.lon, row.position_at) == (
            away.lat,
            away.lon,
            base + timedelta(minutes=3),
        )

        # An event older than the direct update arrives later: the newer position stands.
        assert app.report_position(mover, older, "crew", at=base + timedelta(minutes=2))
        await catch_up(app, p.locator)
        row = await p.locator.get(mover)
        assert row is not None and (row.lat, row.lon) == (away.lat, away.lon)
        # A newer event wins again.
        assert app.report_position(mover, older, "crew", at=base + timedelta(minutes=4))
        await catch_up(app, p.locator)
        row = await p.locator.get(mover)
        assert row is not None and (row.lat, row.lon) == (older.lat, older.lon)
        assert call_signs(await p.locator.nearest(nearest_one)) == ["MOVER"]

    run(backend.session(body))


def test_moves_and_statuses_in_one_batch_apply_in_order(backend: Backend) -> None:
    """Several changes of one unit, including its registration, folded into one batch."""
    app = backend.app
    base = backend.clock.now
    u = unit(app, "BUSY", near(CITY, 3000, 0))
    app.report_position(u, near(CITY, 2000, 0), "crew", at=base + timedelta(minutes=2))
    app.report_position(u, near(CITY, 1000, 0), "crew", at=base + timedelta(minutes=3))
    first = incident(app)
    app.assign_units(first, [UnitChoice(u)], ACTOR)
    app.update_unit_status(u, S.EN_ROUTE, ACTOR)
    app.update_unit_status(u, S.ON_SCENE, ACTOR)
    v = unit(app, "LATER", near(CITY, 4000, 0))
    spare = unit(app, "SPARE", near(CITY, 200, 0))
    second = incident(app)
    app.assign_units(second, [UnitChoice(v)], ACTOR)
    app.update_unit_status(v, S.EN_ROUTE, ACTOR)

    async def body(p: Opened) -> None:
        await catch_up(app, p.locator)  # one batch holds every event
        row = await p.locator.get(u)
        assert row is not None
        assert (row.status, row.incident_id) == (S.ON_SCENE, first)
        assert (row.lat, row.lon) == (near(CITY, 1000, 0).lat, near(CITY, 1000, 0).lon)
        later = await p.locator.get(v)
        assert later is not None and (later.status, later.incident_id) == (S.EN_ROUTE, second)
        w = unit(app, "NEWEST", near(CITY, 10, 0))
        app.update_unit_status(v, S.ON_SCENE, ACTOR)
        app.update_unit_status(v, S.AVAILABLE, ACTOR)
        app.update_unit_status(w, S.OUT_OF_SERVICE, ACTOR)
        third = incident(app)
        app.assign_units(third, [UnitChoice(spare)], ACTOR)
        app.update_unit_status(spare, S.EN_ROUTE, ACTOR)
        await catch_up(app, p.locator)
        later = await p.locator.get(v)
        assert later is not None and (later.status, later.incident_id) == (S.AVAILABLE, None)
        row = await p.locator.get(spare)
        assert row is not None and (row.status, row.incident_id) == (S.EN_ROUTE, third)
        newest = await p.locator.get(w)
        assert newest is not None and newest.status is S.OUT_OF_SERVICE
        anyone = Query(CITY.lat, CITY.lon, limit=5)
        assert call_signs(await p.locator.nearest(anyone)) == ["LATER"]

    run(backend.session(body))


# --- a seeded random scenario ---------------------------------------------------------


def random_point(rng: random.Random) -> Position:
    return near(CITY, rng.uniform(-15_000, 15_000), rng.uniform(-15_000, 15_000))


def play_scenario(app: Dispatch, seed: int, units: int = 200, commands: int = 50) -> list[UUID]:
    """Register units and run random valid commands; same seed, same events on any store."""
    rng = random.Random(seed)
    stations = [
        app.register_station(f"S{i}", f"Station {i}", random_point(rng), ACTOR) for i in range(8)
    ]
    roster: list[UUID] = []
    for i in range(units):
        kind = rng.choice(sorted(UnitKind))
        caps = rng.sample(CAPABILITIES, rng.randint(0, 3))
        call_sign = f"{rng.choice('ABCDEFGH')}{i:03d}"
        if rng.random() < 0.4:
            roster.append(
                app.register_unit(
                    call_sign, kind, ACTOR, capabilities=caps, station_id=rng.choice(stations)
                )
            )
        else:
            roster.append(
                app.register_unit(call_sign, kind, ACTOR, capabilities=caps, home=random_point(rng))
            )
    status = dict.fromkeys(roster, S.AVAILABLE)
    on: dict[UUID, UUID] = {}  # unit -> incident
    active: dict[UUID, list[UUID]] = {}  # open incident -> active units
    forward = {
        S.DISPATCHED: [S.EN_ROUTE],
        S.EN_ROUTE: [S.ON_SCENE],
        S.ON_SCENE: [S.TRANSPORTING, S.AVAILABLE],
        S.TRANSPORTING: [S.AT_HOSPITAL],
        S.AT_HOSPITAL: [S.AVAILABLE],
    }
    releasable = (S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE)

    def free(u: UUID) -> None:
        status[u] = S.AVAILABLE
        active[on.pop(u)].remove(u)

    done = 0
    while done < commands:
        action = rng.choice(
            [
                "report",
                "assign",
                "assign",
                "advance",
                "advance",
                "advance",
                "release",
                "cancel",
                "close",
                "priority",
                "move",
                "move",
                "service",
            ]
        )
        available = [u for u in roster if status[u] is S.AVAILABLE]
        committed = [u for u in roster if status[u].is_committed]
        if action == "report" or not active:
            iid = app.report_incident(
                location=random_point(rng),
                address=f"{rng.randint(1, 99)} Rue",
                nature="fall",
                priority=rng.choice(sorted(Priority)),
                actor=ACTOR,
            )
            active[iid] = []
        elif action == "assign" and available:
            iid = rng.choice(sorted(active))
            picks = rng.sample(available, min(len(available), rng.randint(1, 3)))
            app.assign_units(iid, [UnitChoice(u) for u in picks], ACTOR)
            for u in picks:
                status[u], on[u] = S.DISPATCHED, iid
                active[iid].append(u)
        elif action == "advance" and committed:
            u = rng.choice(committed)
            new = rng.choice(forward[status[u]])
            app.update_unit_status(u, new, ACTOR)
            if new is S.AVAILABLE:
                free(u)
            else:
                status[u] = new
        elif action == "release" and any(status[u] in releasable for u in committed):
            u = rng.choice([u for u in committed if status[u] in releasable])
            app.release_unit(on[u], u, "re-assigned", ACTOR)
            free(u)
        elif action == "cancel":
            iid = rng.choice(sorted(active))
            if any(status[u] not in releasable for u in active[iid]):
                continue
            app.cancel_incident(iid, "no patient found", ACTOR)
            for u in list(active[iid]):
                free(u)
            del active[iid]
        elif action == "close":
            idle = sorted(i for i, us in active.items() if not us)
            if not idle:
                continue
            iid = rng.choice(idle)
            app.close_incident(iid, "treated on scene", ACTOR)
            del active[iid]
        elif action == "priority":
            app.change_priority(rng.choice(sorted(active)), rng.choice(sorted(Priority)), ACTOR)
        elif action == "move":
            app.report_position(rng.choice(roster), random_point(rng), "crew")
        elif action == "service":
            u = rng.choice([u for u in roster if not status[u].is_committed])
            new = S.AVAILABLE if status[u] is S.OUT_OF_SERVICE else S.OUT_OF_SERVICE
            app.update_unit_status(u, new, ACTOR)
            status[u] = new
        else:
            continue
        done += 1
    return roster


def random_queries(seed: int, roster: Sequence[UUID], count: int = 30) -> list[Query]:
    rng = random.Random(seed)
    queries = []
    for _ in range(count):
        point = random_point(rng)
        kinds = (
            frozenset(rng.sample(sorted(UnitKind), rng.randint(1, 2)))
            if rng.random() < 0.6
            else None
        )
        caps = frozenset(rng.sample(CAPABILITIES, 1)) if rng.random() < 0.4 else frozenset()
        exclude = frozenset(rng.sample(list(roster), 5)) if rng.random() < 0.3 else frozenset()
        limit = rng.choice([1, 3, 5, 8, 20])
        queries.append(Query(point.lat, point.lon, kinds, caps, limit, exclude))
    return queries


async def answers(locator: UnitLocator, queries: Sequence[Query]) -> list[list[Candidate]]:
    return [await locator.nearest(q) for q in queries]


def assert_all_same(
    got: Sequence[Sequence[Candidate]], expected: Sequence[Sequence[Candidate]]
) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert_same_answers(a, b)


@pytest.mark.postgres
def test_both_implementations_give_the_same_answers_for_the_same_commands(
    tmp_path: Path, pg_url: str
) -> None:
    sqlite_app = make_app(sqlite_env(tmp_path / "events.sqlite"))
    postgres_app = make_app(postgres_env(pg_url))
    try:
        roster = play_scenario(sqlite_app, seed=11)
        assert play_scenario(postgres_app, seed=11) == roster
        queries = random_queries(12, roster)

        async def body() -> None:
            embedded, board = EmbeddedLocator(), EmbeddedBoard()
            await catch_up(sqlite_app, embedded, board)
            async with await PostgisProjections.connect(pg_url) as pg:
                await catch_up(postgres_app, pg.locator, pg.board, batch_size=37)
                expected = await answers(embedded, queries)
                assert sum(len(a) for a in expected) > 60  # the queries find units
                assert_all_same(await answers(pg.locator, queries), expected)
                assert await pg.locator.all_units() == await embedded.all_units()
                assert await pg.board.open_incidents() == await board.open_incidents()
                statuses = {r.status for r in await embedded.all_units()}
                assert S.AVAILABLE in statuses and len(statuses) >= 3

        run(body())
    finally:
        sqlite_app.close()
        postgres_app.close()


class CappedSource(NotificationSource):
    """The log as it stood at an earlier position (a process that stopped there)."""

    def __init__(self, app: Dispatch, cap: int) -> None:
        super().__init__(app)
        self.cap = cap

    def read(self, after: int, limit: int) -> list[Tracked]:
        return [t for t in super().read(after, limit) if t.position <= self.cap]


def test_restart_from_the_tracking_position_gives_the_uninterrupted_answers(
    backend: Backend,
) -> None:
    app = backend.app
    roster = play_scenario(app, seed=21, units=120, commands=60)
    queries = random_queries(22, roster, count=20)
    source = backend.source()
    head = source.head()
    cut = [t.position for t in source.read(0, head)][head // 2]

    async def body() -> None:
        first = await backend.open()
        try:
            runner = ProjectionRunner(
                CappedSource(app, cut), [first.locator, first.board], batch_size=16
            )
            assert await runner.catch_up() == cut
        finally:
            first.kill()  # no graceful close: a crash mid-stream
        second = await backend.open()
        try:
            resumed_from = await second.locator.position()
            assert resumed_from == (cut if backend.kind == "postgis" else 0)
            assert await second.board.position() == resumed_from
            assert await catch_up(app, second.locator, second.board, batch_size=16) == head
            restarted = await answers(second.locator, queries)
            units, board = await second.locator.all_units(), await second.board.open_incidents()
            # The uninterrupted run: the same projections rebuilt from nothing in one go.
            await second.locator.reset()
            await second.board.reset()
            assert await second.locator.position() == 0
            assert await catch_up(app, second.locator, second.board) == head
            assert_all_same(restarted, await answers(second.locator, queries))
            assert units == await second.locator.all_units()
            assert board == await second.board.open_incidents()
            assert any(restarted)
        finally:
            await second.close()

    run(body())


def test_a_full_rebuild_equals_the_live_read_model(backend: Backend) -> None:
    app = backend.app

    async def body(p: Opened) -> None:
        live = ProjectionRunner(backend.source(), [p.locator, p.board], batch_size=5)
        roster = play_scenario(app, seed=31, units=60, commands=10)
        await live.catch_up()
        for step in range(6):  # the live model followed the log in small steps
            play_scenario_more(app, seed=100 + step, roster=roster)
            await live.catch_up()
        queries = random_queries(32, roster, count=15)
        units, board = await p.locator.all_units(), await p.board.open_incidents()
        found = await answers(p.locator, queries)
        assert len(units) == 60 and board
        await p.locator.reset()
        await p.board.reset()
        assert await p.locator.all_units() == [] and await p.board.open_incidents() == []
        assert await p.locator.position() == 0 and await p.board.position() == 0
        await catch_up(app, p.locator, p.board)
        assert await p.locator.all_units() == units
        assert await p.board.open_incidents() == board
        assert_all_same(await answers(p.locator, queries), found)

    run(backend.session(body))


def play_scenario_more(app: Dispatch, seed: int, roster: Sequence[UUID]) -> None:
    """A few more commands on existing units: assign the nearest free ones, move, clear."""
    rng = random.Random(seed)
    iid = app.report_incident(
        location=random_point(rng),
        address="2 Rue",
        nature="breathing problems",
        priority=rng.choice(sorted(Priority)),
        actor=ACTOR,
    )
    free = [u for u in roster if app.get_unit(u).status is S.AVAILABLE]
    picks = rng.sample(free, 2)
    app.assign_units(iid, [UnitChoice(u) for u in picks], ACTOR)
    app.update_unit_status(picks[0], S.EN_ROUTE, ACTOR)
    app.report_position(picks[0], random_point(rng), "crew")
    if rng.random() < 0.5:
        app.update_unit_status(picks[0], S.ON_SCENE, ACTOR)
        app.update_unit_status(picks[0], S.AVAILABLE, ACTOR)
        app.release_unit(iid, picks[1], "not needed", ACTOR)
        app.close_incident(iid, "treated", ACTOR)


# --- exactly once -----------------------------------------------------------------------


def test_an_old_batch_applied_again_changes_nothing(backend: Backend) -> None:
    app = backend.app
    u = unit(app, "AGAIN", near(CITY, 100, 0))
    iid = incident(app)
    app.assign_units(iid, [UnitChoice(u)], ACTOR)
    dispatched_at = NotificationSource(app).head()
    app.release_unit(iid, u, "not needed", ACTOR)
    app.report_position(u, near(CITY, 3000, 0), "crew")

    async def body(p: Opened) -> None:
        batch = NotificationSource(app).read(0, 100)
        await p.locator.apply(batch)
        before = await p.locator.all_units()
        assert before[0].status is S.AVAILABLE
        await p.locator.apply(batch)
        await p.locator.apply([t for t in batch if t.position <= dispatched_at])
        assert await p.locator.all_units() == before
        assert await p.locator.position() == batch[-1].position

    run(backend.session(body))


@pytest.mark.postgres
def test_two_processes_applying_the_same_batches_apply_them_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[tuple[str, int]] = []  # every committed-or-not position write
    write_tracking = postgis._write_tracking

    async def recording(conn: Any, name: str, position: int) -> None:
        written.append((name, position))
        await write_tracking(conn, name, position)

    monkeypatch.setattr(postgis, "_write_tracking", recording)
    app = make_app(postgres_env(pg_url))
    try:
        roster = play_scenario(app, seed=41, units=80, commands=80)
        source = NotificationSource(app)
        log = source.read(0, 10_000)
        chunks = [log[i : i + 25] for i in range(0, len(log), 25)]

        async def body() -> None:
            expected_locator, expected_board = EmbeddedLocator(), EmbeddedBoard()
            await catch_up(app, expected_locator, expected_board)
            # Two processes starting at once both create the schema (serialised, no error).
            one, two = await asyncio.gather(
                PostgisProjections.connect(pg_url), PostgisProjections.connect(pg_url)
            )
            try:
                for chunk in chunks:
                    await asyncio.gather(
                        one.board.apply(chunk),
                        two.board.apply(chunk),
                        one.locator.apply(chunk),
                        two.locator.apply(chunk),
                    )
                assert await one.locator.position() == log[-1].position
                assert await two.board.position() == log[-1].position
                # Each chunk was applied once per projection: the other applier skipped it.
                ends = [chunk[-1].position for chunk in chunks]
                assert sorted(written) == sorted(
                    [("incident_board", e) for e in ends] + [("unit_locator", e) for e in ends]
                )
                assert await one.board.open_incidents() == await expected_board.open_incidents()
                assert await two.locator.all_units() == await expected_locator.all_units()
                queries = random_queries(42, roster, count=10)
                assert_all_same(
                    await answers(one.locator, queries), await answers(expected_locator, queries)
                )
            finally:
                await one.close()
                await two.close()

        run(body())
    finally:
        app.close()


@pytest.mark.postgres
def test_a_crash_before_the_position_is_written_leaves_no_change(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(postgres_env(pg_url))
    try:
        u = unit(app, "CRASH", near(CITY, 100, 0))
        iid = incident(app)
        app.assign_units(iid, [UnitChoice(u)], ACTOR)
        batch = NotificationSource(app).read(0, 100)

        async def crash(*_args: object) -> None:
            raise ConnectionResetError("the process died here")

        async def body() -> None:
            async with await PostgisProjections.connect(pg_url) as pg:
                with monkeypatch.context() as patch:
                    patch.setattr(postgis, "_write_tracking", crash)
                    for projection in (pg.locator, pg.board):
                        with pytest.raises(ConnectionResetError):
                            await projection.apply(batch)
                assert await pg.locator.position() == 0 and await pg.board.position() == 0
                assert await pg.locator.all_units() == []
                assert await pg.board.open_incidents() == []
                await pg.board.apply(batch)
                await pg.locator.apply(batch)
                (row,) = await pg.board.open_incidents()
                assert [x.unit_id for x in row.units] == [u]
                located = await pg.locator.get(u)
                assert located is not None and located.status is S.DISPATCHED

        run(body())
    finally:
        app.close()
