"""Patient data by need, through a real server: an auditor's view of a monitoring incident
(REST, board, past state, timeline, EIDO, the unit's assignment, its teleconsults) holds no
patient identity or vitals; an auditor granted clinical access, and a dispatcher, see them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.harness import CENTRE, NajdaServer, bearer, build_world, head, offset, ok

FHIR = Path(__file__).resolve().parents[1] / "fixtures" / "fhir" / "observation-spo2.json"
NAME = "Zubayda Qarawi-Testpatient"
MRN = "mrn-redact-7731"
PHONE = "+213 555 01 99 77"
ADDRESS = "17 Rue des Oliviers Redactville"
NOTES = "oxygen concentrator in the back bedroom"
SPO2 = 73
#: What must never reach an auditor without clinical access (vitals: the reading as shown).
SECRETS = (NAME, MRN, PHONE, "555 01 99", ADDRESS, NOTES, "copd", "COPD", "SpO2", f"{SPO2} %")


@dataclass
class World:
    """One server with a monitoring incident, its consult, and a client per viewer."""

    server: NajdaServer
    incident: str
    consult: str
    phone_incident: str
    clients: dict[str, httpx.Client]


def _observation() -> Any:
    doc = json.loads(FHIR.read_text())
    doc["subject"]["reference"] = f"Patient/{MRN}"
    doc["effectiveDateTime"] = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    doc["valueQuantity"]["value"] = SPO2
    return doc


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    server = NajdaServer(tmp_path_factory.mktemp("redaction"), ["--no-demo"]).start()
    try:
        tokens = {
            viewer: server.add_user(name, role)
            for viewer, name, role in (
                ("auditor", "aud.plain", "auditor"),
                ("clinical", "aud.md", "auditor"),  # granted clinical access below
                ("dispatcher", "d.ali", "dispatcher"),
                ("device", "gw-1", "device"),
            )
        }
        with server.client() as admin:
            ok(admin.put("/users/aud.md/clinical", json={"granted": True}))
            build_world(admin)
            lat, lon = offset(*CENTRE, north_m=600.0)
            patient = {
                "identifier": MRN,
                "name": NAME,
                "lat": lat,
                "lon": lon,
                "address": ADDRESS,
                "phone": PHONE,
                "conditions": ["copd"],
                "notes": NOTES,
                "devices": ["gw-1"],  # the device token may post for this patient (M6)
            }
            ok(admin.post("/patients", json=patient), 201)
            headers = {"Content-Type": "application/fhir+json"}
            with server.client(tokens["device"]) as device:
                summary = ok(device.post("/fhir/Observation", json=_observation(), headers=headers))
            incident = summary["patients"][0]["incident_id"]
            assert incident is not None, summary
            ok(admin.post(f"/incidents/{incident}/assignments", json={"units": ["A-NEAR"]}))
            body = {"specialty": "critical_care", "reason": f"{NAME} desaturating, {MRN}"}
            consult = ok(admin.post(f"/incidents/{incident}/consults", json=body), 201)["id"]
            phone_call = {"lat": CENTRE[0], "lon": CENTRE[1], "nature": "fall", "priority": "C"}
            phone = ok(admin.post("/incidents", json={**phone_call, "address": "5 Main St"}), 201)
        clients = {role: server.client(token) for role, token in tokens.items()}
        yield World(server, incident, consult, phone["id"], clients)
        for client in clients.values():
            client.close()
    finally:
        server.stop()


def _views(world: World, client: httpx.Client) -> dict[str, str]:
    """Every read an auditor may make that shows the monitoring incident, as text."""
    incident, consult = world.incident, world.consult
    one = f"/incidents/{incident}/consults/{consult}"
    paths = [
        "/incidents",
        f"/incidents/{incident}",
        f"/incidents/{incident}?as_of={head(client)}",
        f"/incidents/{incident}/timeline",
        f"/incidents/{incident}/eido",
        "/units/A-NEAR/assignment",
        f"/incidents/{incident}/consults",
        one,
        f"{one}/encounter",
        "/consults",
    ]
    views = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        views[path] = response.text
    return views


def test_an_auditors_view_of_a_monitoring_incident_has_no_patient_identity(world: World) -> None:
    views = _views(world, world.clients["auditor"])

    leaks = [(path, s) for path, text in views.items() for s in SECRETS if s in text]
    assert not leaks, leaks
    shown = json.loads(views[f"/incidents/{world.incident}"])
    assert shown["source"] == "monitoring" and shown["priority"] == "D"
    assert shown["callback"] is None and shown["nature"] == "remote monitoring alert"
    assert shown["notes"] and all(n["text"] == "[redacted: patient data]" for n in shown["notes"])
    assert shown["assignments"][0]["call_sign"] == "A-NEAR"  # what dispatch did stays
    timeline = json.loads(views[f"/incidents/{world.incident}/timeline"])["entries"]
    assert timeline[0]["event"] == "Incident.Reported"
    assert "reported [redacted: patient data] (priority D" in timeline[0]["text"]
    assert any(e["event"] == "Incident.UnitAssigned" for e in timeline)


def test_an_auditor_granted_clinical_access_and_a_dispatcher_see_the_patient(
    world: World,
) -> None:
    for viewer in ("clinical", "dispatcher"):
        client = world.clients[viewer]
        shown = ok(client.get(f"/incidents/{world.incident}"))
        assert shown["callback"] == PHONE and shown["address"] == ADDRESS, viewer
        assert any(NAME in n["text"] and MRN in n["text"] for n in shown["notes"]), viewer
        timeline = client.get(f"/incidents/{world.incident}/timeline").text
        assert NAME in timeline and f"{SPO2} %" in timeline, viewer


def test_a_phone_incident_is_not_redacted_for_auditors(world: World) -> None:
    shown = ok(world.clients["auditor"].get(f"/incidents/{world.phone_incident}"))
    assert shown["address"] == "5 Main St" and shown["nature"] == "fall"


def test_clinical_access_is_for_auditors_only_and_listed(world: World) -> None:
    with world.server.client() as admin:
        refused = admin.put("/users/d.ali/clinical", json={"granted": True})
        users = {u["name"]: u for u in ok(admin.get("/users"))}
    assert refused.status_code == 422 and "clinical" in refused.text
    assert users["aud.md"]["clinical"] is True and users["aud.plain"]["clinical"] is False


@pytest.mark.parametrize("path", ["/ws/console", "/ws/monitoring"])
def test_no_live_feed_carries_patient_data_to_an_auditor(world: World, path: str) -> None:
    token = world.clients["auditor"].headers["Authorization"].removeprefix("Bearer ")
    url = world.server.ws_url(path)
    with (
        connect(url, additional_headers=bearer(token)) as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
