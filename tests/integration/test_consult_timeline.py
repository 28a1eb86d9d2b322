"""Teleconsults on both real stores: in the incident's timeline, as the commands made them,
in human sentences; the open-consult directory follows the log the same on both."""

from __future__ import annotations

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.care.consult import ConsultStatus
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.audit.timeline import incident_timeline
from najda.projections.base import NotificationSource
from najda.projections.care.consult_queue import ConsultDirectory
from najda.projections.runner import ProjectionRunner
from najda.projections.store.event_rows import EventLog
from tests.fakes import T0, StoppedClock, TickingClock
from tests.integration.support import run
from tests.integration.test_timeline import Script

SCENE = Position(36.76, 3.07)


def test_the_timeline_of_an_incident_with_teleconsults_equals_its_commands(
    store_app: Dispatch,
) -> None:
    clock = StoppedClock(T0)
    store_app.clock = clock
    a1 = store_app.register_unit("A-1", UnitKind.ALS, "admin", home=SCENE)
    s = Script(store_app, clock)
    s.step(("incident", "Incident.Reported", "d.ali"))
    incident = store_app.report_incident(
        location=SCENE, address="", nature="stroke symptoms", priority=Priority.D, actor="d.ali"
    )
    s.step(
        ("incident", "Incident.UnitAssigned", "d.ali"),
        ("A-1", "Unit.Dispatched", "d.ali"),
    )
    store_app.assign_units(incident, [UnitChoice(a1, 900.0, 150.0)], "d.ali")
    s.step(("incident", "Incident.ConsultRequested", "crew.a"))
    stroke = store_app.request_consult(
        incident, "stroke", "facial droop, onset 30 min", "crew.a", unit_id=a1
    )
    s.step(("incident", "Incident.ConsultRequested", "d.ali"))
    psych = store_app.request_consult(incident, "psychiatry", "agitated", "d.ali")
    # Another incident's consult: nothing of it belongs on this timeline.
    other = store_app.report_incident(
        location=SCENE, address="", nature="fall", priority=Priority.B, actor="d.sara"
    )
    store_app.request_consult(other, "geriatrics", "falls", "d.sara")
    s.step(("incident", "Incident.ConsultAccepted", "dr.k"))
    store_app.accept_consult(incident, stroke, "dr.k")
    s.step(("incident", "Incident.ConsultDeclined", "dr.p"))
    store_app.decline_consult(incident, psych, "calm on the phone", "dr.p")
    s.step(("A-1", "Unit.StatusChanged", "crew.a"))
    store_app.update_unit_status(a1, UnitStatus.EN_ROUTE, "crew.a")
    s.step(("incident", "Incident.ConsultEnded", "dr.k"))
    store_app.end_consult(incident, stroke, "thrombolysis window: CHU stroke unit", "dr.k")
    s.step(("incident", "Incident.ConsultRequested", "d.ali"))
    late = store_app.request_consult(incident, "cardiology", "ECG review", "d.ali")
    s.step(
        ("incident", "Incident.UnitReleased", "d.ali"),
        ("incident", "Incident.ConsultCancelled", "d.ali"),  # the open request goes with it
        ("incident", "Incident.Cancelled", "d.ali"),
        ("A-1", "Unit.Released", "d.ali"),
    )
    store_app.cancel_incident(incident, "transferred to another centre", "d.ali")

    timeline = incident_timeline(EventLog(store_app), incident)

    assert [(e.subject, e.kind, e.actor, e.at) for e in timeline] == s.expected
    lines: dict[str, list[str]] = {e.kind: [] for e in timeline}
    for e in timeline:
        lines[e.kind].append(e.line())
    assert lines["Incident.ConsultRequested"] == [
        "08:00:30  crew.a (A-1) requested a stroke teleconsult: facial droop, onset 30 min",
        "08:00:40  d.ali requested a psychiatry teleconsult: agitated",
        "08:01:30  d.ali requested a cardiology teleconsult: ECG review",
    ]
    assert lines["Incident.ConsultAccepted"] == [
        "08:00:50  specialist dr.k (stroke) joined the incident by teleconsult"
    ]
    assert lines["Incident.ConsultDeclined"] == [
        "08:01:00  dr.p declined the psychiatry teleconsult: calm on the phone"
    ]
    assert lines["Incident.ConsultEnded"] == [
        "08:01:20  dr.k ended the teleconsult: thrombolysis window: CHU stroke unit"
    ]
    assert lines["Incident.ConsultCancelled"] == [
        "08:01:40  d.ali cancelled the cardiology teleconsult: incident cancelled"
    ]
    assert store_app.get_incident(incident).consult(late).status is ConsultStatus.CANCELLED


def test_the_open_consults_directory_is_the_same_on_every_store(store_app: Dispatch) -> None:
    store_app.clock = TickingClock()
    incident = store_app.report_incident(
        location=SCENE, address="", nature="chest pain", priority=Priority.C, actor="d.ali"
    )
    waiting = store_app.request_consult(incident, "cardiology", "ST elevation?", "d.ali")
    talking = store_app.request_consult(incident, "toxicology", "took pills", "d.ali")
    store_app.accept_consult(incident, talking, "dr.t")
    done = store_app.request_consult(incident, "stroke", "weakness", "d.ali")
    store_app.decline_consult(incident, done, "not stroke", "dr.k")

    async def follow() -> ConsultDirectory:
        directory = ConsultDirectory()
        await ProjectionRunner(NotificationSource(store_app), [directory], batch_size=2).catch_up()
        return directory

    directory = run(follow())

    listed = [(o.consult.consult_id, o.consult.status) for o in directory.listed()]
    assert listed == [(waiting, ConsultStatus.REQUESTED), (talking, ConsultStatus.IN_PROGRESS)]
    assert [o.consult.consult_id for o in directory.listed(specialties={"toxicology"})] == [talking]
    assert all(o.incident_id == incident for o in directory.listed())
