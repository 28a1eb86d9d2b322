"""Every operation and websocket × every role: allowed, 401 or 403 as api/auth.py's table says."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.harness import (
    CENTRE,
    NajdaServer,
    bearer,
    build_world,
    clean_env,
    offset,
    ok,
    report,
)
from tests.eido_schema import require_eido_dir

#: The crew's own unit, and a unit of somebody else's.
OWN_UNIT, OTHER_UNIT = "A-NEAR", "A-FAR"

Y, U, F = "allowed", "401", "403"
COLUMNS = (
    "dispatcher",
    "crew",
    "auditor",
    "admin",
    "avl",
    "specialist",
    "no token",
    "bad token",
    "revoked",
    "nurse",
    "device",
)
REFUSED_EVERYWHERE = (U, U, U)  # no token, an unknown token, a revoked user's token

# The table in api/auth.py's docstring, spelled out per operation (not computed from the code).
# Columns: dispatcher, crew (its own unit), auditor, admin, avl, specialist (stroke); then no /
# bad / revoked token.
R_INCIDENTS = (Y, F, Y, Y, F, F, *REFUSED_EVERYWHERE)  # read incidents, board
R_RECOMMEND = (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # recommendations (* not auditors)
W_INCIDENTS = (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # report / change / assign / close
R_UNIT = (Y, Y, Y, Y, F, F, *REFUSED_EVERYWHERE)  # read units (crew: own unit)
R_ROSTER = (Y, F, Y, Y, F, F, *REFUSED_EVERYWHERE)  # read units: the whole roster is not a crew's
W_UNIT = (Y, Y, F, Y, F, F, *REFUSED_EVERYWHERE)  # unit status, acknowledge (crew: own unit)
W_POSITION = (Y, Y, F, Y, Y, F, *REFUSED_EVERYWHERE)  # unit position, one (crew: own unit)
W_BULK = (F, F, F, Y, Y, F, *REFUSED_EVERYWHERE)  # positions in bulk (AVL gateway)
MANAGE = (F, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # register units, stations, hospitals; users
R_REFERENCE = (Y, Y, Y, Y, F, F, *REFUSED_EVERYWHERE)  # stations, hospitals, base map (read)
PUBLIC = (Y, Y, Y, Y, Y, Y, Y, Y, Y)  # /health (and the documentation)
R_AUDIT = (Y, F, Y, Y, F, F, *REFUSED_EVERYWHERE)  # timelines, EIDO export, reports
VERIFY = (F, F, Y, Y, F, F, *REFUSED_EVERYWHERE)  # verify the store's hash chain
W_HOSPITAL = (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # hospital status (ED, beds, services)
R_DESTINATIONS = (Y, Y, F, Y, F, F, *REFUSED_EVERYWHERE)  # destinations (crew: own unit)
# Teleconsults: a crew on the incident its unit works; a specialist in the consult's specialty.
C_REQUEST = (Y, Y, F, Y, F, F, *REFUSED_EVERYWHERE)  # request, cancel
C_READ = (Y, Y, Y, Y, F, Y, *REFUSED_EVERYWHERE)  # read, FHIR export
C_ANSWER = (F, F, F, F, F, Y, *REFUSED_EVERYWHERE)  # accept, decline
C_END = (Y, F, F, Y, F, Y, *REFUSED_EVERYWHERE)  # end (a specialist: one it accepted)
C_QUEUE = (Y, F, Y, Y, F, Y, *REFUSED_EVERYWHERE)  # the open consults

CONSULTS = "/incidents/{incident_id}/consults"
CONSULT = CONSULTS + "/{consult_id}"
R_MONITOR = (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # patients, readings, alert board
W_MONITOR = (F, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # enrol, bounds, discharge, ack alert
W_FHIR = (F, F, F, Y, F, F, *REFUSED_EVERYWHERE)  # FHIR observations
# (the nurse and device columns are added below, from NURSE_DEVICE)

MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/health/live"): PUBLIC,
    ("GET", "/health/ready"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/geocode"): R_REFERENCE,
    ("GET", "/geocode/reverse"): R_REFERENCE,
    ("GET", "/incidents"): R_INCIDENTS,
    ("GET", "/incidents/{incident_id}"): R_INCIDENTS,
    ("GET", "/incidents/{incident_id}/recommendations"): R_RECOMMEND,
    ("POST", "/incidents"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/notes"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/priority"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/location"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/close"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/cancel"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/assignments"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/assignments/{unit}/release"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/assignments/reassign"): W_INCIDENTS,
    ("GET", "/incidents/{incident_id}/options/{unit}"): R_RECOMMEND,
    ("GET", "/floor/settings"): R_INCIDENTS,
    ("GET", "/floor/rules"): R_INCIDENTS,
    ("GET", "/incidents/{incident_id}/duplicates"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/duplicates/{original_id}/link"): W_INCIDENTS,
    ("POST", "/incidents/{incident_id}/duplicates/{candidate_id}/dismiss"): W_INCIDENTS,
    ("GET", "/units"): R_ROSTER,
    ("GET", "/units/{unit}"): R_UNIT,
    ("GET", "/units/{unit}/assignment"): R_UNIT,
    ("POST", "/units/{unit}/status"): W_UNIT,
    ("POST", "/units/{unit}/acknowledge"): W_UNIT,
    ("POST", "/units/{unit}/position"): W_POSITION,
    ("POST", "/positions"): W_BULK,
    ("POST", "/units"): MANAGE,
    ("POST", "/stations"): MANAGE,
    ("POST", "/hospitals"): MANAGE,
    ("GET", "/users"): MANAGE,
    ("POST", "/users"): MANAGE,
    ("POST", "/users/{name}/token"): MANAGE,
    ("PUT", "/users/{name}/clinical"): MANAGE,
    ("GET", "/patients/{patient}/reads"): MANAGE,
    ("DELETE", "/users/{name}"): MANAGE,
    ("GET", "/stations"): R_REFERENCE,
    ("GET", "/stations/{station}"): R_REFERENCE,
    ("GET", "/hospitals"): R_REFERENCE,
    ("GET", "/hospitals/{hospital}"): R_REFERENCE,
    ("GET", "/map"): R_REFERENCE,
    ("GET", "/incidents/{incident_id}/timeline"): R_AUDIT,
    ("GET", "/incidents/{incident_id}/eido"): R_AUDIT,
    ("GET", "/reports/response-times"): R_AUDIT,
    ("POST", "/incidents/eido"): W_INCIDENTS,
    ("GET", "/audit/verify"): VERIFY,
    ("PATCH", "/hospitals/{hospital}/status"): W_HOSPITAL,
    ("GET", "/units/{unit}/destinations"): R_DESTINATIONS,
    ("POST", "/units/{unit}/destination"): W_UNIT,  # the chosen hospital (crew: own unit)
    ("GET", "/coverage"): R_RECOMMEND,  # coverage within the target, move-ups
    ("POST", "/units/{unit}/relocate"): W_INCIDENTS,  # accept a move-up (not a crew's call)
    ("POST", CONSULTS): C_REQUEST,
    ("GET", CONSULTS): C_READ,
    ("GET", CONSULT): C_READ,
    ("POST", CONSULT + "/accept"): C_ANSWER,
    ("POST", CONSULT + "/decline"): C_ANSWER,
    ("POST", CONSULT + "/cancel"): C_REQUEST,
    ("POST", CONSULT + "/end"): C_END,
    ("GET", CONSULT + "/encounter"): C_READ,
    ("GET", "/consults"): C_QUEUE,
    ("POST", "/patients"): W_MONITOR,
    ("GET", "/patients"): R_MONITOR,
    ("GET", "/patients/{patient}"): R_MONITOR,
    ("GET", "/patients/{patient}/readings"): R_MONITOR,
    ("POST", "/patients/{patient}/thresholds"): W_MONITOR,
    ("POST", "/patients/{patient}/discharge"): W_MONITOR,
    ("POST", "/patients/{patient}/alerts/{alert_id}/acknowledge"): W_MONITOR,
    ("GET", "/monitoring/board"): R_MONITOR,
    ("PUT", "/patients/{patient}/devices"): W_MONITOR,
    ("POST", "/fhir/Observation"): W_FHIR,
    ("POST", "/fhir"): W_FHIR,
    ("GET", "/fhir/metadata"): PUBLIC,
}

#: Websockets: /ws/console for dispatchers and administrators, /ws/crew for a crew only,
#: /ws/specialist for a specialist only.
WEBSOCKETS: dict[str, tuple[str, ...]] = {
    "/ws/console": (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE),
    "/ws/crew": (F, Y, F, F, F, F, *REFUSED_EVERYWHERE),
    "/ws/specialist": (F, F, F, F, F, Y, *REFUSED_EVERYWHERE),
    "/ws/monitoring": (Y, F, F, Y, F, F, *REFUSED_EVERYWHERE),
}
#: The nurse and device columns (remote-monitoring staff, a vital-signs gateway): refused
#: everywhere but here.
NURSE_DEVICE: dict[tuple[str, str] | str, tuple[str, str]] = {
    ("GET", "/health"): (Y, Y),
    ("GET", "/health/live"): (Y, Y),
    ("GET", "/health/ready"): (Y, Y),
    ("GET", "/metrics"): (Y, Y),
    ("POST", "/patients"): (Y, F),
    ("GET", "/patients"): (Y, F),
    ("GET", "/patients/{patient}"): (Y, F),
    ("GET", "/patients/{patient}/readings"): (Y, F),
    ("POST", "/patients/{patient}/thresholds"): (Y, F),
    ("POST", "/patients/{patient}/discharge"): (Y, F),
    ("POST", "/patients/{patient}/alerts/{alert_id}/acknowledge"): (Y, F),
    ("GET", "/monitoring/board"): (Y, F),
    ("PUT", "/patients/{patient}/devices"): (Y, F),
    ("POST", "/fhir/Observation"): (Y, Y),
    ("POST", "/fhir"): (Y, Y),
    ("GET", "/fhir/metadata"): (Y, Y),
    "/ws/monitoring": (Y, F),
}
MATRIX = {key: (*row, *NURSE_DEVICE.get(key, (F, F))) for key, row in MATRIX.items()}
WEBSOCKETS = {path: (*row, *NURSE_DEVICE.get(path, (F, F))) for path, row in WEBSOCKETS.items()}

#: The API documentation and the browser pages need no token either (not operations of the
#: OpenAPI description; the pages ask for a token and send it with their requests).
DOCUMENTATION = ("/docs", "/openapi.json", "/", "/crew", "/ui/console.js")

#: Operations on one unit: a crew may do them for its own unit only (403 on another's).
CREW_OWN_UNIT_ONLY = (
    ("GET", "/units/{unit}"),
    ("GET", "/units/{unit}/assignment"),
    ("POST", "/units/{unit}/status"),
    ("POST", "/units/{unit}/acknowledge"),
    ("POST", "/units/{unit}/position"),
    ("GET", "/units/{unit}/destinations"),
    ("POST", "/units/{unit}/destination"),
)


@dataclass(frozen=True)
class Call:
    """One request, and the status it gets when the caller may make it."""

    method: str
    path: str
    body: Any = None
    ok: int = 200


class World:
    """Fresh objects for each cell (made by the administrator), so no write spoils another."""

    def __init__(self, admin: httpx.Client) -> None:
        self.admin = admin
        self.specialist: httpx.Client | None = None  # set once the specialist exists
        self._serial = itertools.count(1)
        self.station = self.code("ST")
        self.hospital = self.code("HO")
        ok(self.admin.post("/stations", json=self.place(self.station)), 201)
        ok(self.admin.post("/hospitals", json=self.place(self.hospital)), 201)

    def code(self, prefix: str) -> str:
        """A call sign, code or user name nobody has used yet."""
        return f"{prefix}-{next(self._serial)}"

    def place(self, code: str) -> dict[str, Any]:
        """A station or hospital body."""
        lat, lon = offset(*CENTRE, north_m=300.0)
        return {"code": code, "name": f"Place {code}", "lat": lat, "lon": lon}

    def incident(self) -> str:
        """A fresh open incident with no unit on it."""
        return str(report(self.admin, priority="C")["id"])

    def free(self, unit: str) -> None:
        """Make the unit available and off any incident."""
        row = ok(self.admin.get(f"/units/{unit}"))
        if row["incident_id"] is not None:
            body = {"reason": "reset between cells"}
            ok(self.admin.post(f"/incidents/{row['incident_id']}/cancel", json=body))
        if row["status"] == "out_of_service":
            ok(self.admin.post(f"/units/{unit}/status", json={"status": "available"}))
        assert ok(self.admin.get(f"/units/{unit}"))["status"] == "available"

    def assigned(self, unit: str) -> str:
        """Dispatch the (freed) unit to a fresh incident; the incident's id."""
        self.free(unit)
        incident = self.incident()
        ok(self.admin.post(f"/incidents/{incident}/assignments", json={"units": [unit]}))
        return incident

    def consult(self, accepted: bool = False) -> str:
        """A fresh stroke consult on a fresh incident the crew's unit works; its path."""
        incident = self.assigned(OWN_UNIT)
        body = {"specialty": "stroke", "reason": "facial droop"}
        consult = ok(self.admin.post(f"/incidents/{incident}/consults", json=body), 201)
        path = f"/incidents/{incident}/consults/{consult['id']}"
        if accepted and self.specialist is not None:
            ok(self.specialist.post(f"{path}/accept"))
        return path

    def user(self) -> str:
        """A fresh auditor's name."""
        name = self.code("user").lower()
        ok(self.admin.post("/users", json={"name": name, "role": "auditor"}), 201)
        return name

    def patient(self) -> str:
        """A freshly enrolled patient's identifier."""
        identifier = self.code("mrn")
        lat, lon = offset(*CENTRE, north_m=-400.0)
        body = {"identifier": identifier, "name": "P", "lat": lat, "lon": lon, "address": "A"}
        body["devices"] = ["role-device"]
        ok(self.admin.post("/patients", json=body), 201)
        return identifier

    def alert(self) -> str:
        """`patient/alert` of a fresh patient's open alert (a critical SpO2)."""
        patient = self.patient()
        summary = ok(self.admin.post("/fhir/Observation", json=_observation(patient, 80)))
        return f"{patient}/alerts/{summary['patients'][0]['alerts'][0]['alert_id']}"


