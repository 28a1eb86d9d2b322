"""Saved embedded read models on a real SQLite store: a start from them plus the new events
equals a full replay; a failed save leaves the previous one whole; other code or another
log rebuilds from the log."""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from najda.api.live.feed import LiveFeed
from najda.domain.application import Dispatch
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position
from najda.projections.access.user_directory import UserDirectory
from najda.projections.base import NotificationSource
from najda.projections.care.consult_queue import ConsultDirectory
from najda.projections.care.monitoring_board import MonitoringDirectory
from najda.projections.dispatch.in_memory import EmbeddedBoard, EmbeddedLocator
from najda.projections.dispatch.incident_history import HistoryIndex
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.runner import ProjectionRunner
from najda.projections.store.environment import sqlite_env
from najda.projections.store.event_rows import EventLog
from najda.projections.store.read_model_saver import ModelSaver
from najda.projections.store.saved_read_models import TABLE, ModelStore
from tests.fakes import TickingClock, new_dispatch
from tests.integration.support import run
from tests.integration.test_replay_determinism import CITY, Worker

ACTOR = "admin"


@dataclass
class Models:
    """Every read model an embedded server builds at start, and their runner."""

    locator: EmbeddedLocator
    board: EmbeddedBoard
    reference: ReferenceDirectory
    users: UserDirectory
    consults: ConsultDirectory
    monitoring: MonitoringDirectory
    feed: LiveFeed
    runner: ProjectionRunner
    history: HistoryIndex
    log: EventLog

    @classmethod
    def new(cls, app: Dispatch, head: int = 0) -> Models:
        locator, reference = EmbeddedLocator(), ReferenceDirectory()
        feed = LiveFeed(
            locator,
            default_response_plan(),
            reference,
            buffer_size=150,  # smaller than the history: the resume window moves
            build_after=max(0, head - 150),
            stale_after=timedelta(seconds=180),
        )
        board, users = EmbeddedBoard(), UserDirectory()
        consults, monitoring = ConsultDirectory(), MonitoringDirectory()
        leaders = [locator, board, reference, users, consults, monitoring]
        runner = ProjectionRunner(NotificationSource(app), leaders, followers=[feed])
        models = (locator, board, reference, users, consults, monitoring, feed, runner)
        return cls(*models, HistoryIndex(), EventLog(app))

    def saver(self, store: ModelStore) -> ModelSaver:
        return ModelSaver(store, [*self.runner.projections, self.history])  # type: ignore[list-item]

    async def catch_up(self) -> None:
        await self.runner.catch_up()
        self.history.refresh(self.log)  # as a search does

    async def view(self) -> dict[str, Any]:
        """What the server answers from these models (compared between two starts)."""
        feed = self.feed
        return {
            "positions": {p.name: await p.position() for p in self.runner.projections},
            "units": await self.locator.all_units(),
            "board": await self.board.open_incidents(),
            "stations": self.reference.stations,
            "hospitals": self.reference.hospitals,
            "statuses": self.reference.statuses,
            "users": self.users._users,
            "consults": self.consults.listed(),
            "patients": self.monitoring.board.patients,
            "feed_units": [feed.unit(u) for u in sorted(feed._state.units)],
            "feed_board": feed._state.board.ordered(),
            "feed_incidents": {i: vars(a) for i, a in sorted(feed._state.incidents.items())},
            "feed_buffer": [(m.pos, _without_rankings(m.text)) for m in feed._resume.messages],
            "feed_covered_after": feed._resume.covered_after,
            "history": self.history.refresh(self.log),
        }


def _without_rankings(text: str) -> dict[str, Any]:
    """A live message without what it ranks against other read models (a new call's
    recommended units, a unit's hospitals): those are ranked against the models as they
    stood when the message was made, at the end of the runner's batch, and batches start
    where each start's catch-up starts, so a replay cuts them elsewhere than live. (The
    routes rank on request; tests/e2e compares their answers.)"""
    message = json.loads(text)
    message.pop("recommendation", None)
    message.pop("destinations", None)
    for value in message.values():
        if isinstance(value, dict):
            value.pop("destinations", None)
    return dict(message)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Dispatch]:
    rng = random.Random(7)
    dispatch = new_dispatch(
        env=sqlite_env(tmp_path / "najda.sqlite"),
        clock=TickingClock(),
        new_id=lambda: uuid.UUID(int=rng.getrandbits(128), version=4),
    )
    yield dispatch
    dispatch.close()


