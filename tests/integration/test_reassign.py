"""Re-assignment on real stores: one command, one atomic save, or nothing at all."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.application import Dispatch, UnitChoice
from domain.errors import (
    IncidentNotOpen,
    InvalidTransition,
    InvalidValue,
    UnitAlreadyOnIncident,
    UnitMovedMeanwhile,
)
from domain.values import IncidentStatus, Position, Priority, UnitKind, UnitStatus

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
