"""Audit through the real server: timeline, as_of, EIDO, verification and reports over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from najda.projections.audit.timeline_sentences import distance_text, eta_text
from tests.e2e.conftest import StartServer
from tests.e2e.harness import build_world, head, ok, report
from tests.eido_schema import errors, require_eido_dir
from tests.waiting import eventually


def _worked(client: httpx.Client) -> tuple[str, int, int]:
    """An incident taken to a unit on scene; its id and the heads after dispatch and at the end."""
    build_world(client)
    incident_id = report(client, "E")["id"]
    ok(client.post(f"/incidents/{incident_id}/notes", json={"text": "caller on the line"}))
    ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR"]}))
    dispatched = head(client)
    ok(client.post("/units/A-NEAR/status", json={"status": "en_route"}))
    ok(client.post("/units/A-NEAR/status", json={"status": "on_scene"}))
    return incident_id, dispatched, head(client)


def _wait_sealed(client: httpx.Client) -> Any:
    """The verification once the server's sealer has covered the whole log."""

    def sealed() -> Any:
        result = ok(client.get("/audit/verify"))
        return result if result["unsealed"] == 0 else None

    return eventually(sealed)


def test_the_timeline_and_past_states_over_http(empty: httpx.Client) -> None:
    incident_id, dispatched, end = _worked(empty)
    actor = ok(empty.get(f"/incidents/{incident_id}"))["reported_by"]  # whoever the client is

    timeline = ok(empty.get(f"/incidents/{incident_id}/timeline"))
    events = [(e["subject"], e["event"]) for e in timeline["entries"]]
    assert events == [
        ("incident", "Incident.Reported"),
        ("incident", "Incident.NoteAdded"),
        ("incident", "Incident.UnitAssigned"),
        ("A-NEAR", "Unit.Dispatched"),
        ("A-NEAR", "Unit.StatusChanged"),
        ("A-NEAR", "Unit.StatusChanged"),
    ]
    assert timeline["entries"][-1]["text"] == f"{actor} reported A-NEAR on scene"
    assignment = ok(empty.get(f"/incidents/{incident_id}"))["assignments"][0]
    said = f"{distance_text(assignment['distance_m'])}, {eta_text(assignment['eta_s'])}"
    assert timeline["entries"][2]["line"].endswith(f"{actor} assigned A-NEAR (ALS): {said}")

    then = ok(empty.get(f"/incidents/{incident_id}", params={"as_of": dispatched}))
    assert then["status"] == "dispatched"
    assert [(a["call_sign"], a["unit_status"]) for a in then["assignments"]] == [
        ("A-NEAR", "dispatched")
    ]
    at_time = then["assignments"][0]["assigned_at"]
    by_time = ok(empty.get(f"/incidents/{incident_id}", params={"as_of": at_time}))
    assert by_time["assignments"] == then["assignments"]
    now = ok(empty.get(f"/incidents/{incident_id}", params={"as_of": end}))
    assert now["assignments"][0]["unit_status"] == "on_scene"

    before = empty.get(f"/incidents/{incident_id}", params={"as_of": 1})
    assert before.status_code == 404
    bad = empty.get(f"/incidents/{incident_id}", params={"as_of": "last tuesday"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "as_of"]
    unknown = empty.get("/incidents/00000000-0000-0000-0000-000000000007/timeline")
    assert unknown.status_code == 404


def test_the_server_seals_what_it_records_and_verifies_it(empty: httpx.Client) -> None:
    _worked(empty)

    result = _wait_sealed(empty)

    assert result["ok"] is True and result["findings"] == []
    assert result["unsealed"] == 0 and result["sealed"] == result["rows"] == head(empty)


def test_eido_export_validates_and_the_sample_imports_over_http(empty: httpx.Client) -> None:
    eido_dir = require_eido_dir()
    incident_id, _, _ = _worked(empty)

    exported = ok(empty.get(f"/incidents/{incident_id}/eido"))
    assert errors(exported) == []
    assert [r["emergencyResourceName"] for r in exported["emergencyResourceComponent"]] == [
        "A-NEAR"
    ]

    sample = json.loads((eido_dir / "Samples/Sample call transfer EIDO.json").read_text())
    refused = empty.post("/incidents/eido", json=sample)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "lat"]
    created = ok(
        empty.post(
            "/incidents/eido",
            json=sample,
            params={"lat": 39.74, "lon": -75.55, "priority": "C"},
        ),
        201,
    )
    assert created["address"] == "42 W Cellular Street, Wilmington, DE, US"
    assert created["reported_by"] == ok(empty.get(f"/incidents/{incident_id}"))["reported_by"]
    assert ok(empty.get(f"/incidents/{created['id']}"))["priority"] == "C"
    again = empty.post("/incidents/eido", json=sample, params={"lat": 1, "lon": 1})
    assert again.status_code == 200  # imported before: the same incident, said so
    assert ok(again)["id"] == created["id"]
    assert again.headers["Location"] == f"/incidents/{created['id']}"
    assert again.headers["Najda-EIDO-Import"].startswith("already imported: urn:emergency:")
    accented = {**sample, "$id": "urn:emergency:uid:incidentid:é-1:samu.dz"}
    params = {"lat": 39.74, "lon": -75.55, "priority": "C"}
    first = ok(empty.post("/incidents/eido", json=accented, params=params), 201)
    repeated = empty.post("/incidents/eido", json=accented, params=params)
    assert ok(repeated)["id"] == first["id"]
    assert repeated.headers["Najda-EIDO-Import"].endswith("incidentid:%C3%A9-1:samu.dz")
    not_eido = empty.post("/incidents/eido", json={"$id": "x"}, params={"lat": 1, "lon": 1})
    assert not_eido.status_code == 422
    assert not_eido.json()["detail"][0]["loc"] == ["body", "eidoVersion"]


def test_response_time_reports_over_http(empty: httpx.Client) -> None:
    incident_id, _, _ = _worked(empty)

    data = ok(empty.get("/reports/response-times"))
    assert data["incidents"] == 1
    assert data["intervals"]["response"]["n"] == 1
    assert data["responses"][0]["incident_id"] == incident_id
    assert {c["metric"] for c in data["compliance"]} == {"response", "turnout"}

    csv_text = empty.get("/reports/response-times", params={"format": "csv"})
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[1].startswith(incident_id)
    png = empty.get("/reports/response-times", params={"format": "png"})
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")

    custom = ok(empty.get("/reports/response-times", params={"target": "travel:E:2:00@50"}))
    assert [(c["metric"], c["priority"], c["target_s"]) for c in custom["compliance"]] == [
        ("travel", "E", 120.0)
    ]
    bad = empty.get("/reports/response-times", params={"target": "speed:E:1"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "target"]
    backwards = empty.get(
        "/reports/response-times",
        params={"from": "2024-03-02T00:00:00Z", "to": "2024-03-01T00:00:00Z"},
    )
    assert backwards.status_code == 422
    empty_period = ok(empty.get("/reports/response-times", params={"to": "2000-01-01T00:00:00Z"}))
    assert empty_period["incidents"] == 0


@pytest.mark.postgres
def test_timeline_and_verification_on_postgis(start_server: StartServer, pg_url: str) -> None:
    server = start_server("--database-url", pg_url, "--no-demo")
    with server.client() as client:
        incident_id, _, _ = _worked(client)
        timeline = ok(client.get(f"/incidents/{incident_id}/timeline"))
        assert len(timeline["entries"]) == 6
        result = _wait_sealed(client)
        assert result["ok"] is True and result["unsealed"] == 0