def _position() -> dict[str, float]:
    lat, lon = offset(*CENTRE, north_m=150.0, east_m=150.0)
    return {"lat": lat, "lon": lon}


#: How to make each operation's request so that an allowed caller gets `Call.ok`; `unit` is the
#: unit the request is about (the crew's own one unless said otherwise).
REQUESTS: dict[tuple[str, str], Callable[[World, str], Call]] = {
    ("GET", "/health"): lambda w, u: Call("GET", "/health"),
    ("GET", "/health/live"): lambda w, u: Call("GET", "/health/live"),
    ("GET", "/health/ready"): lambda w, u: Call("GET", "/health/ready"),
    ("GET", "/metrics"): lambda w, u: Call("GET", "/metrics"),
    # This server has no OpenStreetMap area: an allowed caller is told so (503), never 401/403.
    ("GET", "/geocode"): lambda w, u: Call("GET", "/geocode?q=Landstrasse", ok=503),
    ("GET", "/geocode/reverse"): lambda w, u: Call(
        "GET", "/geocode/reverse?lat=47.14&lon=9.52", ok=503
    ),
    ("GET", "/incidents"): lambda w, u: Call("GET", "/incidents"),
    ("GET", "/incidents/{incident_id}"): lambda w, u: Call("GET", f"/incidents/{w.incident()}"),
    ("GET", "/incidents/{incident_id}/recommendations"): lambda w, u: Call(
        "GET", f"/incidents/{w.incident()}/recommendations"
    ),
    ("POST", "/incidents"): lambda w, u: Call(
        "POST",
        "/incidents",
        {"lat": CENTRE[0], "lon": CENTRE[1], "nature": "fall", "priority": "C"},
        201,
    ),
    ("POST", "/incidents/{incident_id}/notes"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/notes", {"text": "caller calmer"}
    ),
    ("POST", "/incidents/{incident_id}/priority"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/priority", {"priority": "E"}
    ),
    ("POST", "/incidents/{incident_id}/location"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/location", {**_position(), "address": "2 Test St"}
    ),
    ("POST", "/incidents/{incident_id}/close"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/close", {"disposition": "treated on scene"}
    ),
    ("POST", "/incidents/{incident_id}/cancel"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/cancel", {"reason": "duplicate call"}
    ),
    ("POST", "/incidents/{incident_id}/assignments"): lambda w, u: _assign(w, "B-MID"),
    ("POST", "/incidents/{incident_id}/assignments/{unit}/release"): lambda w, u: Call(
        "POST", f"/incidents/{w.assigned('B-MID')}/assignments/B-MID/release", {"reason": "re-plan"}
    ),
    ("POST", "/incidents/{incident_id}/assignments/reassign"): lambda w, u: _reassign(w, "B-MID"),
    ("GET", "/incidents/{incident_id}/options/{unit}"): lambda w, u: Call(
        "GET", f"/incidents/{w.incident()}/options/B-MID"
    ),
    ("GET", "/floor/settings"): lambda w, u: Call("GET", "/floor/settings"),
    ("GET", "/floor/rules"): lambda w, u: Call("GET", "/floor/rules"),
    ("GET", "/incidents/{incident_id}/duplicates"): lambda w, u: Call(
        "GET", f"/incidents/{w.incident()}/duplicates"
    ),
    ("POST", "/incidents/{incident_id}/duplicates/{original_id}/link"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/duplicates/{w.incident()}/link"
    ),
    ("POST", "/incidents/{incident_id}/duplicates/{candidate_id}/dismiss"): lambda w, u: Call(
        "POST", f"/incidents/{w.incident()}/duplicates/{w.incident()}/dismiss"
    ),
    ("GET", "/units"): lambda w, u: Call("GET", "/units"),
    ("GET", "/units/{unit}"): lambda w, u: Call("GET", f"/units/{u}"),
    ("GET", "/units/{unit}/assignment"): lambda w, u: _on_incident(w, u, "GET", "assignment"),
    ("POST", "/units/{unit}/status"): lambda w, u: _out_of_service(w, u),
    ("POST", "/units/{unit}/acknowledge"): lambda w, u: _on_incident(w, u, "POST", "acknowledge"),
    ("POST", "/units/{unit}/position"): lambda w, u: Call(
        "POST", f"/units/{u}/position", _position()
    ),
    ("POST", "/positions"): lambda w, u: Call(
        "POST", "/positions", {"positions": [{"unit": "R-X", **_position()}]}
    ),
    ("POST", "/units"): lambda w, u: Call(
        "POST", "/units", {"call_sign": w.code("M"), "kind": "bls", **_position()}, 201
    ),
    ("POST", "/stations"): lambda w, u: Call("POST", "/stations", w.place(w.code("ST")), 201),
    ("POST", "/hospitals"): lambda w, u: Call("POST", "/hospitals", w.place(w.code("HO")), 201),
    ("GET", "/users"): lambda w, u: Call("GET", "/users"),
    ("POST", "/users"): lambda w, u: Call(
        "POST", "/users", {"name": w.code("user").lower(), "role": "dispatcher"}, 201
    ),
    ("POST", "/users/{name}/token"): lambda w, u: Call("POST", f"/users/{w.user()}/token"),
    ("GET", "/patients/{patient}/reads"): lambda w, u: Call(
        "GET", f"/patients/{w.patient()}/reads"
    ),
    ("PUT", "/users/{name}/clinical"): lambda w, u: Call(
        "PUT", f"/users/{w.user()}/clinical", {"granted": True}
    ),
    ("DELETE", "/users/{name}"): lambda w, u: Call("DELETE", f"/users/{w.user()}", ok=204),
    ("GET", "/stations"): lambda w, u: Call("GET", "/stations"),
    ("GET", "/stations/{station}"): lambda w, u: Call("GET", f"/stations/{w.station}"),
    ("GET", "/hospitals"): lambda w, u: Call("GET", "/hospitals"),
    ("GET", "/hospitals/{hospital}"): lambda w, u: Call("GET", f"/hospitals/{w.hospital}"),
    ("GET", "/map"): lambda w, u: Call("GET", "/map"),
    ("GET", "/incidents/{incident_id}/timeline"): lambda w, u: Call(
        "GET", f"/incidents/{w.incident()}/timeline"
    ),
    ("GET", "/incidents/{incident_id}/eido"): lambda w, u: Call(
        "GET", f"/incidents/{w.incident()}/eido"
    ),
    ("GET", "/reports/response-times"): lambda w, u: Call("GET", "/reports/response-times"),
    ("POST", "/incidents/eido"): lambda w, u: Call(
        "POST",
        f"/incidents/eido?lat={CENTRE[0]}&lon={CENTRE[1]}&priority=C",
        {**_sample_eido(), "$id": f"urn:emergency:uid:incidentid:{w.code('eido')}:test.example"},
        201,  # a fresh $id each time: importing one EIDO again answers 200
    ),
    ("GET", "/audit/verify"): lambda w, u: Call("GET", "/audit/verify"),
    ("PATCH", "/hospitals/{hospital}/status"): lambda w, u: Call(
        "PATCH", f"/hospitals/{w.hospital}/status", {"beds": {"general": 3}}
    ),
    ("GET", "/units/{unit}/destinations"): lambda w, u: Call("GET", f"/units/{u}/destinations"),
    ("POST", "/units/{unit}/destination"): lambda w, u: _on_scene(w, u),
    ("GET", "/coverage"): lambda w, u: Call("GET", "/coverage"),
    ("POST", "/units/{unit}/relocate"): lambda w, u: _relocate(w, u),
    ("POST", CONSULTS): lambda w, u: Call(
        "POST",
        f"/incidents/{w.assigned(OWN_UNIT)}/consults",
        {"specialty": "stroke", "reason": "facial droop"},
        201,
    ),
    ("GET", CONSULTS): lambda w, u: Call("GET", w.consult().rsplit("/", 1)[0]),
    ("GET", CONSULT): lambda w, u: Call("GET", w.consult()),
    ("POST", CONSULT + "/accept"): lambda w, u: Call("POST", f"{w.consult()}/accept"),
    ("POST", CONSULT + "/decline"): lambda w, u: Call(
        "POST", f"{w.consult()}/decline", {"reason": "not a stroke picture"}
    ),
    ("POST", CONSULT + "/cancel"): lambda w, u: Call(
        "POST", f"{w.consult()}/cancel", {"reason": "patient improved"}
    ),
    ("POST", CONSULT + "/end"): lambda w, u: Call(
        "POST", f"{w.consult(accepted=True)}/end", {"recommendation": "CT first"}
    ),
    ("GET", CONSULT + "/encounter"): lambda w, u: Call("GET", f"{w.consult()}/encounter"),
    ("GET", "/consults"): lambda w, u: Call("GET", "/consults"),
    ("POST", "/patients"): lambda w, u: Call(
        "POST",
        "/patients",
        {
            "identifier": w.code("mrn"),
            "name": "P",
            "lat": CENTRE[0],
            "lon": CENTRE[1],
            "address": "A",
        },
        201,
    ),
    ("GET", "/patients"): lambda w, u: Call("GET", "/patients"),
    ("GET", "/patients/{patient}"): lambda w, u: Call("GET", f"/patients/{w.patient()}"),
    ("GET", "/patients/{patient}/readings"): lambda w, u: Call(
        "GET", f"/patients/{w.patient()}/readings"
    ),
    ("POST", "/patients/{patient}/thresholds"): lambda w, u: Call(
        "POST",
        f"/patients/{w.patient()}/thresholds",
        {"thresholds": {"heart_rate": {"warning_high": 105}}},
    ),
    ("POST", "/patients/{patient}/discharge"): lambda w, u: Call(
        "POST", f"/patients/{w.patient()}/discharge", {"reason": "left the programme"}
    ),
    ("POST", "/patients/{patient}/alerts/{alert_id}/acknowledge"): lambda w, u: Call(
        "POST", f"/patients/{w.alert()}/acknowledge", {"note": "called"}
    ),
    ("GET", "/monitoring/board"): lambda w, u: Call("GET", "/monitoring/board"),
    ("PUT", "/patients/{patient}/devices"): lambda w, u: Call(
        "PUT", f"/patients/{w.patient()}/devices", {"devices": ["role-device"]}
    ),
    ("GET", "/fhir/metadata"): lambda w, u: Call("GET", "/fhir/metadata"),
    ("POST", "/fhir/Observation"): lambda w, u: Call(
        "POST", "/fhir/Observation", _observation(w.patient(), 97)
    ),
    ("POST", "/fhir"): lambda w, u: Call(
        "POST",
        "/fhir",
        {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"resource": _observation(w.patient(), 96)}],
        },
    ),
}


