"""Remote monitoring through real servers (embedded and PostgreSQL) and real websocket
clients: a critical SpO2 posted as FHIR reaches a console as an incident within a second;
every bad observation is refused naming the problem, with nothing stored."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import (
    CENTRE,
    NajdaServer,
    bearer,
    build_world,
    clean_env,
    najda_command,
    offset,
    ok,
)
from tests.e2e.live import Listener, Message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
HOME = offset(*CENTRE, north_m=600.0, east_m=200.0)
STORES = ["embedded", pytest.param("postgres", marks=pytest.mark.postgres)]


def fixture(name: str) -> Any:
    """A FHIR document of tests/fixtures/fhir."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def iso_ago(seconds: float) -> str:
    """An ISO 8601 time `seconds` before now, with its offset."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat(timespec="seconds")


def spo2(value: float, ago_s: float = 5.0, patient: str = "mrn-0042") -> Any:
    """The HL7-style SpO2 Observation, measured `ago_s` seconds ago."""
    doc = fixture("observation-spo2")
    doc["subject"]["reference"] = f"Patient/{patient}"
    doc["effectiveDateTime"] = iso_ago(ago_s)
    doc["valueQuantity"]["value"] = value
    return doc


@dataclass
class Monitoring:
    """A server with units, two enrolled patients and a token per role involved."""

    server: NajdaServer
    admin: httpx.Client
    nurse: httpx.Client
    device: httpx.Client
    dispatcher_token: str
    nurse_token: str


def _enrol(nurse: httpx.Client, identifier: str, lat: float, lon: float, **extra: Any) -> Any:
    body = {
        "identifier": identifier,
        "name": f"Patient {identifier}",
        "lat": lat,
        "lon": lon,
        "address": f"{identifier} Home Street",
        "phone": "+213 555 00 00",
        "devices": ["gw-7731"],
        **extra,
    }
    return ok(nurse.post("/patients", json=body), 201)


def _monitoring(server: NajdaServer) -> Iterator[Monitoring]:
    nurse_token = server.add_user("nurse.amal", "nurse")
    device_token = server.add_user("gw-7731", "device")
    dispatcher_token = server.add_user("d.ali", "dispatcher")
    with (
        server.client() as admin,
        server.client(nurse_token) as nurse,
        server.client(device_token) as device,
    ):
        build_world(admin)
        _enrol(nurse, "mrn-0042", *HOME, conditions=["copd"], notes="key with neighbour")
        _enrol(nurse, "mrn-0107", *offset(*CENTRE, east_m=-900.0), conditions=["diabetes"])
        yield Monitoring(server, admin, nurse, device, dispatcher_token, nurse_token)


@pytest.fixture
def world(start_server: StartServer) -> Iterator[Monitoring]:
    """A fresh embedded server with the monitoring world."""
    yield from _monitoring(start_server("--no-demo"))


def _reported(messages: list[Message]) -> bool:
    return any(
        m.get("event") == "Incident.Reported" and m["incident"]["source"] == "monitoring"
        for m in messages
    )


@pytest.mark.parametrize("store", STORES)
def test_a_critical_spo2_posted_as_fhir_reaches_a_console_as_an_incident_within_a_second(
    store: str, start_server: StartServer, request: pytest.FixtureRequest
) -> None:
    args = ["--no-demo"]
    if store == "postgres":
        args += ["--database-url", request.getfixturevalue("pg_url")]
    for w in _monitoring(start_server(*args)):
        with Listener(w.server.ws_url("/ws/console"), w.dispatcher_token) as console:
            assert console.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
            started = time.monotonic()
            response = w.device.post("/fhir/Observation", json=spo2(78), headers=FHIR_JSON)
            arrived = console.wait_for(_reported, timeout_s=1.0)
            elapsed_s = time.monotonic() - started
            assert arrived, f"no incident on the console within 1 s: {console.changes()}"
            assert elapsed_s < 1.0
            summary = ok(response)
            assert console.wait_for(
                lambda ms: any(m.get("event") == "Incident.NoteAdded" for m in ms), 5
            )
        [outcome] = summary["patients"]
        assert outcome["identifier"] == "mrn-0042" and outcome["recorded"] == 1
        assert [a["change"] for a in outcome["alerts"]] == ["raised"]
        reported = next(m for m in console.changes() if m["event"] == "Incident.Reported")
        incident = reported["incident"]
        assert incident["id"] == outcome["incident_id"]
        assert (incident["source"], incident["priority"]) == ("monitoring", "D")
        assert incident["nature"] == "low SpO2 (monitoring): 78 %"
        assert (incident["lat"], incident["lon"]) == pytest.approx(HOME)
        assert incident["address"] == "mrn-0042 Home Street"
        assert reported["recommendation"][0]["proposed"][0]["call_sign"] == "A-NEAR"
        events = [m["event"] for m in console.changes()]
        assert events.index("Patient.AlertRaised") < events.index("Incident.Reported")
        note = next(m for m in console.changes() if m["event"] == "Incident.NoteAdded")
        assert "SpO2 78 %" in note["note"]["text"]  # the note itself, not all the notes
        assert "key with neighbour" in note["note"]["text"]
        alert = next(m for m in console.changes() if m["event"] == "Patient.AlertRaised")
        assert alert["alert"]["level"] == "critical" and alert["alert"]["vital"] == "spo2"
        assert not any(m["type"] == "readings" for m in console.messages)
        print(f"[{store}] console got the monitoring incident {elapsed_s * 1000:.0f} ms after POST")


def test_a_gateway_bundle_the_board_acknowledgement_and_the_monitoring_socket(
    world: Monitoring,
) -> None:
    bundle = fixture("bundle-home-gateway")
    for i, item in enumerate(bundle["entry"]):
        resource = item["resource"]
        for key in ("effectiveDateTime", "effectiveInstant"):
            if key in resource:
                resource[key] = iso_ago(600 - i)
        if "effectivePeriod" in resource:
            resource["effectivePeriod"] = {"start": iso_ago(600 - i)}
    with Listener(world.server.ws_url("/ws/monitoring"), world.nurse_token) as nurse_socket:
        assert nurse_socket.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        snapshot = nurse_socket.first("snapshot")
        assert snapshot is not None
        assert [p["identifier"] for p in snapshot["patients"]] == ["mrn-0042", "mrn-0107"]
        summary = ok(world.device.post("/fhir", json=bundle))
        assert (summary["recorded"], summary["duplicates"]) == (6, 0)
        assert [p["identifier"] for p in summary["patients"]] == ["mrn-0042", "mrn-0107"]
        assert nurse_socket.wait_for(lambda ms: sum(m["type"] == "readings" for m in ms) == 2, 5)
        again = ok(world.device.post("/fhir", json=bundle, headers=FHIR_JSON))
        assert (again["recorded"], again["duplicates"]) == (0, 6)
        # Two low readings in a row: a sustained warning for the COPD patient (below 86 %).
        for value, ago in ((84.0, 120), (83.0, 60)):
            ok(world.device.post("/fhir/Observation", json=spo2(value, ago)))
        board = ok(world.nurse.get("/monitoring/board"))
        [alert] = board["alerts"]
        assert (alert["patient_identifier"], alert["level"]) == ("mrn-0042", "warning")
        assert [r["value"] for r in alert["readings"]] == [84.0, 83.0]
        assert alert["incident_id"] is None and alert["acknowledged_by"] is None
        acknowledged = ok(
            world.nurse.post(
                f"/patients/mrn-0042/alerts/{alert['id']}/acknowledge",
                json={"note": "called: oxygen tube kinked, fixed"},
            )
        )
        assert acknowledged["open_alerts"][0]["acknowledged_by"] == "nurse.amal"
        assert nurse_socket.wait_for(
            lambda ms: any(m.get("event") == "Patient.AlertAcknowledged" for m in ms), 5
        )
    rachid = ok(world.nurse.get("/patients/mrn-0107"))
    latest = {r["vital"]: r for r in rachid["latest"]}
    assert latest["glucose"]["value"] == 142.0 and latest["glucose"]["severity"] == "normal"
    assert latest["systolic_bp"]["value"] == 107.0
    fatima = ok(world.nurse.get("/patients/mrn-0042"))
    assert {r["vital"] for r in fatima["latest"]} == {"heart_rate", "spo2", "respiratory_rate"}
    history = ok(world.nurse.get("/patients/mrn-0042/readings", params={"vital": "spo2"}))
    assert [r["value"] for r in history] == [83.0, 84.0, 95.0]
    # A dispatcher reads the board, but may not acknowledge nor enrol.
    with world.server.client(world.dispatcher_token) as dispatcher:
        assert len(ok(dispatcher.get("/monitoring/board"))["alerts"]) == 1
        path = f"/patients/mrn-0042/alerts/{alert['id']}/acknowledge"
        assert dispatcher.post(path, json={}).status_code == 403


def test_changed_bounds_and_discharge(world: Monitoring) -> None:
    changed = ok(
        world.nurse.post(
            "/patients/mrn-0042/thresholds",
            json={"thresholds": {"spo2": {"critical_low": 75}}, "reason": "baseline 80 %"},
        )
    )
    assert changed["thresholds"]["spo2"]["critical_low"] == 75
    summary = ok(world.device.post("/fhir/Observation", json=spo2(78)))
    assert summary["patients"][0]["incident_id"] is None  # a warning now, not critical
    bad = world.nurse.post(
        "/patients/mrn-0042/thresholds", json={"thresholds": {"spo2": {"warning_low": 70}}}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "thresholds", "spo2", "warning_low"]
    ok(world.nurse.post("/patients/mrn-0042/discharge", json={"reason": "moved away"}))
    refused = world.device.post("/fhir/Observation", json=spo2(95))
    assert refused.status_code == 409
    [issue] = refused.json()["issue"]
    assert (issue["code"], issue["severity"]) == ("conflict", "error")
    assert "discharged" in issue["diagnostics"]
    listed = ok(world.nurse.get("/patients"))
    assert [p["identifier"] for p in listed] == ["mrn-0107"]


# --- every bad observation: a 4xx naming the problem, and nothing stored ---------------


def _bad(change: Any) -> Any:
    doc = spo2(95)
    change(doc)
    return doc


def _future(doc: Any) -> None:
    doc["effectiveDateTime"] = iso_ago(-3600)


REFUSED: list[tuple[str, str, Any, int, str, str]] = [
    # case, route, document, status, FHIRPath expression, words in the message
    (
        "not LOINC",
        "/fhir/Observation",
        _bad(
            lambda d: d["code"].update(coding=[{"system": "http://snomed.info/sct", "code": "1"}])
        ),
        422,
        "Observation.code.coding",
        "no LOINC coding",
    ),
    (
        "wrong unit",
        "/fhir/Observation",
        _bad(lambda d: d["valueQuantity"].update(code="percent")),
        422,
        "Observation.valueQuantity.code",
        '"percent" is not UCUM; expected a UCUM unit of SpO2 like "%"',
    ),
    (
        "missing value",
        "/fhir/Observation",
        _bad(lambda d: d["valueQuantity"].pop("value")),
        422,
        "Observation.valueQuantity.value",
        "missing",
    ),
    (
        "unknown patient",
        "/fhir/Observation",
        _bad(lambda d: d["subject"].update(reference="Patient/mrn-9999")),
        422,
        "Observation.subject.reference",
        "no patient you may report for has this identifier",
    ),
    (
        "entered in error",
        "/fhir/Observation",
        _bad(lambda d: d.update(status="entered-in-error")),
        422,
        "Observation.status",
        "withdrawn",
    ),
    (
        "measured in the future",
        "/fhir/Observation",
        _bad(_future),
        422,
        "Observation.effectiveDateTime",
        "is in the future",
    ),
    (
        "one bad entry in a transaction",
        "/fhir",
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": spo2(70)},
                {"resource": _bad(lambda d: d["valueQuantity"].update(code="%25"))},
            ],
        },
        422,
        "Bundle.entry[1].resource.valueQuantity.code",
        'expected a UCUM unit of SpO2 like "%", got "%25"',
    ),
    (
        "an unknown patient in a bundle",
        "/fhir",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": spo2(70)}, {"resource": spo2(70, patient="mrn-404")}],
        },
        422,
        "Bundle.entry[1].resource.subject.reference",
        "no patient you may report for",
    ),
]


@pytest.fixture(scope="module")
def refusing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    """One server for the refusals (each leaves the store as it was)."""
    server = NajdaServer(tmp_path_factory.mktemp("refusals"), ["--no-demo"]).start()
    try:
        yield from _monitoring(server)
    finally:
        server.stop()


def _stored(w: Monitoring) -> tuple[int, Any, Any]:
    health = ok(w.admin.get("/health"))
    readings = ok(w.nurse.get("/patients/mrn-0042/readings"))
    patient = ok(w.nurse.get("/patients/mrn-0042"))
    return health["head"], readings, patient["updated_at"]


@pytest.mark.parametrize(
    ("route", "document", "status", "expression", "words"),
    [pytest.param(r, d, s, e, w, id=case) for case, r, d, s, e, w in REFUSED],
)
def test_a_bad_observation_is_refused_naming_the_problem_and_nothing_is_stored(
    refusing: Monitoring, route: str, document: Any, status: int, expression: str, words: str
) -> None:
    before = _stored(refusing)
    response = refusing.device.post(route, json=document, headers=FHIR_JSON)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    [issue] = [i for i in outcome["issue"] if i["expression"] == [expression]]
    assert words in issue["diagnostics"], issue
    assert _stored(refusing) == before


def test_a_body_that_is_not_json_is_refused(refusing: Monitoring) -> None:
    before = _stored(refusing)
    headers = {**bearer(refusing.server.admin_token), **FHIR_JSON}
    response = httpx.post(
        f"{refusing.server.url}/fhir/Observation", content=b"{not json", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Observation"]
    assert _stored(refusing) == before


def test_the_cli_adds_a_nurse_who_sees_the_board_but_not_the_incidents(
    start_server: StartServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    added = subprocess.run(
        [*najda_command(), "users", "add", "nurse.cli", "--role", "nurse", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    server = start_server("--no-demo", data_dir=data)
    with server.client(added.stdout.strip()) as nurse:
        empty = {"alerts": [], "patients": [], "device_problems": []}
        assert ok(nurse.get("/monitoring/board")) == empty
        assert nurse.get("/incidents").status_code == 403


def test_auto_dispatch_holds_for_monitoring_incidents_of_the_chosen_priorities(
    start_server: StartServer,
) -> None:
    for w in _monitoring(start_server("--no-demo", NAJDA_AUTO_DISPATCH="D")):
        summary = ok(w.device.post("/fhir/Observation", json=spo2(75)))
        incident = ok(w.admin.get(f"/incidents/{summary['patients'][0]['incident_id']}"))
        # D: an ALS ambulance and the nearest other unit (the response plan)
        assert [a["call_sign"] for a in incident["assignments"]] == ["A-NEAR", "B-MID"]
        assert incident["assignments"][0]["assigned_by"] == "gw-7731 (auto-dispatch)"
        # A hypertensive crisis suggests C: left to a dispatcher.
        bp = fixture("observation-blood-pressure")
        bp["subject"]["reference"] = "Patient/mrn-0107"
        bp["effectivePeriod"] = {"start": iso_ago(5)}
        bp["component"][0]["valueQuantity"]["value"] = 235
        crisis = ok(w.device.post("/fhir/Observation", json=bp))["patients"][0]
        assert crisis["incident_id"] is not None
        waiting = ok(w.admin.get(f"/incidents/{crisis['incident_id']}"))
        assert (waiting["priority"], waiting["assignments"]) == ("C", [])
