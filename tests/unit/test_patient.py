"""Monitored patients in the Dispatch application (in-memory store, fixed clock and ids):
enrolment, readings, alerts, and incidents raised at home with their de-duplication."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from najda.domain.application import Dispatch
from najda.domain.care.alerting import MonitoringPolicy, Reading
from najda.domain.care.monitoring_use_cases import READ_PAGE, PatientReading
from najda.domain.care.patient import (
    AlertNotFound,
    Patient,
    PatientDischarged,
    PatientNotFound,
    patient_id_for,
)
from najda.domain.care.vitals import Bounds, Severity, Vital, default_thresholds
from najda.domain.errors import AlreadyExists, InvalidValue
from najda.domain.values import IncidentSource, Position, Priority
from tests.fakes import StoppedClock, new_dispatch
from tests.unit.gwt import event_names, replay

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
HOME = Position(36.59, 3.05)


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(T0)


@pytest.fixture
def app(clock: StoppedClock) -> Dispatch:
    app = new_dispatch(clock=clock)
    app.enrol_patient(
        identifier="mrn-0042",
        name="Fatima Belkacem",
        home=HOME,
        address="4 Rue des Oliviers",
        actor="nurse.amal",
        phone="+213 555 01 42 42",
        conditions=["copd"],
        notes="Key with the neighbour at no. 6.",
    )
    return app


def reading(vital: Vital, value: float, ago_s: float, clock: StoppedClock) -> PatientReading:
    """A reading of mrn-0042 taken `ago_s` seconds before the clock's now."""
    at = clock.now - timedelta(seconds=ago_s)
    return PatientReading("mrn-0042", Reading(vital, value, at), "subject", "effectiveDateTime")


def patient(app: Dispatch) -> Patient:
    return app.get_patient(app_patient_id(app))


def app_patient_id(_app: Dispatch) -> UUID:
    return patient_id_for("mrn-0042")


def head(app: Dispatch) -> int:
    return int(app.recorder.max_notification_id() or 0)


# --- enrolment --------------------------------------------------------------------------


def test_enrolment_sets_bounds_by_condition_with_overrides(app: Dispatch) -> None:
    fatima = patient(app)
    assert fatima.thresholds[Vital.SPO2] == Bounds(80, 86, None, None)  # COPD
    other = app.enrol_patient(
        identifier="mrn-0107",
        name="Rachid Mansouri",
        home=HOME,
        address="12 Boulevard",
        actor="nurse.amal",
        conditions=["heart_failure", "diabetes"],
        thresholds={Vital.GLUCOSE: {"warning_high": 220}},
    )
    rachid = app.get_patient(other)
    assert rachid.thresholds[Vital.GLUCOSE] == Bounds(54, 70, 220, 400)
    assert rachid.thresholds[Vital.HEART_RATE].warning_high == 100


def test_enrolment_refuses_a_taken_identifier_or_one_fhir_cannot_name(app: Dispatch) -> None:
    with pytest.raises(AlreadyExists):
        app.enrol_patient(
            identifier="mrn-0042", name="X", home=HOME, address="Y", actor="nurse.amal"
        )
    with pytest.raises(InvalidValue) as refused:
        app.enrol_patient(
            identifier="mrn 42/x", name="X", home=HOME, address="Y", actor="nurse.amal"
        )
    assert refused.value.field == "identifier"


# --- incidents from critical readings ---------------------------------------------------


def test_a_critical_spo2_opens_an_incident_at_home_with_the_readings_noted(
    app: Dispatch, clock: StoppedClock
) -> None:
    [outcome] = app.record_readings([reading(Vital.SPO2, 76, 30, clock)], "gateway-7")
    assert outcome.incident is not None
    incident = app.get_incident(outcome.incident.incident_id)
    assert incident.source is IncidentSource.MONITORING
    assert incident.location == HOME and incident.address == "4 Rue des Oliviers"
    assert incident.callback == "+213 555 01 42 42"
    assert incident.priority is Priority.D
    assert incident.nature == "low SpO2 (monitoring): 76 %"
    assert incident.reported_by == "gateway-7"
    [note] = incident.notes
    assert "Fatima Belkacem (mrn-0042)" in note.text and "conditions: copd" in note.text
    assert "SpO2 76 % at 2024-05-01T07:59:30+00:00" in note.text
    assert "critical below 80" in note.text
    assert "Key with the neighbour" in note.text
    fatima = patient(app)
    assert [i.incident_id for i in fatima.incidents] == [incident.id]
    [alert] = fatima.open_alerts()
    assert (alert.vital, alert.level) == (Vital.SPO2, Severity.CRITICAL)


