"""A locator fed only the events of its topics ends as one fed the whole log."""

from __future__ import annotations

import asyncio
import inspect
import re
from datetime import UTC, datetime

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.read_model_changes import LOCATOR_TOPICS, locator_change
from najda.simulations.memory_store import MemoryDispatch
from najda.simulations.run import MEMORY_ENV
from tests.fakes import new_app

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _a_call_served(app: Dispatch) -> None:
    unit = app.register_unit("A-1", UnitKind.ALS, "sim", home=Position(40.75, -73.99))
    app.register_unit("B-2", UnitKind.BLS, "sim", home=Position(40.76, -73.98))
    incident = app.report_incident(
        location=Position(40.7, -73.9), address="here", nature="fall", priority=Priority.C,
        actor="sim",
    )  # fmt: skip
    app.assign_units(incident, [UnitChoice(unit)], "sim")
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "sim")
    app.report_position(unit, Position(40.71, -73.91), "sim")
    app.update_unit_status(unit, UnitStatus.ON_SCENE, "sim")
    app.update_unit_status(unit, UnitStatus.AVAILABLE, "sim")
    app.close_incident(incident, "served", "sim")


def _fed(source: NotificationSource) -> EmbeddedLocator:
    locator = EmbeddedLocator()

    async def catch_up() -> None:
        while batch := source.read(await locator.position(), 3):
            await locator.apply(batch)

    asyncio.run(catch_up())
    return locator


def test_a_locator_reading_only_its_topics_ends_as_one_reading_every_event() -> None:
    for kind in (MemoryDispatch, Dispatch):
        app = new_app(kind, MEMORY_ENV, clock=lambda: AT)
        _a_call_served(app)
        everything = NotificationSource(app).read(0, 100)
        mine = NotificationSource(app, topics=LOCATOR_TOPICS).read(0, 100)
        assert {t.topic for t in mine} == {t.topic for t in everything} & set(LOCATOR_TOPICS)
        assert [t.position for t in mine] == [
            t.position for t in everything if t.topic in LOCATOR_TOPICS
        ]
        assert len(mine) < len(everything)  # the incident's events are left out
        # the events left out are those the locator ignores
        kept = {t.position for t in mine}
        assert all(locator_change(t) is None for t in everything if t.position not in kept)
        full = _fed(NotificationSource(app))
        filtered = _fed(NotificationSource(app, LOCATOR_TOPICS))
        assert full._rows == filtered._rows and len(full._rows) == 2
        app.close()


def test_every_topic_locator_change_reads_is_among_the_locator_topics() -> None:
    read = set(re.findall(r'topic == "([^"]+)"', inspect.getsource(locator_change)))
    assert read == set(LOCATOR_TOPICS)
