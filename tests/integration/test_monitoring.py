"""Remote monitoring on real stores (SQLite and PostgreSQL): nothing stored from a refused
batch, one incident from concurrent critical readings, a board rebuilt the same from the
log, and the live feed's monitoring messages."""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from najda.api.live.feed import LiveFeed
from najda.api.live.subscribers import Interest
from najda.domain.application import Dispatch
from najda.domain.care.alerting import Reading
from najda.domain.care.monitoring_use_cases import PatientReading
from najda.domain.care.patient import patient_id_for
from najda.domain.care.vitals import Vital
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.errors import ConcurrentChange, InvalidValue
from najda.domain.values import IncidentSource, Position, UnitKind
from najda.projections.base import NotificationSource
from najda.projections.care.monitoring_board import MonitoringDirectory
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch
from tests.integration.support import run

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
HOME = Position(36.59, 3.05)
RACERS = 8


@pytest.fixture(params=STORES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A Dispatch application on each real store, with one patient enrolled."""
    if request.param == "sqlite":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        env = postgres_env(request.getfixturevalue("pg_url"))
    app = new_dispatch(env=env)
    app.enrol_patient(
        identifier="mrn-0042",
        name="Fatima Belkacem",
        home=HOME,
        address="4 Rue des Oliviers",
        actor="nurse.amal",
        conditions=["copd"],
    )
    try:
        yield app
    finally:
        app.close()


def entry(
    vital: Vital,
    value: float,
    ago_s: float,
    patient: str = "mrn-0042",
    now: datetime | None = None,
) -> PatientReading:
    at = (now or datetime.now(UTC)) - timedelta(seconds=ago_s)
    return PatientReading(patient, Reading(vital, value, at), "subject.reference", "effective")


def head(app: Dispatch) -> int:
    return int(app.recorder.max_notification_id() or 0)


def topics(app: Dispatch, after: int = 0) -> Counter[str]:
    notifications = app.recorder.select_notifications(
        start=after, limit=10_000, inclusive_of_start=False
    )
    return Counter(n.topic for n in notifications)


def test_a_refused_batch_stores_nothing(app: Dispatch) -> None:
    now = datetime.now(UTC)
    app.record_readings([entry(Vital.HEART_RATE, 80, 120, now=now)], "gw")
    pid = patient_id_for("mrn-0042")
    version, before = app.get_patient(pid).version, head(app)
    refusals = [
        [entry(Vital.SPO2, 70, 10), entry(Vital.SPO2, 70, 10, patient="mrn-9999")],
        [entry(Vital.SPO2, 70, 10), entry(Vital.SPO2, 70, -3600)],
        [entry(Vital.SPO2, 70, 10), entry(Vital.HEART_RATE, 81, 120, now=now)],  # not 80
    ]
    for batch in refusals:
        with pytest.raises(InvalidValue):
            app.record_readings(batch, "gw")
    assert head(app) == before
    assert app.get_patient(pid).version == version
    assert app.patient_readings(pid) == [app.patient_readings(pid)[0]]


def test_concurrent_critical_readings_of_one_patient_raise_one_incident(app: Dispatch) -> None:
    before = head(app)
    barrier = threading.Barrier(RACERS, timeout=30)
    results: list[Any] = [None] * RACERS

    def racer(i: int) -> None:
        try:
            barrier.wait()
            results[i] = app.record_readings([entry(Vital.SPO2, 70 + i % 5, 5 + i)], f"gw-{i}")
        except BaseException as exc:  # judged below, never swallowed
            results[i] = exc

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    errors = [r for r in results if isinstance(r, BaseException)]
    print(f"{len(errors)} of {RACERS} racers lost three times (ConcurrentChange)")
    assert all(isinstance(e, ConcurrentChange) for e in errors), errors
    assert len(errors) < RACERS
    logged = topics(app, before)
    assert logged["najda:Patient.IncidentRaised"] == 1
    assert logged["najda:Incident.Reported"] == 1
    assert logged["najda:Patient.ReadingsRecorded"] == RACERS - len(errors)
    patient = app.get_patient(patient_id_for("mrn-0042"))
    [link] = patient.incidents
    incident = app.get_incident(link.incident_id)
    assert incident.source is IncidentSource.MONITORING and incident.location == HOME
    raised = [r[0].incident for r in results if isinstance(r, list) and r[0].incident]
    assert [r.incident_id for r in raised] == [incident.id]


def test_the_board_follows_the_log_and_a_fresh_one_rebuilds_the_same(
    app: Dispatch,
) -> None:
    pid = patient_id_for("mrn-0042")
    app.record_readings([entry(Vital.SPO2, 84, 300), entry(Vital.SPO2, 85, 200)], "gw")
    app.record_readings([entry(Vital.HEART_RATE, 150, 100)], "gw")
    [alert] = [a for a in app.get_patient(pid).open_alerts() if a.vital is Vital.SPO2]
    app.acknowledge_alert(pid, alert.alert_id, "called her", "nurse.amal")
    source = NotificationSource(app)
    live = MonitoringDirectory()
    run(live.apply(source.read(0, 100)))
    app.record_readings([entry(Vital.SPO2, 95, 50)], "gw")  # clears the SpO2 alert
    run(live.apply(source.read(run(live.position()), 100)))
    rebuilt = MonitoringDirectory()
    run(rebuilt.apply(source.read(0, 1000)))
    for board in (live.board, rebuilt.board):
        [open_alert] = board.open_alerts()
        assert (open_alert.vital, open_alert.level.value) == (Vital.HEART_RATE, "critical")
        assert open_alert.incident_id is not None
        row = board.patients[pid]
        assert {v: r.value for v, r in row.latest.items()} == {
            Vital.SPO2: 95.0,
            Vital.HEART_RATE: 150.0,
        }
        assert row.incident_ids == (open_alert.incident_id,)
    assert live.board.patients == rebuilt.board.patients
    assert live.board.alerts == rebuilt.board.alerts


def test_the_feed_sends_alerts_to_consoles_and_readings_to_monitoring_clients_only(
    tmp_path: Path,
) -> None:
    app = new_dispatch(env=sqlite_env(tmp_path / "feed.sqlite"))
    try:
        app.register_unit("A-1", UnitKind.ALS, "admin", home=HOME)
        app.enrol_patient(identifier="mrn-7", name="P", home=HOME, address="A", actor="nurse.amal")
        locator = EmbeddedLocator()
        feed = LiveFeed(locator, default_response_plan(), ReferenceDirectory())
        source = NotificationSource(app)

        def sync() -> None:
            batch = source.read(run(feed.position()), 1000)
            run(locator.apply(batch))
            run(feed.apply(batch))

        sync()
        console, _ = feed.subscribe(Interest(), None, 100)
        nurse, _ = feed.subscribe(Interest(monitoring=True), None, 100)
        crew, _ = feed.subscribe(Interest(unit_id=app.find_unit("A-1").id), None, 100)
        app.record_readings([entry(Vital.SPO2, 76, 10, patient="mrn-7")], "gw")
        sync()
        to_console = [json.loads(t) for t in console.queue]
        to_nurse = [json.loads(t) for t in nurse.queue]
        assert [m["event"] for m in to_console] == [
            "Patient.AlertRaised",
            "Patient.IncidentRaised",
            "Incident.Reported",
            "Incident.NoteAdded",
        ]
        reported = to_console[2]
        assert reported["incident"]["source"] == "monitoring"
        assert reported["recommendation"][0]["proposed"][0]["call_sign"] == "A-1"
        assert [m["type"] for m in to_nurse] == ["readings", "alert", "patient"]
        assert to_nurse[0]["readings"][0]["severity"] == "critical"
        assert not crew.queue
        snapshot = json.loads(feed.snapshot(Interest()))
        assert [a["vital"] for a in snapshot["alerts"]] == ["spo2"]
        nurse_view = json.loads(feed.snapshot(Interest(monitoring=True)))
        assert nurse_view["patients"][0]["latest"][0]["value"] == 76.0
        assert "units" not in nurse_view
    finally:
        app.close()
