"""Re-assignment on real stores: one command, one atomic save, or nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.errors import (
    IncidentNotOpen,
    InvalidTransition,
    InvalidValue,
    UnitAlreadyOnIncident,
    UnitMovedMeanwhile,
)
from najda.domain.values import IncidentStatus, Position, Priority, UnitKind, UnitStatus
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch

ACTOR = "dispatcher-1"
CITY = Position(36.75, 3.06)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _world(app: Dispatch) -> tuple[UUID, UUID, UUID]:
    """A unit dispatched to incident A, and an open incident B."""
    unit_id = app.register_unit("A-1", UnitKind.ALS, ACTOR, home=CITY)
    a = app.report_incident(
        location=CITY, address="", nature="fall", priority=Priority.C, actor=ACTOR
    )
    b = app.report_incident(
        location=CITY, address="", nature="cardiac arrest", priority=Priority.E, actor=ACTOR
    )
    app.assign_units(a, [UnitChoice(unit_id)], ACTOR)
    return unit_id, a, b


def _head(app: Dispatch) -> int:
    return app.recorder.max_notification_id() or 0


@pytest.mark.parametrize("store", STORES)
def test_a_reassignment_moves_the_unit_in_one_save(
    store: str, request: pytest.FixtureRequest
) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    unit_id, a, b = _world(app)
    before = _head(app)
    position = app.reassign_unit(
        UnitChoice(unit_id, 120.0, 30.0), b, from_incident_id=a, actor=ACTOR
    )
    saved = app.recorder.select_notifications(start=before, limit=100, inclusive_of_start=False)
    # Released from A, dispatched to B: four events, one save, consecutive positions.
    assert [n.topic for n in saved] == [
        "najda:Incident.UnitReleased",
        "najda:Incident.UnitAssigned",
        "najda:Unit.Released",
        "najda:Unit.Dispatched",
    ]
    assert saved[-1].id == position
    unit = app.get_unit(unit_id)
    assert (unit.status, unit.incident_id) == (UnitStatus.DISPATCHED, b)
    source, target = app.get_incident(a), app.get_incident(b)
    assert source.active_unit_ids == [] and source.status is IncidentStatus.DISPATCHED
    assert source.assignments[unit_id].end_reason == f"re-assigned to incident {b}"
    assert target.active_unit_ids == [unit_id]
    assert (target.assignments[unit_id].distance_m, target.assignments[unit_id].eta_s) == (
        120.0,
        30.0,
    )


@pytest.mark.parametrize("store", STORES)
def test_a_stale_reassignment_changes_nothing(store: str, request: pytest.FixtureRequest) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    unit_id, a, b = _world(app)
    c = app.report_incident(
        location=CITY, address="", nature="stroke", priority=Priority.D, actor=ACTOR
    )
    app.reassign_unit(UnitChoice(unit_id), c, from_incident_id=a, actor=ACTOR)
    before = _head(app)
    # A second dispatcher still sees the unit on A and takes it for B: refused.
    with pytest.raises(UnitMovedMeanwhile, match=f"expected on incident {a}"):
        app.reassign_unit(UnitChoice(unit_id), b, from_incident_id=a, actor=ACTOR)
    assert _head(app) == before
    assert app.get_unit(unit_id).incident_id == c
    assert app.get_incident(b).active_unit_ids == []


@pytest.mark.parametrize("store", STORES)
def test_a_refused_reassignment_writes_nothing(store: str, request: pytest.FixtureRequest) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    unit_id, a, b = _world(app)
    app.cancel_incident(b, "hoax", ACTOR)
    before = _head(app)
    with pytest.raises(IncidentNotOpen):  # the target ended: the unit stays on A
        app.reassign_unit(UnitChoice(unit_id), b, from_incident_id=a, actor=ACTOR)
    with pytest.raises(InvalidValue, match="already on this incident"):
        app.reassign_unit(UnitChoice(unit_id), a, from_incident_id=a, actor=ACTOR)
    with pytest.raises(UnitAlreadyOnIncident):
        app.assign_units(a, [UnitChoice(unit_id)], ACTOR)
    c = app.report_incident(
        location=CITY, address="", nature="stroke", priority=Priority.D, actor=ACTOR
    )
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING):
        app.update_unit_status(unit_id, status, ACTOR)
    before = _head(app)
    with pytest.raises(InvalidTransition, match="transporting"):
        app.reassign_unit(UnitChoice(unit_id), c, from_incident_id=a, actor=ACTOR)
    assert _head(app) == before
    assert app.get_unit(unit_id).incident_id == a
    assert app.get_incident(a).active_unit_ids == [unit_id]
    assert app.get_incident(c).active_unit_ids == []


@pytest.fixture(params=STORES)
def two_apps(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Dispatch, Dispatch]]:
    """Two Dispatch instances on one store, as two API processes with their own caches."""
    if request.param == "sqlite":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        env = postgres_env(request.getfixturevalue("pg_url"))
    first, second = new_dispatch(env=env), new_dispatch(env=env)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def _topics(app: Dispatch, after: int) -> list[str]:
    saved = app.recorder.select_notifications(start=after, limit=100, inclusive_of_start=False)
    return [n.topic for n in saved]


def test_a_reassignment_over_stale_caches_is_saved_once_whole_or_refused_whole(
    two_apps: tuple[Dispatch, Dispatch],
) -> None:
    a, b = two_apps
    unit_id, source, target = _world(b)  # b's cache: the unit on the source
    a.change_priority(target, Priority.D, "d.one")  # a's cache: the target
    b.change_priority(target, Priority.E, "d.two")  # ... now stale
    # a's save of the stale target conflicts: the whole save (unit and both incidents) is
    # refused by the store and re-run on fresh state, never half-written.
    before = _head(a)
    a.reassign_unit(UnitChoice(unit_id), target, from_incident_id=source, actor=ACTOR)
    assert _topics(a, before) == [
        "najda:Incident.UnitReleased",
        "najda:Incident.UnitAssigned",
        "najda:Unit.Released",
        "najda:Unit.Dispatched",
    ]
    assert a.get_incident(target).priority is Priority.E  # b's change kept
    assert (a.get_unit(unit_id).incident_id, a.get_incident(source).active_unit_ids) == (
        target,
        [],
    )
    # b's cached unit still says "on the source": taking it from there for a third incident
    # must be refused on the stored state, and nothing written.
    third = a.report_incident(
        location=CITY, address="", nature="stroke", priority=Priority.D, actor="d.one"
    )
    before = _head(a)
    with pytest.raises(UnitMovedMeanwhile):
        b.reassign_unit(UnitChoice(unit_id), third, from_incident_id=source, actor="d.two")
    assert _head(a) == before
    assert a.get_incident(third).active_unit_ids == []
    assert a.get_unit(unit_id).incident_id == target
