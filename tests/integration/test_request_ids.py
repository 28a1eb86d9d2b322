"""Request ids: kept with the events a request's commands record, shown on the timeline,
invisible to the aggregates (they replay as before) and absent outside a request."""

from __future__ import annotations

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.audit.correlation import REQUEST_ID_KEY, request_context
from najda.domain.values import Position, Priority, UnitKind
from najda.projections.audit.timeline import incident_timeline
from najda.projections.store.event_rows import EventLog


def test_events_carry_the_request_id_and_aggregates_replay_unchanged(store_app: Dispatch) -> None:
    app = store_app
    unit = app.register_unit("A-1", UnitKind.ALS, "admin", home=Position(47.14, 9.52))
    with request_context("req-report-1"):
        incident = app.report_incident(
            location=Position(47.15, 9.51), address="", nature="fall", priority=Priority.C,
            actor="d",
        )  # fmt: skip
    with request_context("req-assign-2"):
        app.assign_units(incident, [UnitChoice(unit, 900.0, 120.0)], "d")
    app.add_note(incident, "no request here", "d")

    log = EventLog(app)
    ids = [(e.kind, e.request_id) for e in incident_timeline(log, incident)]
    assert ids[0] == ("Incident.Reported", "req-report-1")
    assert ("Incident.UnitAssigned", "req-assign-2") in ids
    assert ids[-1] == ("Incident.NoteAdded", None)
    unit_rows = log.stream(unit)
    assert REQUEST_ID_KEY.encode() not in unit_rows[0].state  # registered outside a request
    assert b"req-assign-2" in unit_rows[-1].state  # saved with the incident, same request

    # The id is metadata: the aggregates decode without it and read as before.
    loaded = app.get_incident(incident)
    assert not hasattr(loaded, REQUEST_ID_KEY)
    assert list(loaded.assignments) == [unit] and loaded.notes[0].text == "no request here"