def _observation(patient: str, spo2: float) -> dict[str, Any]:
    """A FHIR SpO2 Observation of the patient, measured now."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "59408-5"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": datetime.now(UTC).isoformat(timespec="seconds"),
        "valueQuantity": {
            "value": spo2,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        },
    }


def _sample_eido() -> Any:
    """NENA's sample EIDO (a call transfer)."""
    path = require_eido_dir() / "Samples" / "Sample call transfer EIDO.json"
    return json.loads(path.read_text())


def _on_incident(world: World, unit: str, method: str, what: str) -> Call:
    """A request about the unit's assignment, once it has one."""
    world.assigned(unit)
    return Call(method, f"/units/{unit}/{what}")


def _on_scene(world: World, unit: str) -> Call:
    """Choose the destination of the unit, assigned and on scene."""
    world.assigned(unit)
    for step in ("en_route", "on_scene"):
        ok(world.admin.post(f"/units/{unit}/status", json={"status": step}))
    return Call("POST", f"/units/{unit}/destination", {"hospital": world.hospital})


def _out_of_service(world: World, unit: str) -> Call:
    """Take the (freed) unit out of service."""
    world.free(unit)
    return Call("POST", f"/units/{unit}/status", {"status": "out_of_service", "reason": "fuel"})


def _assign(world: World, unit: str) -> Call:
    world.free(unit)
    return Call("POST", f"/incidents/{world.incident()}/assignments", {"units": [unit]})