def _history(app: Dispatch, worker: Worker, commands: int, n: int) -> None:
    """Incidents worked by the worker, with users, a hospital and its status in between."""
    worker.play(commands)
    app.add_user(f"dispatcher{n}", "dispatcher", ACTOR)
    hospital = app.register_hospital(f"H{n}", f"Hospital {n}", CITY, ["cardiology"], ACTOR)
    app.update_hospital_status(hospital, ACTOR, ed_status="advisory", reason="full")
    worker.play(commands)


def _store(app: Dispatch, path: Path) -> ModelStore:
    return ModelStore(path, events_table=app.recorder.events_table_name)  # type: ignore[attr-defined]


def test_a_start_from_saved_models_equals_a_full_replay(app: Dispatch, tmp_path: Path) -> None:
    store = _store(app, tmp_path / "najda.sqlite")
    worker = Worker(app, 1, units=20)
    _history(app, worker, 60, 1)

    async def body() -> None:
        first = Models.new(app)
        await first.catch_up()
        saver = first.saver(store)
        assert await saver.save()
        saved_at = await first.board.position()
        assert saved_at == NotificationSource(app).head()

        _history(app, worker, 60, 2)  # written while no server runs
        head = NotificationSource(app).head()
        restarted = Models.new(app, head)
        restored = await restarted.saver(store).restore()
        history_at = restored.pop("incident_history")  # its last incident row
        assert 0 < history_at <= saved_at
        assert set(restored.values()) == {saved_at}
        assert len(restored) == len(restarted.runner.projections)
        await restarted.catch_up()

        replayed = Models.new(app, head)
        await replayed.catch_up()
        fresh, again = await replayed.view(), await restarted.view()
        assert fresh["board"] and fresh["feed_buffer"]  # the comparison compares something
        assert set(fresh["positions"].values()) == {head}
        assert again == fresh

    run(body())


def test_a_save_that_fails_midway_leaves_the_previous_one(app: Dispatch, tmp_path: Path) -> None:
    """State and position are written together or not at all: after a save that fails
    part-way (the transaction is rolled back, as SQLite does for a process that dies in
    it), the next start has the previous save and applies the rest exactly once."""
    path = tmp_path / "najda.sqlite"
    store = _store(app, path)
    worker = Worker(app, 1, units=20)
    _history(app, worker, 40, 1)

    async def body() -> None:
        live = Models.new(app)
        await live.catch_up()
        saver = live.saver(store)
        await saver.save()
        first_save = await live.board.position()
        _history(app, worker, 40, 2)
        await live.catch_up()

        def crashing(rows: Any) -> Any:  # the process dies after the first row is written
            def rows_then_crash() -> Iterator[Any]:
                iterator = iter(rows)
                yield next(iterator)
                raise OSError("disk full mid-save")

            return ModelStore.save(store, rows_then_crash())

        store.save = crashing  # type: ignore[method-assign]
        with pytest.raises(OSError, match="mid-save"):
            await saver.save()
        with sqlite3.connect(path) as conn:
            saved = dict(conn.execute(f"SELECT name, position FROM {TABLE}").fetchall())
        assert saved.pop("incident_history") <= first_save  # its last incident row
        assert set(saved.values()) == {first_save}  # no row of the failed save is left

        head = NotificationSource(app).head()
        assert head > first_save
        restarted = Models.new(app, head)
        restored = await restarted.saver(_store(app, path)).restore()
        assert restored.pop("incident_history") <= first_save
        assert set(restored.values()) == {first_save}
        await restarted.catch_up()
        replayed = Models.new(app, head)
        await replayed.catch_up()
        assert await restarted.view() == await replayed.view()

    run(body())


