"""Incident board contract: embedded (SQLite store) and PostGIS (PostgreSQL store) agree."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import IncidentSource, Position, Priority, UnitKind, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.dispatch.board import IncidentBoard
from najda.projections.dispatch.in_memory import EmbeddedBoard
from najda.projections.dispatch.read_model_changes import BoardRow, BoardUnit
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
IMPLEMENTATIONS = ["embedded", pytest.param("postgis", marks=pytest.mark.postgres)]


@dataclass
class Backend:
    """One board implementation with the Dispatch application on its matching store."""

    app: Dispatch
    clock: TickingClock
    pg_url: str | None = None

    async def session(self, body: Callable[[IncidentBoard], Awaitable[T]]) -> T:
        """A new board (PostGIS: a new pool on the same tables) for the length of `body`."""
        if self.pg_url is None:
            return await body(EmbeddedBoard())
        async with await PostgisProjections.connect(self.pg_url, pool_min=1, pool_max=4) as pg:
            return await body(pg.board)


@pytest.fixture(params=IMPLEMENTATIONS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each implementation in turn, with a Dispatch application on its store."""
    clock = TickingClock()
    url: str | None = None
    if request.param == "embedded":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        url = request.getfixturevalue("pg_url")
        env = postgres_env(url)

    app = new_dispatch(env=env, clock=clock, new_id=SeededIds(5))
    try:
        yield Backend(app, clock, url)
    finally:
        app.close()


async def catch_up(app: Dispatch, board: IncidentBoard, batch_size: int = 500) -> int:
    return await ProjectionRunner(
        NotificationSource(app), [board], batch_size=batch_size
    ).catch_up()


def report(
    app: Dispatch,
    priority: Priority,
    received: datetime | None = None,
    nature: str = "chest pain",
) -> UUID:
    return app.report_incident(
        location=CITY,
        address="1 Rue Didouche Mourad",
        nature=nature,
        priority=priority,
        actor=ACTOR,
        call_received_at=received,
    )


def natures(rows: list[BoardRow]) -> list[str]:
    return [r.nature for r in rows]


def unit(app: Dispatch, call_sign: str, kind: UnitKind = UnitKind.ALS) -> UUID:
    return app.register_unit(call_sign, kind, ACTOR, home=CITY)


def test_open_incidents_are_ordered_by_priority_then_age(backend: Backend) -> None:
    app, now = backend.app, backend.clock.now
    report(app, Priority.C, now - timedelta(minutes=20), "old C")
    report(app, Priority.E, now - timedelta(minutes=1), "new E")
    report(app, Priority.E, now - timedelta(minutes=10), "old E")
    report(app, Priority.OMEGA, now - timedelta(minutes=30), "omega")
    report(app, Priority.C, now - timedelta(minutes=2), "new C")
    same = now - timedelta(minutes=5)
    twins = [report(app, Priority.D, same, "twin"), report(app, Priority.D, same, "twin")]

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        rows = await board.open_incidents()
        assert natures(rows) == ["old E", "new E", "twin", "twin", "old C", "new C", "omega"]
        assert [r.incident_id for r in rows[2:4]] == sorted(twins, key=str)

    run(backend.session(body))


def test_a_row_shows_what_was_reported(backend: Backend) -> None:
    app = backend.app
    received = backend.clock.now - timedelta(seconds=40)
    iid = app.report_incident(
        location=Position(36.7, 3.1),
        address="12 Boulevard Zighout Youcef",
        nature="fall from height",
        priority=Priority.D,
        determinant="17-D-3",
        actor=ACTOR,
        source=IncidentSource.MONITORING,
        call_received_at=received,
    )
    reported_at = backend.clock.now

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        row = await board.get(iid)
        assert row == BoardRow(
            incident_id=iid,
            priority=Priority.D,
            determinant="17-D-3",
            nature="fall from height",
            address="12 Boulevard Zighout Youcef",
            lat=36.7,
            lon=3.1,
            source="monitoring",
            call_received_at=received,
            updated_at=reported_at,
        )
        assert row.status == "pending"
        assert await board.get(uuid.uuid4()) is None

    run(backend.session(body))