def _reassign(world: World, unit: str) -> Call:
    """Take the unit, dispatched to a fresh incident, for another fresh one."""
    source = world.assigned(unit)
    body = {"unit": unit, "from_incident_id": source}
    return Call("POST", f"/incidents/{world.incident()}/assignments/reassign", body)


@dataclass
class Roles:
    """The server, its world, and one HTTP client per column."""

    server: NajdaServer
    world: World
    tokens: dict[str, str | None]
    clients: dict[str, httpx.Client]


@pytest.fixture(scope="module")
def roles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Roles]:
    """One server with a user of every role (the crew on OWN_UNIT) and a revoked user."""
    # The matrix sends wrong and revoked tokens to every route on purpose: lift the per-client
    # throttle of failed sign-ins here (tests/security/test_sign_in_throttle.py checks it).
    env = clean_env(NAJDA_AUTH_FAILURES="100000")
    server = NajdaServer(tmp_path_factory.mktemp("roles"), ["--no-demo"], env).start()
    try:
        with server.client() as admin:
            build_world(admin)
            world = World(admin)
            tokens: dict[str, str | None] = {
                "dispatcher": server.add_user("role-dispatcher", "dispatcher"),
                "crew": server.add_user("role-crew", "crew", unit=OWN_UNIT),
                "auditor": server.add_user("role-auditor", "auditor"),
                "admin": server.admin_token,
                "avl": server.add_user("role-avl", "avl"),
                "specialist": server.add_user(
                    "role-specialist", "specialist", specialties=["stroke"]
                ),
                "no token": None,
                "bad token": "najda_this_token_was_never_issued",
                "revoked": server.add_user("role-revoked", "dispatcher"),
                "nurse": server.add_user("role-nurse", "nurse"),
                "device": server.add_user("role-device", "device"),
            }
            assert admin.delete("/users/role-revoked").status_code == 204
            clients = {
                column: httpx.Client(
                    base_url=server.url,
                    timeout=30.0,
                    headers={} if token is None else bearer(token),
                )
                for column, token in tokens.items()
            }
            world.specialist = clients["specialist"]
            try:
                yield Roles(server, world, tokens, clients)
            finally:
                for client in clients.values():
                    client.close()
    finally:
        server.stop()


