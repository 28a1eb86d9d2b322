"""An incident records how its location was found; events stored before that field load."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from najda.domain.application import Dispatch
from najda.domain.dispatch.location_fix import LocationFix
from najda.domain.errors import InvalidValue
from najda.domain.values import Position, Priority
from najda.projections.store.environment import sqlite_env
from tests.fakes import new_dispatch

SCENE = Position(47.1329089, 9.5135467)


def test_the_fix_is_recorded_and_read_back(sqlite_app: Dispatch, sqlite_path: Path) -> None:
    fix = LocationFix.checked("zollstr 56", "Zollstrasse 56, 9490 Vaduz", "address", SCENE)
    incident_id = sqlite_app.report_incident(
        location=SCENE,
        address=fix.label,
        nature="fall",
        priority=Priority.C,
        actor="d.one",
        location_fix=fix,
    )
    reopened = new_dispatch(env=sqlite_env(sqlite_path))
    try:
        assert reopened.get_incident(incident_id).location_fix == fix
    finally:
        reopened.close()
    with sqlite3.connect(sqlite_path) as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE topic LIKE '%Reported'"
        ).fetchone()
    assert b'"precision":"address"' in state and b'"typed":"zollstr 56"' in state


def test_an_event_stored_before_the_field_existed_still_loads(
    sqlite_app: Dispatch, sqlite_path: Path
) -> None:
    incident_id = sqlite_app.report_incident(
        location=SCENE, address="", nature="fall", priority=Priority.C, actor="d.one"
    )
    with sqlite3.connect(sqlite_path) as db:
        (state,) = db.execute("SELECT state FROM stored_events").fetchone()
        assert b',"location_fix":null' in state
        db.execute(
            "UPDATE stored_events SET state = ?", (state.replace(b',"location_fix":null', b""),)
        )
    reopened = new_dispatch(env=sqlite_env(sqlite_path))
    try:
        incident = reopened.get_incident(incident_id)
        assert incident.location_fix is None and incident.nature == "fall"
    finally:
        reopened.close()


def test_a_fix_with_an_unknown_precision_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"location_fix\.precision"):
        LocationFix.checked("x", "y", "somewhere", SCENE)