def test_a_priority_change_reorders_the_board(backend: Backend) -> None:
    app, now = backend.app, backend.clock.now
    first = report(app, Priority.E, now - timedelta(minutes=5), "urgent")
    low = report(app, Priority.A, now - timedelta(minutes=9), "upgraded")

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        assert natures(await board.open_incidents()) == ["urgent", "upgraded"]
        app.change_priority(low, Priority.E, ACTOR, "10-E-1")
        changed_at = backend.clock.now
        await catch_up(app, board)
        assert natures(await board.open_incidents()) == ["upgraded", "urgent"]
        row = await board.get(low)
        assert row is not None
        assert (row.priority, row.determinant, row.updated_at) == (Priority.E, "10-E-1", changed_at)
        app.change_priority(first, Priority.OMEGA, ACTOR)
        app.change_priority(low, Priority.B, ACTOR)
        await catch_up(app, board)
        assert natures(await board.open_incidents()) == ["upgraded", "urgent"]
        rows = await board.open_incidents()
        assert [r.priority for r in rows] == [Priority.B, Priority.OMEGA]

    run(backend.session(body))


def test_location_corrections_and_notes_update_the_row(backend: Backend) -> None:
    app = backend.app
    iid = report(app, Priority.C)

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        app.correct_location(iid, Position(36.8, 3.0), "3 Rue Larbi Ben M'hidi", ACTOR)
        await catch_up(app, board)
        row = await board.get(iid)
        assert row is not None
        assert (row.lat, row.lon, row.address) == (36.8, 3.0, "3 Rue Larbi Ben M'hidi")
        app.add_note(iid, "caller on the second floor", ACTOR)
        noted_at = backend.clock.now
        await catch_up(app, board)
        row = await board.get(iid)
        assert row is not None and row.updated_at == noted_at and row.address.startswith("3 ")

    run(backend.session(body))


def test_units_and_their_statuses_follow_unit_events(backend: Backend) -> None:
    app = backend.app
    iid = report(app, Priority.D)
    als, bls, extra = unit(app, "ALS1"), unit(app, "BLS1", UnitKind.BLS), unit(app, "RR1")

    async def units_on(board: IncidentBoard) -> list[tuple[str, UnitStatus]]:
        await catch_up(app, board)
        row = await board.get(iid)
        assert row is not None
        return [(u.call_sign, u.status) for u in row.units]

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        app.assign_units(iid, [UnitChoice(bls), UnitChoice(als)], ACTOR)
        assert await units_on(board) == [("BLS1", S.DISPATCHED), ("ALS1", S.DISPATCHED)]
        row = await board.get(iid)
        assert row is not None and row.dispatched and row.status == "dispatched"
        assert row.units[0] == BoardUnit(bls, "BLS1", UnitKind.BLS, S.DISPATCHED)

        app.update_unit_status(als, S.EN_ROUTE, ACTOR)
        app.assign_units(iid, [UnitChoice(extra)], ACTOR)
        app.update_unit_status(als, S.ON_SCENE, ACTOR)
        on_scene_at = backend.clock.now
        assert await units_on(board) == [
            ("BLS1", S.DISPATCHED),
            ("ALS1", S.ON_SCENE),
            ("RR1", S.DISPATCHED),
        ]
        row = await board.get(iid)
        assert row is not None and row.status == "on_scene" and row.updated_at == on_scene_at

        app.update_unit_status(als, S.TRANSPORTING, ACTOR)
        app.release_unit(iid, bls, "not needed", ACTOR)
        app.update_unit_status(als, S.AT_HOSPITAL, ACTOR)
        assert await units_on(board) == [("ALS1", S.AT_HOSPITAL), ("RR1", S.DISPATCHED)]

        app.update_unit_status(als, S.AVAILABLE, ACTOR)  # clears the incident
        app.release_unit(iid, extra, "not needed", ACTOR)
        assert await units_on(board) == []
        row = await board.get(iid)
        assert row is not None and row.status == "dispatched (no units)"

    run(backend.session(body))


def test_units_are_listed_in_assignment_order(backend: Backend) -> None:
    app = backend.app
    iid = report(app, Priority.E)
    crews = {cs: unit(app, cs) for cs in ("ALS3", "ALS1", "ALS5", "ALS2", "ALS4", "ALS6")}
    order = ["ALS5", "ALS1", "ALS6", "ALS3", "ALS2", "ALS4"]

    async def body(board: IncidentBoard) -> None:
        app.assign_units(iid, [UnitChoice(crews[cs]) for cs in order[:4]], ACTOR)
        await catch_up(app, board)
        app.assign_units(iid, [UnitChoice(crews[cs]) for cs in order[4:]], ACTOR)
        await catch_up(app, board)
        row = await board.get(iid)
        assert row is not None and [x.call_sign for x in row.units] == order

    run(backend.session(body))