def _outcome(response: httpx.Response, call: Call) -> str:
    """'401', '403', 'allowed' (the handler answered `call.ok`), or what happened instead."""
    if response.status_code == 401 and response.headers.get("www-authenticate") != "Bearer":
        return "401 without WWW-Authenticate: Bearer"
    if response.status_code in (401, 403):
        return str(response.status_code)
    if response.status_code == call.ok:
        return Y
    return f"{response.status_code} {response.text[:300]}"


def _relocate(world: World, unit: str) -> Call:
    """Move the (freed) unit up to the world's station."""
    world.free(unit)
    return Call("POST", f"/units/{unit}/relocate", {"station": world.station})


def _check(roles: Roles, key: tuple[str, str], column: str, unit: str, expected: str) -> str | None:
    """Make the cell's request; a line describing the mismatch, or None."""
    call = REQUESTS[key](roles.world, unit)
    response = roles.clients[column].request(call.method, call.path, json=call.body)
    got = _outcome(response, call)
    if got == expected:
        return None
    return f"{call.method} {call.path} as {column}: expected {expected}, got {got}"


def _failures(roles: Roles, mismatches: list[str]) -> str:
    text = "\n".join(mismatches)
    if any(" got 5" in line for line in mismatches):
        text += "\n--- server log ---\n" + roles.server.log()[-6000:]
    return text


