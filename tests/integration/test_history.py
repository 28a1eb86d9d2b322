"""The incident history read from the event log, on both real stores."""

from __future__ import annotations

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import IncidentStatus, Position, Priority, UnitKind
from najda.projections.dispatch.incident_history import (
    HistoryIndex,
    HistoryQuery,
    HistoryState,
    incident_history,
    search,
)
from najda.projections.store.event_rows import EventLog

ACTOR = "dispatcher-1"
CITY = Position(36.75, 3.06)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("store", STORES)
def test_history_holds_open_and_ended_incidents_with_every_unit(
    store: str, request: pytest.FixtureRequest
) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    unit_id = app.register_unit("A-1", UnitKind.ALS, ACTOR, home=CITY)
    ended = app.report_incident(
        location=CITY, address="1 Sea Road", nature="fall", priority=Priority.C, actor=ACTOR
    )
    app.assign_units(ended, [UnitChoice(unit_id)], ACTOR)
    app.change_priority(ended, Priority.D, ACTOR)
    app.cancel_incident(ended, "patient refused", ACTOR)
    still_open = app.report_incident(
        location=CITY, address="2 Hill St", nature="chest pain", priority=Priority.E, actor=ACTOR
    )
    rows = incident_history(EventLog(app))
    assert [r.incident_id for r in rows] == [still_open, ended]  # newest call first
    old = rows[1]
    assert (old.status, old.board.priority, old.call_signs) == (
        IncidentStatus.CANCELLED,
        Priority.D,
        ["A-1"],
    )
    assert old.disposition == "patient refused" and old.ended_at is not None
    closed = HistoryQuery(state=HistoryState.CLOSED)
    assert [r.incident_id for r in search(rows, closed)] == [ended]
    assert [r.incident_id for r in search(rows, HistoryQuery(q="HILL chest"))] == [still_open]
    by_unit = HistoryQuery(unit_id=unit_id, call_sign="a-1")
    assert [r.incident_id for r in search(rows, by_unit)] == [ended]
    later = HistoryQuery(since=rows[0].board.call_received_at)
    assert [r.incident_id for r in search(rows, later)] == [still_open]


@pytest.mark.parametrize("store", STORES)
def test_the_index_folds_only_what_was_recorded_since_its_last_read(
    store: str, request: pytest.FixtureRequest
) -> None:
    app: Dispatch = request.getfixturevalue(f"{store}_app")
    index = HistoryIndex()
    log = EventLog(app)
    first = app.report_incident(
        location=CITY, address="", nature="fall", priority=Priority.C, actor=ACTOR
    )
    assert [r.status for r in index.refresh(log)] == [IncidentStatus.PENDING]
    app.close_incident(first, "advice given", ACTOR)
    second = app.report_incident(
        location=CITY, address="", nature="burns", priority=Priority.D, actor=ACTOR
    )
    rows = index.refresh(log)
    assert [(r.incident_id, r.status) for r in rows] == [
        (second, IncidentStatus.PENDING),
        (first, IncidentStatus.CLOSED),
    ]
    assert index.refresh(log) == rows == incident_history(log)
