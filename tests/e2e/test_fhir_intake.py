"""The FHIR intake through one real server and real websocket clients: an SpO2 fraction from
a device opens nothing and flags the device on the board; batch and transaction Bundles as
FHIR defines them; OperationOutcome errors, 415, and the CapabilityStatement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.fhir_samples import quantity, vital_sign
from tests.e2e.harness import CENTRE, NajdaServer, build_world, head, offset, ok
from tests.e2e.live import Listener, Message

FHIR_JSON = {"Content-Type": "application/fhir+json"}
HL7 = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "hl7-r4"
HOME = offset(*CENTRE, north_m=600.0, east_m=200.0)
DEVICE = "gw-7731"


@dataclass
class Intake:
    """A server with units, one COPD patient enrolled to the device, and the callers."""

    server: NajdaServer
    admin: httpx.Client
    nurse: httpx.Client
    device: httpx.Client
    dispatcher_token: str
    nurse_token: str


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Intake]:
    """One embedded server for the module (each test uses its own patient)."""
    server = NajdaServer(tmp_path_factory.mktemp("fhir-intake"), ["--no-demo"]).start()
    try:
        nurse_token = server.add_user("nurse.amal", "nurse")
        device_token = server.add_user(DEVICE, "device")
        dispatcher_token = server.add_user("d.ali", "dispatcher")
        with (
            server.client() as admin,
            server.client(nurse_token) as nurse,
            server.client(device_token) as device,
        ):
            build_world(admin)
            yield Intake(server, admin, nurse, device, dispatcher_token, nurse_token)
    finally:
        server.stop()


def enrol(w: Intake, identifier: str) -> None:
    """A COPD patient at HOME whose vitals the device posts."""
    lat, lon = HOME
    body = {"identifier": identifier, "name": f"Patient {identifier}", "lat": lat, "lon": lon}
    body.update(address="4 Rue Didouche", conditions=["copd"], devices=[DEVICE])
    ok(w.nurse.post("/patients", json=body), 201)


def observation(patient: str, code: str, value: float, unit: str, ago_s: float = 5) -> Any:
    """A vital-signs Observation measured `ago_s` seconds ago."""
    at = (datetime.now(UTC) - timedelta(seconds=ago_s)).isoformat(timespec="seconds")
    return vital_sign(patient, code, at, valueQuantity=quantity(value, unit))


def _has(event: str) -> Any:
    def check(messages: list[Message]) -> bool:
        return any(m.get("event") == event for m in messages)

    return check


def test_an_spo2_fraction_from_a_device_opens_nothing_and_the_board_flags_the_device(
    intake: Intake,
) -> None:
    w = intake
    enrol(w, "mrn-frac")
    incidents_before = ok(w.admin.get("/incidents"))
    with (
        Listener(w.server.ws_url("/ws/console"), w.dispatcher_token) as console,
        Listener(w.server.ws_url("/ws/monitoring"), w.nurse_token) as monitoring,
    ):
        assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        assert monitoring.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        fraction = observation("mrn-frac", "59408-5", 0.97, "%")
        response = w.device.post("/fhir/Observation", json=fraction, headers=FHIR_JSON)
        assert response.status_code == 422, response.text
        [issue] = response.json()["issue"]
        assert issue["expression"] == ["Observation.valueQuantity.value"]
        assert "0.97 % is not a plausible SpO2" in issue["diagnostics"]
        assert "was a fraction sent?" in issue["diagnostics"]
        # The refusal is the only thing written: once the console has it, it has everything.
        assert console.wait_for(_has("Patient.ImplausibleRefused"))
        assert monitoring.wait_for(_has("Patient.ImplausibleRefused"))
        seen = [m.get("event") for m in console.changes()]
        assert "Incident.Reported" not in seen
        assert "Patient.AlertRaised" not in seen
        assert "Patient.ReadingsRecorded" not in seen
        flagged = next(
            m for m in monitoring.changes() if m["event"] == "Patient.ImplausibleRefused"
        )
        assert flagged["patient"]["device_problem"]["device"] == "Nonin 3230"
    assert ok(w.admin.get("/incidents")) == incidents_before
    patient = ok(w.nurse.get("/patients/mrn-frac"))
    assert (
        patient["latest"] == [] and patient["open_alerts"] == [] and patient["incident_ids"] == []
    )
    assert ok(w.nurse.get("/patients/mrn-frac/readings")) == []
    problem = patient["device_problem"]
    assert problem["problem"] == "device sending implausible values"
    assert (problem["vital"], problem["refused"], problem["device"]) == ("spo2", 1, "Nonin 3230")
    board = ok(w.nurse.get("/monitoring/board"))
    assert [p["identifier"] for p in board["device_problems"]] == ["mrn-frac"]
    assert board["alerts"] == []
    # A good SpO2 from the device clears the flag.
    ok(w.device.post("/fhir/Observation", json=observation("mrn-frac", "59408-5", 94, "%", 2)))
    assert ok(w.nurse.get("/patients/mrn-frac"))["device_problem"] is None


def _bundle(kind: str, patient: str) -> dict[str, Any]:
    """A heart rate, a body temperature (not monitored) and an SpO2 in a unit of rate."""
    entries = [
        observation(patient, "8867-4", 88, "{beat}/min", 30),
        observation(patient, "8310-5", 37.2, "Cel", 30),
        observation(patient, "59408-5", 95, "/min", 30),
    ]
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in entries
        ],
    }


def test_a_mixed_batch_records_the_good_entry_ignores_one_and_refuses_one(intake: Intake) -> None:
    w = intake
    enrol(w, "mrn-batch")
    answer = ok(w.device.post("/fhir", json=_bundle("batch", "mrn-batch"), headers=FHIR_JSON))
    assert answer["resourceType"] == "Bundle" and answer["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created", "200 OK", "422 Unprocessable Entity"]
    ignored = answer["entry"][1]["response"]["outcome"]["issue"][0]
    assert ignored["severity"] == "information" and "8310-5" in ignored["diagnostics"]
    [refused] = answer["entry"][2]["response"]["outcome"]["issue"]
    assert refused["expression"] == ["Bundle.entry[2].resource.valueQuantity.code"]
    readings = ok(w.nurse.get("/patients/mrn-batch/readings"))
    assert [(r["vital"], r["value"]) for r in readings] == [("heart_rate", 88.0)]


def test_a_mixed_transaction_is_refused_whole_and_stores_nothing(intake: Intake) -> None:
    w = intake
    enrol(w, "mrn-trans")
    before = head(w.admin)
    response = w.device.post("/fhir", json=_bundle("transaction", "mrn-trans"), headers=FHIR_JSON)
    assert response.status_code == 422
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[2].resource.valueQuantity.code"]
    assert head(w.admin) == before
    good = _bundle("transaction", "mrn-trans")
    del good["entry"][2]
    summary = ok(w.device.post("/fhir", json=good, headers=FHIR_JSON))
    assert summary["recorded"] == 1
    assert summary["ignored"] == [{"entry": "entry[1]", "reason": summary["ignored"][0]["reason"]}]
    assert "8310-5" in summary["ignored"][0]["reason"]


def test_an_unsupported_media_type_gets_415_as_an_operation_outcome(intake: Intake) -> None:
    w = intake
    response = w.device.post(
        "/fhir/Observation", content=b"<Observation/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "application/xml" in response.json()["issue"][0]["diagnostics"]


def test_the_metadata_is_a_capability_statement_anyone_may_read(intake: Intake) -> None:
    response = httpx.get(f"{intake.server.url}/fhir/metadata")
    statement = ok(response)
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["rest"][0]["resource"][0]["type"] == "Observation"


def test_refused_tokens_on_the_fhir_endpoints_get_operation_outcomes(intake: Intake) -> None:
    document = observation("mrn-nobody", "8867-4", 80, "/min")
    anonymous = httpx.post(f"{intake.server.url}/fhir/Observation", json=document)
    assert anonymous.status_code == 401
    assert anonymous.json()["issue"][0]["code"] == "login"
    with intake.server.client(intake.dispatcher_token) as dispatcher:
        forbidden = dispatcher.post("/fhir", json={"resourceType": "Bundle"})
    assert forbidden.status_code == 403
    assert forbidden.json()["resourceType"] == "OperationOutcome"
    assert forbidden.json()["issue"][0]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("name", "patient", "recorded"),
    [
        ("heart-rate", "example", 1),
        ("satO2", "example", 1),
        ("bloodpressure", "example", 2),
        ("respiratory-rate", "example", 1),
        ("f001-glucose", "f001", 1),
    ],
)
def test_hl7s_own_r4_examples_are_recorded_once_recent(
    intake: Intake, name: str, patient: str, recorded: int
) -> None:
    w = intake
    if not any(p["identifier"] == patient for p in ok(w.nurse.get("/patients"))):
        enrol(w, patient)
    doc = json.loads((HL7 / f"observation-example-{name}.json").read_text())
    recent = (datetime.now(UTC) - timedelta(seconds=30)).isoformat(timespec="seconds")
    if "effectivePeriod" in doc:
        doc["effectivePeriod"]["start"] = recent
    else:
        doc["effectiveDateTime"] = recent
    summary = ok(w.device.post("/fhir/Observation", json=doc, headers=FHIR_JSON))
    assert summary["recorded"] == recorded
    assert summary["patients"][0]["identifier"] == patient
