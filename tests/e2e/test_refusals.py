"""Refused requests: 404 for unknown things, 409 for conflicts, 422 naming the field, no writes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.harness import CENTRE, build_world, head, ok, report

UNKNOWN = str(uuid.UUID(int=12345))


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, f"{response.status_code}: {response.text}"
    detail = response.json()["detail"]
    assert all(isinstance(d["msg"], str) and d["msg"] for d in detail)
    return [d["loc"] for d in detail]


@pytest.fixture
def unchanged(demo: httpx.Client) -> Iterator[httpx.Client]:
    """The demo server; after the test, the store and the board are as they were before."""
    before = (head(demo), _board(demo), ok(demo.get("/units")))
    yield demo
    assert (head(demo), _board(demo), ok(demo.get("/units"))) == before


def _board(client: httpx.Client) -> Any:
    """The incident board without its clock-dependent ages."""
    rows = ok(client.get("/incidents"))
    return [{k: v for k, v in row.items() if k != "age_s"} for row in rows]


GOOD_INCIDENT: dict[str, Any] = {"lat": 36.75, "lon": 3.06, "nature": "fall", "priority": "B"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lat": 91}, "lat"),
        ({"lat": -90.5}, "lat"),
        ({"lon": 180.01}, "lon"),
        ({"lat": "north"}, "lat"),
        ({"lat": True}, "lat"),
        ({"priority": "Z"}, "priority"),
        ({"priority": ""}, "priority"),
        ({"nature": "   "}, "nature"),
        ({"nature": "x" * 201}, "nature"),
        ({"address": "x" * 301}, "address"),
        ({"source": "pigeon"}, "source"),
        ({"call_received_at": "2030-01-01T00:00:00"}, "call_received_at"),
        ({"call_received_at": "2999-01-01T00:00:00Z"}, "call_received_at"),
        ({"call_received_at": "0001-01-01T00:00:00+14:00"}, "call_received_at"),
        ({"call_received_at": "1900-01-01T00:00:00Z"}, "call_received_at"),
        ({"address": "1 Rue\u0000A"}, "address"),
        ({"colour": "red"}, "colour"),
        ({"nature": "fall\u0000"}, "nature"),
        ({"address": "1 Main St\u0007"}, "address"),
    ],
)
def test_a_bad_incident_field_is_refused_with_422_naming_it(
    unchanged: httpx.Client, change: dict[str, Any], field: str
) -> None:
    response = unchanged.post("/incidents", json={**GOOD_INCIDENT, **change})
    assert ["body", field] in _locs(response)


@pytest.mark.parametrize("missing", ["lat", "lon", "nature", "priority"])
def test_a_missing_incident_field_is_refused_with_422_naming_it(
    unchanged: httpx.Client, missing: str
) -> None:
    body = {k: v for k, v in GOOD_INCIDENT.items() if k != missing}
    response = unchanged.post("/incidents", json=body)
    assert _locs(response) == [["body", missing]]
    assert response.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_coordinates_are_refused(unchanged: httpx.Client, number: str) -> None:
    content = f'{{"lat": {number}, "lon": 3.06, "nature": "fall", "priority": "B"}}'
    response = unchanged.post(
        "/incidents", content=content, headers={"Content-Type": "application/json"}
    )
    assert ["body", "lat"] in _locs(response)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"', ""])
def test_malformed_json_is_refused_with_422(unchanged: httpx.Client, content: str) -> None:
    response = unchanged.post(
        "/incidents", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text


def test_an_oversize_body_is_refused_with_413(unchanged: httpx.Client) -> None:
    body = {**GOOD_INCIDENT, "nature": "x" * 2_000_000}
    assert unchanged.post("/incidents", json=body).status_code == 413


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"call_sign": "", "kind": "als", "station": "SAH-CEN"}, "call_sign"),
        ({"call_sign": "   ", "kind": "als", "station": "SAH-CEN"}, "call_sign"),
        ({"call_sign": "X" * 21, "kind": "als", "station": "SAH-CEN"}, "call_sign"),
        ({"call_sign": "N1", "kind": "helicopter", "station": "SAH-CEN"}, "kind"),
        ({"call_sign": "N1", "kind": "als"}, "home"),
        ({"call_sign": "N1", "kind": "als", "lat": 36.7}, "lon"),
        ({"call_sign": "N1", "kind": "als", "lat": 36.7, "lon": 200}, "lon"),
        ({"call_sign": "N1", "kind": "als", "station": "S", "capabilities": [""]}, "capabilities"),
        ({"call_sign": "N\u00001", "kind": "als", "station": "SAH-CEN"}, "call_sign"),
        (
            {"call_sign": "N1", "kind": "als", "station": "S", "capabilities": ["\u001b"]},
            "capabilities",
        ),
    ],
)
def test_a_bad_unit_is_refused_with_422_naming_the_field(
    unchanged: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert any(loc[:2] == ["body", field] for loc in _locs(unchanged.post("/units", json=body)))


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/units/A10/status", {"status": "flying"}, ["body", "status"]),
        ("/units/A10/status", {}, ["body", "status"]),
        ("/units/A10/position", {"lat": 95, "lon": 3.0}, ["body", "lat"]),
        (
            "/units/A10/position",
            {"lat": 36.7, "lon": 3.0, "at": "2999-01-01T00:00:00Z"},
            ["body", "at"],
        ),
        (
            "/units/A10/position",
            {"lat": 36.7, "lon": 3.0, "at": "0001-01-01T00:00:00+14:00"},
            ["body", "at"],
        ),
        ("/units/" + "Z" * 30 + "/status", {"status": "en_route"}, ["path", "unit"]),
        (f"/incidents/{UNKNOWN}/notes", {"text": ""}, ["body", "text"]),
        (f"/incidents/{UNKNOWN}/priority", {"priority": "F"}, ["body", "priority"]),
        (f"/incidents/{UNKNOWN}/assignments", {"units": []}, ["body", "units"]),
        ("/incidents/not-a-uuid/notes", {"text": "hello"}, ["path", "incident_id"]),
        ("/stations", {"code": "S1", "name": "", "lat": 1, "lon": 1}, ["body", "name"]),
        ("/hospitals", {"code": "H1", "name": "H", "lat": 1}, ["body", "lon"]),
    ],
)
def test_bad_commands_are_refused_with_422(
    unchanged: httpx.Client, path: str, body: dict[str, Any], loc: list[str] | None
) -> None:
    locs = _locs(unchanged.post(path, json=body))
    assert loc is None or loc in locs


def test_bad_query_values_are_refused_with_422(unchanged: httpx.Client) -> None:
    assert _locs(unchanged.get("/units", params={"status": "asleep"})) == [["query", "status"]]
    assert _locs(unchanged.get("/units", params={"kind": "boat"})) == [["query", "kind"]]
    assert ["path", "incident_id"] in _locs(unchanged.get("/incidents/1234/recommendations"))


def test_every_accepted_spelling_of_a_priority_is_stored_as_its_level(
    empty: httpx.Client,
) -> None:
    spellings = {"E": "E", "d": "D", "C": "C", "B": "B", "a": "A", "Ω": "Ω", "OMEGA": "Ω"}
    for spelling, level in spellings.items():
        assert report(empty, spelling)["priority"] == level


@pytest.mark.parametrize(
    "path",
    [
        f"/incidents/{UNKNOWN}",
        f"/incidents/{UNKNOWN}/recommendations",
        "/units/NOSUCH",
        f"/units/{UNKNOWN}",
        "/stations/NOSUCH",
        "/hospitals/NOSUCH",
    ],
)
def test_unknown_things_are_404(unchanged: httpx.Client, path: str) -> None:
    response = unchanged.get(path)
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/incidents/{UNKNOWN}/notes", {"text": "hello"}),
        (f"/incidents/{UNKNOWN}/close", {"disposition": "done"}),
        (f"/incidents/{UNKNOWN}/assignments", {"units": ["A10"]}),
        ("/units/NOSUCH/status", {"status": "out_of_service"}),
        ("/units/NOSUCH/position", {"lat": 36.7, "lon": 3.0}),
        ("/units", {"call_sign": "N2", "kind": "bls", "station": "NOSUCH"}),
    ],
)
def test_commands_on_unknown_things_are_404_and_write_nothing(
    unchanged: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    assert unchanged.post(path, json=body).status_code == 404


def test_assigning_an_unknown_unit_writes_nothing(empty: httpx.Client) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    before = head(empty)
    response = empty.post(
        f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR", "NOSUCH"]}
    )
    assert response.status_code == 404
    assert head(empty) == before
    assert ok(empty.get("/units/A-NEAR"))["status"] == "available"


def test_assigning_a_busy_unit_is_409_and_assigns_none_of_the_others(
    empty: httpx.Client,
) -> None:
    build_world(empty)
    first = report(empty, "C")["id"]
    second = report(empty, "C")["id"]
    ok(empty.post(f"/incidents/{first}/assignments", json={"units": ["A-NEAR"]}))
    before = head(empty)
    response = empty.post(f"/incidents/{second}/assignments", json={"units": ["A-FAR", "A-NEAR"]})
    assert response.status_code == 409
    assert "A-NEAR" in response.json()["detail"]
    assert "'dispatched'" in response.json()["detail"]
    assert head(empty) == before
    assert ok(empty.get("/units/A-FAR"))["status"] == "available"
    assert ok(empty.get(f"/incidents/{second}"))["assignments"] == []
    assert ok(empty.get("/units/A-NEAR"))["incident_id"] == first


def test_listing_a_unit_twice_is_422(empty: httpx.Client) -> None:
    ids = build_world(empty)
    incident_id = report(empty, "C")["id"]
    response = empty.post(
        f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR", ids["A-NEAR"]]}
    )
    assert _locs(response) == [["body", "units"]]


def test_a_refused_status_change_is_409_naming_current_and_requested_status(
    empty: httpx.Client,
) -> None:
    build_world(empty)
    before = head(empty)
    response = empty.post("/units/A-NEAR/status", json={"status": "on_scene"})
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "'available'" in detail and "'on_scene'" in detail
    response = empty.post("/units/A-NEAR/status", json={"status": "dispatched"})
    assert response.status_code == 409
    assert head(empty) == before
    assert ok(empty.get("/units/A-NEAR"))["status"] == "available"


def test_a_transporting_unit_cannot_be_released_and_stays_on_the_incident(
    empty: httpx.Client,
) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    ok(empty.post(f"/incidents/{incident_id}/assignments", json={"units": ["A-NEAR"]}))
    for status in ("en_route", "on_scene", "transporting"):
        ok(empty.post("/units/A-NEAR/status", json={"status": status}))
    response = empty.post(
        f"/incidents/{incident_id}/assignments/A-NEAR/release", json={"reason": "swap"}
    )
    assert response.status_code == 409
    assert "'transporting'" in response.json()["detail"]
    assert ok(empty.get("/units/A-NEAR"))["status"] == "transporting"


def test_changing_an_ended_incident_is_409(empty: httpx.Client) -> None:
    build_world(empty)
    incident_id = report(empty, "C")["id"]
    ok(empty.post(f"/incidents/{incident_id}/cancel", json={"reason": "duplicate"}))
    for path, body in [
        ("priority", {"priority": "E"}),
        ("location", {"lat": CENTRE[0], "lon": CENTRE[1]}),
        ("assignments", {"units": ["A-NEAR"]}),
        ("close", {"disposition": "x"}),
        ("cancel", {"reason": "x"}),
    ]:
        response = empty.post(f"/incidents/{incident_id}/{path}", json=body)
        assert response.status_code == 409, path
        assert "cancelled" in response.json()["detail"]
    assert empty.get(f"/incidents/{incident_id}/recommendations").status_code == 409


def test_registering_a_taken_call_sign_or_code_is_409(unchanged: httpx.Client) -> None:
    taken = {"call_sign": "a10", "kind": "bls", "station": "SAH-CEN"}
    assert unchanged.post("/units", json=taken).status_code == 409
    station = {"code": "SAH-CEN", "name": "Again", "lat": 36.7, "lon": 3.0}
    assert unchanged.post("/stations", json=station).status_code == 409


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/incidents", {**GOOD_INCIDENT, "nature": "chest pain\ud800"}, "nature"),
        ("/units/A10/status", {"status": "out_of_service", "reason": "x\ud800"}, "reason"),
    ],
)
def test_a_lone_surrogate_in_text_is_refused_with_422_not_500(
    unchanged: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    # JSON may escape a lone surrogate (\\ud800); it decodes to text that cannot be encoded.
    raw = json.dumps(body, ensure_ascii=True)
    answer = unchanged.post(path, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert any(field in error["loc"] for error in answer.json()["detail"])


def test_a_body_with_thousands_of_unknown_keys_is_refused_quickly_with_a_short_answer(
    unchanged: httpx.Client,
) -> None:
    body = {**GOOD_INCIDENT, **{f"k{i}": 1 for i in range(20_000)}}
    answer = unchanged.post("/incidents", json=body)
    assert answer.status_code == 422
    assert 0 < len(answer.json()["detail"]) <= 20


def test_a_token_with_control_characters_is_refused(unchanged: httpx.Client) -> None:
    # NEL and CSI (0x85, 0x9b) pass the HTTP parser as Latin-1 text; they hold no user.
    headers = {"authorization": "Bearer d.ali\x85\x9b2J".encode("latin-1")}
    answer = unchanged.post("/incidents", json=GOOD_INCIDENT, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
