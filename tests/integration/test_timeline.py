"""Timelines and past states read back from both real stores equal the commands that made them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.errors import IncidentNotFound
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.as_of import incident_as_of
from najda.projections.audit.timeline import incident_timeline
from najda.projections.store.event_rows import EventLog
from tests.fakes import T0, StoppedClock

HOME = Position(36.75, 3.06)
SCENE = Position(36.76, 3.07)


@dataclass
class Script:
    """Runs commands on the app and writes down the timeline each should leave behind."""

    app: Dispatch
    clock: StoppedClock
    expected: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    snapshots: list[tuple[int, datetime, tuple[object, ...]]] = field(default_factory=list)

    def step(self, *entries: tuple[str, str, str]) -> datetime:
        at = self.clock.advance(10)
        self.expected.extend((subject, kind, actor, at) for subject, kind, actor in entries)
        return at

    def snapshot(self, incident_id: UUID) -> None:
        incident = self.app.get_incident(incident_id)
        state = (
            incident.status,
            incident.priority,
            len(incident.notes),
            tuple((a.call_sign, a.active) for a in incident.assignment_history),
        )
        head = EventLog(self.app).head()
        self.snapshots.append((head, self.clock.now, state))


def _setup(app: Dispatch) -> tuple[StoppedClock, UUID, UUID]:
    clock = StoppedClock(T0)
    app.clock = clock
    a1 = app.register_unit("A-1", UnitKind.ALS, "admin", home=HOME)
    b2 = app.register_unit("B-2", UnitKind.BLS, "admin", home=HOME)
    return clock, a1, b2


def _script(app: Dispatch) -> tuple[Script, UUID, UUID, UUID]:
    """One incident worked from call to close, interleaved with another incident's events."""
    clock, a1, b2 = _setup(app)
    s = Script(app, clock)
    s.step(("incident", "Incident.Reported", "d.ali"))
    first = app.report_incident(
        location=SCENE, address="1 Harbour Rd", nature="chest pain", priority=Priority.D,
        actor="d.ali",
    )  # fmt: skip
    s.snapshot(first)
    s.step(("incident", "Incident.NoteAdded", "d.ali"))
    app.add_note(first, "caller is the patient's son", "d.ali")
    s.snapshot(first)
    s.step(("incident", "Incident.PriorityChanged", "d.sara"))
    app.change_priority(first, Priority.E, "d.sara", "10-E-1")
    s.snapshot(first)
    s.step(
        ("incident", "Incident.UnitAssigned", "d.ali"),
        ("incident", "Incident.UnitAssigned", "d.ali"),
        ("A-1", "Unit.Dispatched", "d.ali"),
        ("B-2", "Unit.Dispatched", "d.ali"),
    )
    app.assign_units(first, [UnitChoice(a1, 1800.0, 240.0), UnitChoice(b2, 2500.0, 330.0)], "d.ali")
    s.snapshot(first)
    s.step(("A-1", "Unit.StatusChanged", "crew.a"))
    app.update_unit_status(a1, UnitStatus.EN_ROUTE, "crew.a")
    s.snapshot(first)
    s.step(("incident", "Incident.UnitReleased", "d.ali"), ("B-2", "Unit.Released", "d.ali"))
    app.release_unit(first, b2, "ALS enough", "d.ali")
    s.snapshot(first)
    # Another incident takes B-2: none of this belongs on the first incident's timeline.
    clock.advance(10)
    second = app.report_incident(
        location=HOME, address="", nature="fall", priority=Priority.B, actor="d.sara"
    )
    app.assign_units(second, [UnitChoice(b2)], "d.sara")
    app.update_unit_status(b2, UnitStatus.EN_ROUTE, "crew.b")
    app.report_position(a1, SCENE, "avl", at=clock.advance(5))  # a position is not a status
    for status in (UnitStatus.ON_SCENE, UnitStatus.TRANSPORTING, UnitStatus.AT_HOSPITAL):
        s.step(("A-1", "Unit.StatusChanged", "crew.a"))
        app.update_unit_status(a1, status, "crew.a")
        s.snapshot(first)
    s.step(("A-1", "Unit.StatusChanged", "crew.a"), ("incident", "Incident.UnitCleared", "crew.a"))
    app.update_unit_status(a1, UnitStatus.AVAILABLE, "crew.a")
    s.snapshot(first)
    s.step(("incident", "Incident.Closed", "d.ali"))
    app.close_incident(first, "transported", "d.ali")
    s.snapshot(first)
    return s, first, a1, b2


def test_the_timeline_of_an_incident_equals_the_sequence_of_its_commands(
    store_app: Dispatch,
) -> None:
    script, first, _a1, _b2 = _script(store_app)

    timeline = incident_timeline(EventLog(store_app), first)

    assert [(e.subject, e.kind, e.actor, e.at) for e in timeline] == script.expected
    positions = [e.position for e in timeline]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    lines = [e.line() for e in timeline]
    assert lines[3] == "08:00:40  d.ali assigned A-1 (ALS): 1.8 km, ETA 4 min"
    assert lines[4] == "08:00:40  d.ali assigned B-2 (BLS): 2.5 km, ETA 6 min"
    assert lines[7] == "08:00:50  crew.a reported A-1 en route"
    assert lines[-1] == "08:02:05  d.ali closed the incident: transported"


def test_an_unknown_incident_has_no_timeline(store_app: Dispatch) -> None:
    with pytest.raises(IncidentNotFound):
        incident_timeline(EventLog(store_app), UUID(int=7))


def test_the_incident_as_of_any_position_or_time_is_exactly_as_it_was_then(
    store_app: Dispatch,
) -> None:
    script, first, a1, b2 = _script(store_app)

    for head, at, state in script.snapshots:
        for as_of in (head, at):
            past = incident_as_of(store_app, first, as_of).incident
            shown = (
                past.status,
                past.priority,
                len(past.notes),
                tuple((a.call_sign, a.active) for a in past.assignment_history),
            )
            assert shown == state, as_of

    en_route_head, en_route_at, _ = script.snapshots[4]
    past = incident_as_of(store_app, first, en_route_at)
    assert past.unit_statuses == {a1: UnitStatus.EN_ROUTE, b2: UnitStatus.DISPATCHED}
    assert past.at == en_route_at
    assert incident_as_of(store_app, first, en_route_head).unit_statuses == past.unit_statuses


def test_the_incident_did_not_exist_before_its_call(store_app: Dispatch) -> None:
    script, first, _a1, _b2 = _script(store_app)
    reported_head = script.snapshots[0][0]

    with pytest.raises(IncidentNotFound):
        incident_as_of(store_app, first, T0)
    with pytest.raises(IncidentNotFound):
        incident_as_of(store_app, first, reported_head - 1)


def test_an_open_incident_shows_its_units_status_events_up_to_now(store_app: Dispatch) -> None:
    clock, a1, _b2 = _setup(store_app)
    incident = store_app.report_incident(
        location=SCENE, address="", nature="fall", priority=Priority.C, actor="d.ali"
    )
    store_app.assign_units(incident, [UnitChoice(a1)], "d.ali")
    for status in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        clock.advance(30)
        store_app.update_unit_status(a1, status, "crew.a")

    timeline = incident_timeline(EventLog(store_app), incident)

    assert [e.kind for e in timeline] == [
        "Incident.Reported",
        "Incident.UnitAssigned",
        "Unit.Dispatched",
        "Unit.StatusChanged",
        "Unit.StatusChanged",
    ]
    assert timeline[-1].text == "crew.a reported A-1 on scene"