def test_while_the_incident_is_open_new_critical_vitals_become_notes_not_incidents(
    app: Dispatch, clock: StoppedClock
) -> None:
    [first] = app.record_readings([reading(Vital.SPO2, 76, 30, clock)], "gw")
    assert first.incident is not None
    clock.now += timedelta(minutes=45)  # past the de-duplication window: still open
    [second] = app.record_readings(
        [reading(Vital.SPO2, 75, 20, clock), reading(Vital.HEART_RATE, 140, 20, clock)], "gw"
    )
    assert second.incident is None
    assert second.noted_incident_id == first.incident.incident_id
    incident = app.get_incident(first.incident.incident_id)
    assert "heart rate 140 /min" in incident.notes[-1].text
    assert len(patient(app).incidents) == 1
    [third] = app.record_readings([reading(Vital.HEART_RATE, 150, 10, clock)], "gw")
    assert third.noted_incident_id is None  # already alerting critical: nothing new to say
    assert len(app.get_incident(first.incident.incident_id).notes) == 2


def test_after_the_incident_ended_a_critical_breach_within_the_window_is_suppressed(
    app: Dispatch, clock: StoppedClock
) -> None:
    [first] = app.record_readings([reading(Vital.SPO2, 76, 30, clock)], "gw")
    assert first.incident is not None
    app.cancel_incident(first.incident.incident_id, "patient fine on call-back", "d.ali")
    clock.now += timedelta(minutes=10)
    [second] = app.record_readings([reading(Vital.HEART_RATE, 150, 5, clock)], "gw")
    assert second.incident is None and second.suppressed
    clock.now += timedelta(minutes=25)  # 35 min after the first: a new incident
    [third] = app.record_readings([reading(Vital.RESPIRATORY_RATE, 6, 5, clock)], "gw")
    assert third.incident is not None
    assert third.incident.priority is Priority.D
    assert len(patient(app).incidents) == 2


def test_a_late_upload_of_a_critical_reading_alerts_but_sends_nobody(
    app: Dispatch, clock: StoppedClock
) -> None:
    [outcome] = app.record_readings([reading(Vital.SPO2, 70, 3600, clock)], "gw")
    assert outcome.incident is None
    assert [e.kind for e in outcome.effects] == ["raised"]


def test_the_most_urgent_vital_is_the_incident_s_nature(app: Dispatch, clock: StoppedClock) -> None:
    [outcome] = app.record_readings(
        [reading(Vital.SYSTOLIC_BP, 230, 30, clock), reading(Vital.SPO2, 70, 30, clock)], "gw"
    )
    assert outcome.incident is not None
    assert outcome.incident.vital is Vital.SPO2  # D beats C (hypertension)
    assert outcome.incident.priority is Priority.D


# --- duplicates, refusals, nothing half-written -----------------------------------------


def test_a_retried_reading_is_skipped_and_a_contradicting_one_refuses_the_batch(
    app: Dispatch, clock: StoppedClock
) -> None:
    first = reading(Vital.HEART_RATE, 88, 60, clock)
    app.record_readings([first], "gw")
    version = patient(app).version
    [again] = app.record_readings([first], "gw")
    assert (again.duplicates, len(again.accepted)) == (1, 0)
    assert patient(app).version == version
    other = PatientReading("mrn-0042", Reading(Vital.HEART_RATE, 90, first.reading.at), "s", "t")
    with pytest.raises(InvalidValue) as refused:
        app.record_readings([reading(Vital.SPO2, 95, 10, clock), other], "gw")
    assert refused.value.field == "t"
    assert "was already given as 88, now 90" in refused.value.message
    assert patient(app).version == version


def test_an_unknown_patient_refuses_the_whole_batch_naming_its_reference(
    app: Dispatch, clock: StoppedClock
) -> None:
    before = head(app)
    stranger = PatientReading(
        "mrn-9999",
        Reading(Vital.SPO2, 70, clock.now),
        "entry[1].resource.subject.reference",
        "entry[1].resource.effectiveDateTime",
    )
    with pytest.raises(InvalidValue) as refused:
        app.record_readings([reading(Vital.SPO2, 70, 10, clock), stranger], "gw")
    assert refused.value.field == "entry[1].resource.subject.reference"
    assert "no patient you may report for has this identifier" in refused.value.message
    assert head(app) == before


@pytest.mark.parametrize(
    ("ago_s", "words"), [(-600, "is in the future"), (8 * 86_400, "in the past")]
)
def test_refuses_readings_from_the_future_or_from_long_ago(
    app: Dispatch, clock: StoppedClock, ago_s: float, words: str
) -> None:
    before = head(app)
    with pytest.raises(InvalidValue) as refused:
        app.record_readings([reading(Vital.SPO2, 95, ago_s, clock)], "gw")
    assert refused.value.field == "effectiveDateTime"
    assert words in refused.value.message
    assert head(app) == before


