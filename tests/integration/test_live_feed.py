"""The live feed on a real SQLite store: one message per change, resume, snapshots, crew
interest, slow clients and stale units."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from najda.api.live.feed import LiveFeed
from najda.api.live.subscribers import BBox, Interest, TooFarBehind
from najda.domain.application import UnitChoice
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.store.environment import sqlite_env
from tests.fakes import TickingClock, new_dispatch
from tests.integration.support import run

HOME = Position(36.75, 3.06)


class World:
    """A Dispatch app on SQLite with its locator and a feed, fed by hand."""

    def __init__(self, path: Path, buffer_size: int = 1000) -> None:
        self.clock = TickingClock()
        self.app = new_dispatch(env=sqlite_env(path), clock=self.clock)
        self.source = NotificationSource(self.app)
        self.locator = EmbeddedLocator()
        self.reference = ReferenceDirectory()
        self.feed = LiveFeed(
            self.locator,
            default_response_plan(),
            self.reference,
            buffer_size=buffer_size,
            stale_after=timedelta(seconds=30),
        )

    def sync(self) -> None:
        """Apply everything new to the locator, the directory and then the feed."""

        async def step() -> None:
            position = await self.feed.position()
            batch = self.source.read(position, 10_000)
            for projection in (self.locator, self.reference, self.feed):
                await projection.apply(batch)

        run(step())

    def incident(self, priority: Priority = Priority.C, lat: float = 36.75) -> Any:
        return self.app.report_incident(
            location=Position(lat, 3.06),
            address="1 Test Street",
            nature="fall",
            priority=priority,
            actor="d.one",
        )


@pytest.fixture
def world(tmp_path: Path) -> World:
    w = World(tmp_path / "events.sqlite")
    w.app.register_unit("A1", UnitKind.ALS, "roster", home=HOME)
    w.app.register_unit("B1", UnitKind.BLS, "roster", home=Position(36.76, 3.06))
    w.sync()
    return w


def texts(items: list[str]) -> list[dict[str, Any]]:
    return [json.loads(t) for t in items]


def drain(subscriber: Any) -> list[dict[str, Any]]:
    async def take() -> list[str]:
        return await subscriber.next() if subscriber.queue or subscriber.overflowed else []

    return texts(run(take()))


def test_each_change_is_one_message_with_its_position(world: World) -> None:
    subscriber, backlog = world.feed.subscribe(Interest(), None, 100)
    assert backlog is None
    incident_id = world.incident(Priority.B)
    world.sync()
    world.app.assign_units(incident_id, [UnitChoice(world.app.find_unit("A1").id)], "d.one")
    world.sync()
    messages = drain(subscriber)
    assert [m["event"] for m in messages] == [
        "Incident.Reported",
        "Incident.UnitAssigned",
        "Unit.Dispatched",
    ]
    stored = [t.position for t in world.source.read(0, 100)][-3:]
    assert [m["pos"] for m in messages] == stored
    assert messages[0]["recommendation"][0]["proposed"][0]["call_sign"] == "A1"  # nearest
    assert messages[1]["incident"]["assignments"][0]["call_sign"] == "A1"
    assert messages[2]["unit"]["status"] == "dispatched"


def test_resume_gives_exactly_what_follows_the_position(world: World) -> None:
    for _ in range(5):
        world.incident()
    world.sync()
    all_positions = [t.position for t in world.source.read(0, 100)]
    since = all_positions[-3]
    subscriber, backlog = world.feed.subscribe(Interest(), since, 100)
    assert backlog is not None
    assert [m["pos"] for m in texts(backlog)] == all_positions[-2:]
    world.incident()
    world.sync()
    assert [m["pos"] for m in drain(subscriber)] == [all_positions[-1] + 1]


def test_a_position_older_than_the_buffer_asks_for_a_snapshot(tmp_path: Path) -> None:
    world = World(tmp_path / "small.sqlite", buffer_size=3)
    world.app.register_unit("A1", UnitKind.ALS, "roster", home=HOME)
    for _ in range(6):
        world.incident()
    world.sync()
    head = world.source.head()
    _, backlog = world.feed.subscribe(Interest(), 1, 100)
    assert backlog is None
    snapshot = json.loads(world.feed.snapshot(Interest()))
    assert snapshot["pos"] == head and len(snapshot["incidents"]) == 6
    _, recent = world.feed.subscribe(Interest(), head - 3, 100)
    assert recent is not None and len(recent) == 3


def test_a_client_ahead_of_this_process_gets_nothing_twice(world: World) -> None:
    head = world.source.head()
    world.incident()  # stored, not yet applied here: another process already sent it
    subscriber, backlog = world.feed.subscribe(Interest(), head + 1, 100)
    assert backlog == []
    world.sync()
    world.incident()
    world.sync()
    assert [m["pos"] for m in drain(subscriber)] == [head + 2]


def test_a_crew_hears_of_its_own_unit_and_incident_only(world: World) -> None:
    a1 = world.app.find_unit("A1").id
    crew, _ = world.feed.subscribe(Interest(unit_id=a1), None, 100)
    other = world.incident()
    world.app.assign_units(other, [UnitChoice(world.app.find_unit("B1").id)], "d.one")
    ours = world.incident(Priority.A)
    world.app.add_note(ours, "dog on the premises", "d.one")
    world.app.assign_units(ours, [UnitChoice(a1)], "d.one")
    world.app.add_note(ours, "patient conscious", "d.one")
    world.sync()
    messages = drain(crew)
    assert [m["event"] for m in messages] == [
        "Incident.UnitAssigned",
        "Unit.Dispatched",
        "Incident.NoteAdded",
    ]
    assert [n["text"] for n in messages[0]["incident"]["notes"]] == ["dog on the premises"]
    assert messages[2]["note"]["text"] == "patient conscious"  # a delta: the new note only
    assert "notes" not in messages[2]["incident"] and messages[2]["incident"]["note_count"] == 2
    snapshot = json.loads(world.feed.snapshot(Interest(unit_id=a1)))
    assert snapshot["incident"]["id"] == str(ours)
    assert len(snapshot["incident"]["notes"]) == 2


def test_a_client_that_falls_behind_is_dropped(world: World) -> None:
    slow, _ = world.feed.subscribe(Interest(), None, 3)
    fast, _ = world.feed.subscribe(Interest(), None, 100)
    for _ in range(4):
        world.incident()
    world.sync()
    with pytest.raises(TooFarBehind):
        drain(slow)
    assert len(drain(fast)) == 4


def test_a_bounding_box_filters_by_where_things_are(world: World) -> None:
    box = BBox.parse("3.0,36.7,3.1,36.8")
    boxed, _ = world.feed.subscribe(Interest(bbox=box), None, 100)
    world.incident(lat=36.75)
    world.incident(lat=40.0)
    world.incident(lat=36.79)
    world.sync()
    assert [m["incident"]["lat"] for m in drain(boxed)] == [36.75, 36.79]
    with pytest.raises(ValueError, match="bbox"):
        BBox.parse("3.1,36.7,3.0,36.8")


def test_silent_units_are_flagged_and_cleared(world: World) -> None:
    console, _ = world.feed.subscribe(Interest(), None, 100)
    now = world.clock.now
    assert world.feed.check_stale(now) == []
    later = now + timedelta(seconds=31)
    flagged = world.feed.check_stale(later)
    assert {world.feed.unit(u).call_sign for u in flagged} == {"A1", "B1"}  # type: ignore[union-attr]
    a1 = world.app.find_unit("A1").id
    world.app.update_unit_status(a1, UnitStatus.OUT_OF_SERVICE, "crew")
    world.sync()
    b1 = world.app.find_unit("B1").id
    from najda.projections.dispatch.read_model_changes import UnitMoved

    world.feed.positions_moved([UnitMoved(b1, 36.77, 3.06, later)])
    assert set(world.feed.check_stale(later)) == {a1, b1}  # off the air, and heard again
    stale = [m for m in drain(console) if m["type"] == "stale"]
    assert [(u["call_sign"], u["stale"]) for m in stale for u in m["units"]][-2:] in (
        [("A1", False), ("B1", False)],
        [("B1", False), ("A1", False)],
    )


def test_a_unit_says_whether_its_crew_acknowledged_the_current_assignment(world: World) -> None:
    console, _ = world.feed.subscribe(Interest(), None, 100)
    first = world.incident()
    unit_id = world.app.find_unit("A1").id
    world.app.assign_units(first, [UnitChoice(unit_id)], "d.one")
    world.app.acknowledge_assignment(unit_id, "crew.a1")
    world.sync()
    shown = [m["unit"]["acknowledged"] for m in drain(console) if m["type"] == "unit"]
    assert shown == [False, True]  # dispatched, then acknowledged
    snapshot = json.loads(world.feed.snapshot(Interest(unit_id=unit_id)))
    assert snapshot["unit"]["acknowledged"] is True
    # A new assignment is not acknowledged until the crew says so again.
    world.app.release_unit(first, unit_id, "re-plan", "d.one")
    second = world.incident()
    world.app.assign_units(second, [UnitChoice(unit_id)], "d.one")
    world.sync()
    shown = [m["unit"]["acknowledged"] for m in drain(console) if m["type"] == "unit"]
    assert shown == [False, False]  # released, dispatched again
