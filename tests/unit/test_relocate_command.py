"""Moving a unit up to a station: the station read once, served after from the command cache."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from najda.domain.application import Dispatch
from najda.domain.errors import InvalidTransition, StationNotFound
from najda.domain.values import Position, UnitKind, UnitStatus
from najda.simulations.run import MEMORY_ENV
from tests.fakes import new_dispatch

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _app() -> tuple[Dispatch, list[Any]]:
    app = new_dispatch(MEMORY_ENV, clock=lambda: AT)
    reads: list[Any] = []
    select_events = app.recorder.select_events

    def counted(originator_id: Any, **kwargs: Any) -> Any:
        reads.append(originator_id)
        return select_events(originator_id, **kwargs)

    app.recorder.select_events = counted  # type: ignore[method-assign]
    return app, reads


def test_a_move_up_records_the_station_and_reads_it_from_the_store_once() -> None:
    app, reads = _app()
    home = app.register_station("S1", "North", Position(40.75, -73.99), "admin")
    post = app.register_station("S2", "South", Position(40.70, -74.01), "admin")
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", station_id=home)
    reads.clear()
    assert [app.relocate_unit(unit, post, "dispatcher") for _ in range(3)] == ["S2"] * 3
    assert reads.count(post) <= 1
    relocated = [e for e in app.repository.event_store.get(unit) if type(e).__name__ == "Relocated"]
    assert [(e.station_id, e.station_code) for e in relocated] == [(post, "S2")] * 3
    assert app.get_unit(unit).post_id == post


def test_a_move_up_to_an_unknown_station_or_of_a_busy_unit_is_refused_and_records_nothing() -> None:
    app, _ = _app()
    home = app.register_station("S1", "North", Position(40.75, -73.99), "admin")
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", station_id=home)
    head = app.recorder.max_notification_id()
    with pytest.raises(StationNotFound):
        app.relocate_unit(unit, uuid4(), "dispatcher")
    app.update_unit_status(unit, UnitStatus.OUT_OF_SERVICE, "crew")
    with pytest.raises(InvalidTransition):
        app.relocate_unit(unit, home, "dispatcher")
    assert app.recorder.max_notification_id() == (head or 0) + 1
