"""NEMSIS eTimes and intervals read back from both real stores, and the report over them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.timeline import incident_timeline
from najda.projections.reports.nemsis_intervals import unit_responses
from najda.projections.reports.response_times import build_report, collect, report_csv
from najda.projections.store.event_rows import EventLog
from tests.fakes import T0, StoppedClock

STATION = Position(36.75, 3.06)


def _run(app: Dispatch, clock: StoppedClock, priority: Priority, response_s: float) -> None:
    """A call 30 s before it is entered; unit notified at +40 s; en route 60 s later; on
    scene `response_s` after the call; 10 min on scene, 10 min transport, back 5 min later.
    The next call comes an hour after this one."""
    call = clock.now
    clock.advance(30)
    unit = app.register_unit(f"A-{int(response_s)}", UnitKind.ALS, "admin", home=STATION)
    incident = app.report_incident(
        location=Position(36.76, 3.07), address="", nature="collapse", priority=priority,
        actor="d", call_received_at=call,
    )  # fmt: skip
    clock.now = call + timedelta(seconds=40)
    app.assign_units(incident, [UnitChoice(unit)], "d")
    clock.now = call + timedelta(seconds=100)
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew")
    clock.now = call + timedelta(seconds=response_s)
    app.update_unit_status(unit, UnitStatus.ON_SCENE, "crew")
    for step, status in (
        (600, UnitStatus.TRANSPORTING), (600, UnitStatus.AT_HOSPITAL), (300, UnitStatus.AVAILABLE)
    ):  # fmt: skip
        clock.advance(step)
        app.update_unit_status(unit, status, "crew")
    clock.now = call + timedelta(hours=1)  # the next call, an hour after this one


def test_a_unit_response_carries_its_nemsis_times_and_intervals(store_app: Dispatch) -> None:
    clock = StoppedClock(T0)
    store_app.clock = clock
    _run(store_app, clock, Priority.E, 430)
    incident_id = next(
        r.originator_id for r in EventLog(store_app).scan(0, 50) if r.topic.endswith("Reported")
    )

    (response,) = unit_responses(incident_timeline(EventLog(store_app), incident_id))

    assert response.call_received == T0
    assert response.dispatch_notified == T0 + timedelta(seconds=30)
    assert response.unit_notified == T0 + timedelta(seconds=40)
    assert response.at_patient is None and response.transfer_of_care is None
    assert response.back_in_service == T0 + timedelta(seconds=430 + 1500)
    assert response.first_on_scene
    assert response.intervals() == {
        "call_processing": 40.0,
        "turnout": 60.0,
        "travel": 330.0,
        "response": 430.0,
        "on_scene": 600.0,
        "transport": 600.0,
    }


def test_the_report_gives_percentiles_and_compliance_per_priority(store_app: Dispatch) -> None:
    clock = StoppedClock(T0)
    store_app.clock = clock
    store_app.register_station("S1", "North", Position(36.77, 3.08), "admin")
    for response_s in (300, 400, 500, 600, 700):  # E: two of five over 8:59
        _run(store_app, clock, Priority.E, response_s)
    _run(store_app, clock, Priority.A, 1000)

    responses, zones = collect(EventLog(store_app))
    report = build_report(responses, zones)

    assert (report["incidents"], report["unit_responses"]) == (6, 6)
    e = report["by_priority"]["E"]["response"]
    assert e["n"] == 5 and e["p50_s"] == pytest.approx(500.0)
    assert e["p90_s"] == pytest.approx(660.0)  # 600 + 0.6 * (700 - 600)
    compliance = {(c["metric"], c["priority"]): c for c in report["compliance"]}
    assert compliance["response", "E"]["met"] is False
    assert compliance["response", "E"]["within_target"] == pytest.approx(3 / 5)
    assert compliance["response", "D"]["n"] == 0 and compliance["response", "D"]["met"] is None
    assert compliance["turnout", None]["met"] is True  # 60 s everywhere
    assert list(report["by_zone"]) == ["S1"]
    assert list(report["by_hour"]) == ["08", "09", "10", "11", "12", "13"]
    csv_lines = report_csv(report).splitlines()
    assert len(csv_lines) == 7 and csv_lines[0].startswith("incident_id,unit_id,call_sign")
    assert ",430.0," not in csv_lines[1] and ",300.0," in csv_lines[1]


def test_the_report_keeps_calls_within_the_period(store_app: Dispatch) -> None:
    clock = StoppedClock(T0)
    store_app.clock = clock
    for response_s in (300, 400, 500):
        _run(store_app, clock, Priority.D, response_s)
    start = T0 + timedelta(hours=1)

    responses, _zones = collect(EventLog(store_app), start, start + timedelta(hours=1))

    assert [r.call_received for r in responses] == [start]


def test_dispatch_acknowledged_and_unit_cancelled_fill_etimes_04_and_14(
    store_app: Dispatch,
) -> None:
    clock = StoppedClock(T0)
    store_app.clock = clock
    kept = store_app.register_unit("A-KEPT", UnitKind.ALS, "admin", home=STATION)
    cancelled = store_app.register_unit("A-CANC", UnitKind.ALS, "admin", home=STATION)
    incident = store_app.report_incident(
        location=Position(36.76, 3.07), address="", nature="collapse", priority=Priority.E,
        actor="d",
    )  # fmt: skip
    clock.advance(20)
    store_app.assign_units(incident, [UnitChoice(kept), UnitChoice(cancelled)], "d")
    clock.advance(7)
    assert store_app.acknowledge_assignment(kept, "crew.kept")
    clock.advance(5)
    assert not store_app.acknowledge_assignment(kept, "crew.kept")  # the first one counts
    store_app.update_unit_status(cancelled, UnitStatus.EN_ROUTE, "crew.canc")
    clock.advance(60)
    store_app.release_unit(incident, cancelled, "not needed", "d")

    responses = unit_responses(incident_timeline(EventLog(store_app), incident))
    by_sign = {r.call_sign: r for r in responses}
    assert by_sign["A-KEPT"].dispatch_acknowledged == T0 + timedelta(seconds=27)
    assert by_sign["A-KEPT"].cancelled is None
    assert by_sign["A-CANC"].dispatch_acknowledged is None
    assert by_sign["A-CANC"].cancelled == T0 + timedelta(seconds=92)
    assert by_sign["A-CANC"].back_in_service == T0 + timedelta(seconds=92)
    header = report_csv({"responses": []}).splitlines()[0].split(",")
    assert header.index("eTimes.04") == header.index("eTimes.03") + 1
    assert header.index("eTimes.14") == header.index("eTimes.13") + 1