def test_a_unit_moved_to_another_incident_shows_its_status_there_only(backend: Backend) -> None:
    app = backend.app
    first, second = (
        report(app, Priority.D, nature="first"),
        report(app, Priority.C, nature="second"),
    )
    u, other = unit(app, "ALS7"), unit(app, "ALS8")

    async def body(board: IncidentBoard) -> None:
        app.assign_units(first, [UnitChoice(u), UnitChoice(other)], ACTOR)
        app.release_unit(first, u, "re-assigned to a higher priority", ACTOR)
        app.assign_units(second, [UnitChoice(u)], ACTOR)
        app.update_unit_status(u, S.EN_ROUTE, ACTOR)
        await catch_up(app, board, batch_size=3)
        one, two = await board.get(first), await board.get(second)
        assert one is not None and [(x.call_sign, x.status) for x in one.units] == [
            ("ALS8", S.DISPATCHED)
        ]
        assert two is not None and [(x.call_sign, x.status) for x in two.units] == [
            ("ALS7", S.EN_ROUTE)
        ]

    run(backend.session(body))


def test_closed_and_cancelled_incidents_leave_the_board(backend: Backend) -> None:
    app = backend.app
    closing = report(app, Priority.D, nature="closing")
    cancelling = report(app, Priority.E, nature="cancelling")
    staying = report(app, Priority.A, nature="staying")
    a, b = unit(app, "ALS1"), unit(app, "ALS2")
    app.assign_units(closing, [UnitChoice(a)], ACTOR)
    app.assign_units(cancelling, [UnitChoice(b)], ACTOR)

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board)
        assert natures(await board.open_incidents()) == ["cancelling", "closing", "staying"]
        for status in (S.EN_ROUTE, S.ON_SCENE, S.AVAILABLE):
            app.update_unit_status(a, status, ACTOR)
        app.close_incident(closing, "treated on scene", ACTOR)
        app.cancel_incident(cancelling, "duplicate call", ACTOR)
        await catch_up(app, board)
        assert natures(await board.open_incidents()) == ["staying"]
        assert await board.get(closing) is None and await board.get(cancelling) is None
        # The units are free; working the remaining incident shows them there only.
        app.assign_units(staying, [UnitChoice(b), UnitChoice(a)], ACTOR)
        app.update_unit_status(b, S.EN_ROUTE, ACTOR)
        await catch_up(app, board)
        (row,) = await board.open_incidents()
        assert [(x.call_sign, x.status) for x in row.units] == [
            ("ALS2", S.EN_ROUTE),
            ("ALS1", S.DISPATCHED),
        ]

    run(backend.session(body))


def test_a_batch_applied_again_does_not_add_units_twice(backend: Backend) -> None:
    app = backend.app
    iid = report(app, Priority.D)
    u = unit(app, "ALS1")
    app.assign_units(iid, [UnitChoice(u)], ACTOR)
    app.update_unit_status(u, S.EN_ROUTE, ACTOR)

    async def body(board: IncidentBoard) -> None:
        batch = NotificationSource(app).read(0, 100)
        await board.apply(batch)
        await board.apply(batch)
        await board.apply(batch[:-1])
        row = await board.get(iid)
        assert row is not None and [(x.unit_id, x.status) for x in row.units] == [(u, S.EN_ROUTE)]
        assert await board.position() == batch[-1].position

    run(backend.session(body))


def test_a_reset_forgets_the_board_and_a_rebuild_restores_it(backend: Backend) -> None:
    app = backend.app
    kept = report(app, Priority.B, nature="kept")
    gone = report(app, Priority.E, nature="gone")
    u = unit(app, "ALS1")
    app.assign_units(kept, [UnitChoice(u)], ACTOR)
    app.cancel_incident(gone, "duplicate", ACTOR)

    async def body(board: IncidentBoard) -> None:
        await catch_up(app, board, batch_size=2)
        live = await board.open_incidents()
        assert natures(live) == ["kept"] and len(live[0].units) == 1
        await board.reset()
        assert await board.open_incidents() == [] and await board.position() == 0
        await catch_up(app, board)
        assert await board.open_incidents() == live

    run(backend.session(body))