def test_models_saved_by_other_code_are_rebuilt_from_the_log(app: Dispatch, tmp_path: Path) -> None:
    path = tmp_path / "najda.sqlite"
    worker = Worker(app, 1, units=10)
    _history(app, worker, 30, 1)

    async def body() -> None:
        live = Models.new(app)
        await live.catch_up()
        await live.saver(_store(app, path)).save()
        with sqlite3.connect(path) as conn:
            conn.execute(f"UPDATE {TABLE} SET version = 'older code' WHERE name = 'incident_board'")
        restarted = Models.new(app)
        restored = await restarted.saver(_store(app, path)).restore()
        assert "incident_board" not in restored and "unit_locator" in restored
        assert await restarted.board.position() == 0  # rebuilt from the start of the log
        await restarted.catch_up()
        assert await restarted.view() == await live.view()

    run(body())


def test_models_saved_against_another_log_are_not_used(tmp_path: Path) -> None:
    """A store whose log was replaced (a restore of another copy) does not reuse states."""
    path = tmp_path / "najda.sqlite"
    first = new_dispatch(env=sqlite_env(path), clock=TickingClock())
    first.register_station("S1", "Station 1", Position(36.75, 3.06), ACTOR)
    first.add_user("d.one", "dispatcher", ACTOR)

    async def save(app: Dispatch) -> None:
        models = Models.new(app)
        await models.catch_up()
        await models.saver(_store(app, path)).save()

    try:
        run(save(first))
        with sqlite3.connect(path) as conn:  # another log with as many rows, same table
            conn.execute(
                "UPDATE stored_events SET originator_id = ?"
                " WHERE rowid = (SELECT max(rowid) FROM stored_events)",
                (str(uuid.uuid4()),),
            )

        async def body() -> None:
            restarted = Models.new(first)
            restored = await restarted.saver(_store(first, path)).restore()
            assert restored == {"incident_history": 0}  # no incident: empty fits any log

        run(body())
    finally:
        first.close()


class _Runs:
    """A pickle that would run a command when loaded."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        import os

        return (os.system, ("true",))


@pytest.mark.parametrize(
    "payload",
    [
        {"position": 1, "x": _Runs()},  # a function from outside Najda
        {"position": 1, "x": sqlite3.connect},  # nor a built-in one
        {"position": 1, "x": EventLog},  # a class defined in Najda is fine
    ],
)
def test_a_saved_state_cannot_run_code(payload: dict[str, Any]) -> None:
    import pickle

    from najda.projections.store.saved_read_models import SavedStateError, load_state

    data = pickle.dumps(payload)
    if payload["x"] is EventLog:
        assert load_state(data)["x"] is EventLog
        return
    with pytest.raises(SavedStateError):
        load_state(data)


def test_a_read_model_without_saved_fields_is_replayed_not_saved(
    app: Dispatch, tmp_path: Path
) -> None:
    """A read model that does not name its state is left to the log (correct, slower)."""

    class Counter:
        name = "counter"

        def __init__(self) -> None:
            self.seen = 0
            self._position = 0

        async def position(self) -> int:
            return self._position

        async def apply(self, batch: Any) -> None:
            for item in batch:
                if item.position > self._position:
                    self.seen += 1
                    self._position = item.position

        async def reset(self) -> None:
            self.seen = self._position = 0

    Worker(app, 1, units=5).play(10)
    store = _store(app, tmp_path / "najda.sqlite")

    async def body() -> None:
        first = Models.new(app)
        counter = Counter()
        saver = ModelSaver(store, [first.board, counter])  # type: ignore[list-item]
        assert saver.models == [first.board]
        await first.catch_up()
        await counter.apply(NotificationSource(app).read(0, 10_000))
        await saver.save()
        again = ModelSaver(store, [EmbeddedBoard(), Counter()])  # type: ignore[list-item]
        assert set(await again.restore()) == {"incident_board"}

    run(body())