def test_a_discharged_patient_s_readings_are_refused(app: Dispatch, clock: StoppedClock) -> None:
    app.discharge_patient(app_patient_id(app), "moved to a care home", "nurse.amal")
    with pytest.raises(PatientDischarged):
        app.record_readings([reading(Vital.SPO2, 95, 10, clock)], "gw")
    with pytest.raises(PatientDischarged):
        app.change_thresholds(app_patient_id(app), {}, "", "nurse.amal")


# --- acknowledgement and bounds ---------------------------------------------------------


def test_a_nurse_acknowledges_an_open_alert_once(app: Dispatch, clock: StoppedClock) -> None:
    [outcome] = app.record_readings([reading(Vital.SPO2, 76, 30, clock)], "gw")
    alert_id = outcome.effects[0].alert_id
    pid = app_patient_id(app)
    assert app.acknowledge_alert(pid, alert_id, "", "nurse.amal")
    assert not app.acknowledge_alert(pid, alert_id, "", "nurse.amal")
    assert app.acknowledge_alert(pid, alert_id, "called her: oxygen tube kinked", "nurse.amal")
    with pytest.raises(AlertNotFound):
        app.acknowledge_alert(pid, UUID(int=7), "", "nurse.amal")


def test_changed_bounds_apply_to_the_next_readings_and_reset_restores_defaults(
    app: Dispatch, clock: StoppedClock
) -> None:
    pid = app_patient_id(app)
    app.change_thresholds(pid, {Vital.SPO2: {"critical_low": 70}}, "baseline 78 %", "nurse")
    [outcome] = app.record_readings([reading(Vital.SPO2, 76, 30, clock)], "gw")
    assert outcome.incident is None  # now only a warning
    app.change_thresholds(pid, {}, "back to COPD defaults", "nurse", reset=True)
    assert patient(app).thresholds[Vital.SPO2] == Bounds(80, 86, None, None)


# --- replay -----------------------------------------------------------------------------


def test_replaying_a_patient_s_events_rebuilds_exactly_the_state_the_commands_left() -> None:
    rng = random.Random(7)
    live = Patient(
        id=UUID(int=1),
        identifier="mrn-1",
        name="P",
        home=HOME,
        address="A",
        phone="",
        conditions=[],
        thresholds={v.value: b for v, b in default_thresholds([]).items()},
        notes="",
        actor="n",
        at=T0,
        identifier_system="urn:najda:patient",
        devices=["gw-1"],
    )
    ids = iter(UUID(int=i) for i in range(100, 10_000))
    now = T0
    for _ in range(60):
        now += timedelta(minutes=rng.choice([1, 3, 7, 20]))
        batch = [
            (
                "t",
                Reading(
                    rng.choice([Vital.SPO2, Vital.HEART_RATE]),
                    rng.choice([70, 84, 88, 92, 97, 45, 120, 140]),
                    now - timedelta(seconds=rng.choice([0, 30, 600])),
                ),
            )
            for _ in range(rng.randint(1, 3))
        ]
        try:
            live.record_readings(
                batch,
                policy=MonitoringPolicy(),
                now=now,
                new_id=lambda: next(ids),
                incident_open=rng.random() < 0.5,
                actor="gw",
            )
        except InvalidValue:
            continue  # a random contradiction: refused, nothing triggered
    events = list(live.collect_events())
    assert "AlertRaised" in event_names(events) and "IncidentRaised" in event_names(events)
    rebuilt = replay(events, Patient)
    assert rebuilt.tracks == live.tracks
    assert rebuilt.incidents == live.incidents


def test_the_reading_history_pages_through_a_long_stream_newest_first(
    app: Dispatch, clock: StoppedClock
) -> None:
    start = clock.now
    for i in range(READ_PAGE + 50):
        clock.now = start + timedelta(minutes=i)
        app.record_readings(
            [reading(Vital.HEART_RATE, 60 + i % 30, 0, clock), reading(Vital.SPO2, 97, 0, clock)],
            "gw",
        )
    pid = app_patient_id(app)
    history = app.patient_readings(pid, Vital.HEART_RATE, limit=READ_PAGE + 20)
    assert len(history) == READ_PAGE + 20
    assert [r.at for r in history] == sorted((r.at for r in history), reverse=True)
    assert history[0].at == clock.now
    assert len(app.patient_readings(pid, limit=1000)) == 2 * (READ_PAGE + 50)
    incident = app.report_incident(
        location=HOME, address="", nature="fall", priority=Priority.C, actor="d.ali"
    )
    for stranger in (incident, UUID(int=99)):
        with pytest.raises(PatientNotFound):
            app.patient_readings(stranger)