def test_the_matrix_covers_every_operation_of_the_api(roles: Roles) -> None:
    schema = ok(roles.clients["no token"].get("/openapi.json"))
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    }
    assert operations == set(MATRIX), "a route without a row in MATRIX, or a row without route"
    assert set(REQUESTS) == set(MATRIX)
    assert all(len(row) == len(COLUMNS) for row in (*MATRIX.values(), *WEBSOCKETS.values()))


def test_every_operation_answers_every_role_as_the_table_says(roles: Roles) -> None:
    mismatches = [
        line
        for key, row in MATRIX.items()
        for column, expected in zip(COLUMNS, row, strict=True)
        if (line := _check(roles, key, column, OWN_UNIT, expected)) is not None
    ]
    assert not mismatches, _failures(roles, mismatches)


def test_a_crew_works_on_its_own_unit_only(roles: Roles) -> None:
    mismatches = [
        line
        for key in CREW_OWN_UNIT_ONLY
        for unit, expected in ((OTHER_UNIT, F), (OWN_UNIT, Y))
        if (line := _check(roles, key, "crew", unit, expected)) is not None
    ]
    # ... while a dispatcher may act on the other unit (the 403 above is about the crew).
    mismatches += [
        line
        for key in CREW_OWN_UNIT_ONLY
        if (line := _check(roles, key, "dispatcher", OTHER_UNIT, Y)) is not None
    ]
    assert not mismatches, _failures(roles, mismatches)


