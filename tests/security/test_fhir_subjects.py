"""Issue 15, finding M6, through a real server: a device token posts vitals only for the
patients enrolled to it; `http://evil/Patient/mrn-0042` is not mrn-0042 (only relative
references, or identifiers of the configured system); unknown, foreign and unbound subjects
all get one uniform answer, so a device cannot enumerate record numbers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from najda.domain.application import Dispatch
from najda.domain.care.alerting import Reading
from najda.domain.care.monitoring_use_cases import ImplausibleReport, PatientReading, Sender
from najda.domain.care.patient_identity import NOT_REPORTABLE
from najda.domain.care.vitals import Vital
from najda.domain.errors import InvalidValue
from najda.domain.values import Position
from najda.projections.store.event_rows import EventLog
from tests.e2e.harness import CENTRE, NajdaServer, head, ok

FHIR_JSON = {"Content-Type": "application/fhir+json"}
SYSTEM = "urn:najda:patient"  # the default NAJDA_PATIENT_SYSTEM
UNIFORM = "no patient you may report for has this identifier"


@dataclass
class Site:
    """A server with two gateways, each enrolled to one patient, and a nurse."""

    server: NajdaServer
    nurse: httpx.Client
    gw_a: httpx.Client
    gw_b: httpx.Client


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    server = NajdaServer(tmp_path_factory.mktemp("fhir-subjects"), ["--no-demo"]).start()
    try:
        tokens = {n: server.add_user(n, r) for n, r in [("nurse", "nurse"), ("gw-a", "device")]}
        tokens["gw-b"] = server.add_user("gw-b", "device")
        with (
            server.client(tokens["nurse"]) as nurse,
            server.client(tokens["gw-a"]) as gw_a,
            server.client(tokens["gw-b"]) as gw_b,
        ):
            for identifier, device in [("mrn-0042", "gw-a"), ("mrn-0107", "gw-b")]:
                body = {"identifier": identifier, "name": identifier, "address": "A"}
                body.update(lat=CENTRE[0], lon=CENTRE[1], devices=[device])
                ok(nurse.post("/patients", json=body), 201)
            yield Site(server, nurse, gw_a, gw_b)
    finally:
        server.stop()


def spo2(subject: dict[str, Any], value: float = 96, ago_s: float = 10) -> dict[str, Any]:
    """An SpO2 Observation of the subject."""
    at = (datetime.now(UTC) - timedelta(seconds=ago_s)).isoformat(timespec="seconds")
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
        "subject": subject,
        "effectiveDateTime": at,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "%"},
    }


def post(client: httpx.Client, document: dict[str, Any]) -> httpx.Response:
    return client.post("/fhir/Observation", json=document, headers=FHIR_JSON)


def readings(site: Site, patient: str) -> list[Any]:
    return list(ok(site.nurse.get(f"/patients/{patient}/readings")))


def test_a_device_cannot_post_vitals_for_a_patient_not_enrolled_to_it(site: Site) -> None:
    before = head(site.nurse)
    response = post(site.gw_b, spo2({"reference": "Patient/mrn-0042"}))
    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Observation.subject.reference"]
    assert UNIFORM in issue["diagnostics"]
    assert head(site.nurse) == before
    assert readings(site, "mrn-0042") == []
    ok(post(site.gw_a, spo2({"reference": "Patient/mrn-0042"}, ago_s=20)))  # its own device
    assert [r["value"] for r in readings(site, "mrn-0042")] == [96.0]


def test_a_device_cannot_slip_a_foreign_patient_into_a_bundle(site: Site) -> None:
    before = head(site.nurse)
    kept = readings(site, "mrn-0042")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": spo2({"reference": "Patient/mrn-0107"}, ago_s=30)},
            {"resource": spo2({"reference": "Patient/mrn-0042"}, ago_s=30)},
        ],
    }
    response = site.gw_b.post("/fhir", json=bundle, headers=FHIR_JSON)
    assert response.status_code == 422
    assert UNIFORM in response.json()["issue"][0]["diagnostics"]
    assert head(site.nurse) == before
    bundle["type"] = "batch"
    answer = ok(site.gw_b.post("/fhir", json=bundle, headers=FHIR_JSON))
    assert [e["response"]["status"] for e in answer["entry"]] == [
        "201 Created",
        "422 Unprocessable Entity",
    ]
    assert readings(site, "mrn-0042") == kept
    assert len(readings(site, "mrn-0107")) == 1


@pytest.mark.parametrize(
    "reference",
    [
        "http://evil/Patient/mrn-0042",
        "https://evil.example/fhir/Patient/mrn-0042/_history/1",
        "Patient/mrn-0042/../mrn-0107",
    ],
)
def test_an_absolute_or_odd_reference_is_not_taken_for_the_patient(
    site: Site, reference: str
) -> None:
    before = head(site.nurse)
    response = post(site.gw_a, spo2({"reference": reference}, ago_s=40))
    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Observation.subject.reference"]
    assert 'expected a relative reference "Patient/<id>"' in issue["diagnostics"]
    assert head(site.nurse) == before


def test_an_identifier_matches_only_with_the_configured_system(site: Site) -> None:
    before = head(site.nurse)
    foreign = {"identifier": {"system": "http://evil/mrn", "value": "mrn-0042"}}
    response = post(site.gw_a, spo2(foreign, ago_s=50))
    assert response.status_code == 422
    assert UNIFORM in response.json()["issue"][0]["diagnostics"]
    assert head(site.nurse) == before
    ours = {"identifier": {"system": SYSTEM, "value": "mrn-0042"}}
    recorded = ok(post(site.gw_a, spo2(ours, value=93, ago_s=50)))
    assert recorded["patients"][0]["identifier"] == "mrn-0042"


def test_unknown_foreign_and_unbound_subjects_get_one_uniform_answer(site: Site) -> None:
    subjects = [
        {"reference": "Patient/mrn-9999"},  # nobody
        {"reference": "Patient/mrn-0107"},  # enrolled, not to gw-a
        {"identifier": {"system": "http://other.example/mrn", "value": "mrn-0042"}},  # foreign
        {"identifier": {"system": SYSTEM, "value": "mrn-0107"}},  # enrolled, not to gw-a
        {"identifier": {"system": SYSTEM, "value": "mrn-9999"}},  # nobody
    ]
    answers = set()
    for subject in subjects:
        response = post(site.gw_a, spo2(subject, ago_s=60))
        [issue] = response.json()["issue"]
        answers.add((response.status_code, issue["code"], issue["diagnostics"]))
    [(status, code, message)] = answers  # one answer for all five
    assert (status, code) == (422, "invalid")
    assert message.startswith(UNIFORM)


def test_an_implausible_value_for_a_patient_not_the_devices_flags_nothing(site: Site) -> None:
    before = head(site.nurse)
    response = post(site.gw_a, spo2({"reference": "Patient/mrn-0107"}, value=0.9, ago_s=70))
    assert response.status_code == 422
    assert head(site.nurse) == before
    assert ok(site.nurse.get("/patients/mrn-0107"))["device_problem"] is None


# --- the same rules on each real store, below the API ----------------------------------


def test_on_each_store_a_device_reports_only_for_its_patients(store_app: Dispatch) -> None:
    for identifier, device in [("mrn-0042", "gw-a"), ("mrn-0107", "gw-b")]:
        store_app.enrol_patient(
            identifier=identifier, name=identifier, home=Position(*CENTRE), address="A",
            actor="nurse", devices=[device],
        )  # fmt: skip
    now = datetime.now(UTC) - timedelta(seconds=5)

    def reading(patient: str, system: str | None = None) -> PatientReading:
        return PatientReading(patient, Reading(Vital.SPO2, 95, now), "subject", "t", system)

    gw_a = Sender("gw-a", is_device=True)
    before = EventLog(store_app).head()
    refusals = set()
    for entry in (
        reading("mrn-0107"),  # enrolled, not to gw-a
        reading("mrn-0042", "http://evil/mrn"),  # foreign system
        reading("mrn-9999"),  # nobody
    ):
        with pytest.raises(InvalidValue) as refused:
            store_app.record_readings([entry], "gw-a", gw_a)
        refusals.add((refused.value.field, refused.value.message))
    assert refusals == {("subject", NOT_REPORTABLE)}
    report = ImplausibleReport("mrn-0107", Vital.SPO2, 0.9, "", "v", "m", "gw-a")
    assert store_app.record_implausible([report], "gw-a", gw_a) == 0
    assert EventLog(store_app).head() == before
    [recorded] = store_app.record_readings([reading("mrn-0042", SYSTEM)], "gw-a", gw_a)
    assert recorded.identifier == "mrn-0042"
    nurse = Sender("nurse", is_device=False)
    assert store_app.record_readings([reading("mrn-0107")], "nurse", nurse)[0].accepted