def test_the_documentation_needs_no_token(roles: Roles) -> None:
    for column in ("no token", "bad token"):
        for path in DOCUMENTATION:
            response = roles.clients[column].get(path)
            assert response.status_code == 200, f"{path} as {column}: {response.status_code}"


def _open_socket(url: str, role: str, token: str | None, by_message: bool) -> str:
    """'allowed' after a hello to `role`, or the close code's outcome ('401', '403', or else)."""
    headers = {} if token is None or by_message else bearer(token)
    with connect(url, additional_headers=headers, open_timeout=10, close_timeout=5) as socket:
        if by_message or token is None:
            first: dict[str, Any] = (
                {"type": "auth"} if token is None else {"type": "auth", "token": token}
            )
            socket.send(json.dumps(first))
        try:
            message = json.loads(socket.recv(timeout=10))
        except ConnectionClosed as closed:
            code = None if closed.rcvd is None else closed.rcvd.code
            return {4401: U, 4403: F}.get(code or 0, f"closed with {code}")
        hello = message.get("type") == "hello" and message.get("role") == role
        return Y if hello else f"first message {message}"


@pytest.mark.parametrize("by_message", [False, True], ids=["header", "first-message"])
def test_every_websocket_answers_every_role_as_the_table_says(
    roles: Roles, by_message: bool
) -> None:
    mismatches = [
        f"{path} as {column} ({'message' if by_message else 'header'}): "
        f"expected {expected}, got {got}"
        for path, row in WEBSOCKETS.items()
        for column, expected in zip(COLUMNS, row, strict=True)
        if (
            got := _open_socket(roles.server.ws_url(path), column, roles.tokens[column], by_message)
        )
        != expected
    ]
    assert not mismatches, _failures(roles, mismatches)
