"""Recommendations that tell the truth, any unit on purpose, and re-assignment in one call,
through the real server (one server for the module; each test builds its own incidents)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import httpx
import pytest

from tests.e2e.harness import CENTRE, NajdaServer, head, offset, ok, proposed, report

#: Call sign, kind, metres north, metres east (far from other modules' worlds: own server).
UNITS = (
    ("TA-1", "als", 1_000.0, 0.0),
    ("TA-2", "als", 3_000.0, 0.0),
    ("TB-1", "bls", -2_000.0, 0.0),
    ("TR-1", "responder", 0.0, -1_500.0),
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A fresh server on an empty store with four units."""
    server = NajdaServer(tmp_path_factory.mktemp("truthful"), ("--no-demo",)).start()
    try:
        with server.client() as c:
            for call_sign, kind, north_m, east_m in UNITS:
                lat, lon = offset(*CENTRE, north_m=north_m, east_m=east_m)
                body = {"call_sign": call_sign, "kind": kind, "lat": lat, "lon": lon}
                ok(c.post("/units", json=body), 201)
            yield c
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _clean(client: httpx.Client) -> Iterator[None]:
    """Every test starts with every unit available: open incidents are cancelled after it."""
    yield
    for row in ok(client.get("/incidents")):
        ok(client.post(f"/incidents/{row['id']}/cancel", json={"reason": "test over"}))
    for call_sign, *_ in UNITS:
        if ok(client.get(f"/units/{call_sign}"))["status"] != "available":
            ok(client.post(f"/units/{call_sign}/status", json={"status": "available"}))


def _rec(client: httpx.Client, incident_id: str) -> Any:
    return ok(client.get(f"/incidents/{incident_id}/recommendations"))


def _board(client: httpx.Client, incident_id: str) -> Any:
    return next(r for r in ok(client.get("/incidents")) if r["id"] == incident_id)


def test_a_filled_requirement_proposes_nothing_and_the_next_one_gets_its_unit(
    client: httpx.Client,
) -> None:
    incident_id = report(client, "D")["id"]
    ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["TA-1"]}))
    rec = _rec(client, incident_id)
    als, other = rec["requirements"]
    assert (als["state"], [u["call_sign"] for u in als["filled_by"]]) == ("filled", ["TA-1"])
    assert als["proposed"] == [] and als["alternatives"] == []
    # The nearest other unit is the responder, not the second ALS "#1" of old.
    assert (other["state"], proposed(rec)) == ("proposed", [[], ["TR-1"]])
    assert rec["short"] == [other["label"]]
    row = _board(client, incident_id)
    assert (row["status"], row["short"]) == ("dispatched", [other["label"]])


def test_an_unfillable_requirement_is_unavailable_with_a_substitute(
    client: httpx.Client,
) -> None:
    busy = report(client, "E", nature="cardiac arrest")["id"]
    ok(client.post(f"/incidents/{busy}/assignments", json={"units": ["TA-1", "TA-2"]}))
    incident_id = report(client, "C", nature="breathing problems")["id"]
    rec = _rec(client, incident_id)
    (als,) = rec["requirements"]
    assert als["state"] == "unavailable" and als["proposed"] == []
    # The nearest unit of another kind: the responder 1.5 km west, with its ETA.
    assert als["substitute"]["call_sign"] == "TR-1"
    assert als["substitute"]["eta_s"] > 0
    assert rec["short"] == [als["label"]]


def test_any_unit_by_call_sign_with_its_eta(client: httpx.Client) -> None:
    incident_id = report(client, "C")["id"]
    option = ok(client.get(f"/incidents/{incident_id}/options/tb-1"))
    assert (option["call_sign"], option["status"], option["incident_id"]) == (
        "TB-1",
        "available",
        None,
    )
    assert option["distance_m"] == pytest.approx(2_000, rel=0.01) and option["eta_s"] > 0
    missing = client.get(f"/incidents/{incident_id}/options/NOPE-9")
    assert missing.status_code == 404 and "NOPE-9" in missing.json()["detail"]
    ok(client.post(f"/incidents/{incident_id}/assignments", json={"units": ["TB-1"]}))
    # The BLS does not fill the ALS requirement: the incident is short, not dispatched.
    assert _board(client, incident_id)["short"] == ["ALS ambulance"]
    before = head(client)
    again = client.post(f"/incidents/{incident_id}/assignments", json={"units": ["TB-1"]})
    assert again.status_code == 409 and "already assigned" in again.json()["detail"]
    unknown = client.post(f"/incidents/{incident_id}/assignments", json={"units": ["NOPE-9"]})
    assert unknown.status_code == 404 and "NOPE-9" in unknown.json()["detail"]
    assert head(client) == before


def test_reassign_is_one_call_and_the_need_reappears(client: httpx.Client) -> None:
    source = report(client, "C", nature="fall")["id"]
    ok(client.post(f"/incidents/{source}/assignments", json={"units": ["TA-1"]}))
    target = report(client, "E", nature="cardiac arrest")["id"]
    before = head(client)
    moved = ok(
        client.post(
            f"/incidents/{target}/assignments/reassign",
            json={"unit": "TA-1", "from_incident_id": source},
        )
    )
    assert head(client) == before + 4  # two incidents and the unit, one save
    assert [a["call_sign"] for a in moved["assignments"] if a["active"]] == ["TA-1"]
    assert ok(client.get("/units/TA-1"))["incident_id"] == target
    rec = _rec(client, source)
    assert rec["requirements"][0]["state"] == "proposed"  # A's need is unfilled again
    assert proposed(rec) == [["TA-2"]]


def test_a_stale_or_wrong_reassign_is_refused_and_changes_nothing(client: httpx.Client) -> None:
    a = report(client, "C", nature="fall")["id"]
    b = report(client, "D", nature="stroke")["id"]
    c = report(client, "E", nature="cardiac arrest")["id"]
    ok(client.post(f"/incidents/{a}/assignments", json={"units": ["TA-1"]}))
    ok(
        client.post(
            f"/incidents/{b}/assignments/reassign", json={"unit": "TA-1", "from_incident_id": a}
        )
    )
    before = head(client)
    stale = client.post(
        f"/incidents/{c}/assignments/reassign", json={"unit": "TA-1", "from_incident_id": a}
    )
    assert stale.status_code == 409 and "moved meanwhile" in stale.json()["detail"]
    unknown = client.post(
        f"/incidents/{c}/assignments/reassign", json={"unit": "NOPE-9", "from_incident_id": a}
    )
    assert unknown.status_code == 404 and "NOPE-9" in unknown.json()["detail"]
    same = client.post(
        f"/incidents/{b}/assignments/reassign", json={"unit": "TA-1", "from_incident_id": b}
    )
    assert same.status_code == 422 and "from_incident_id" in same.text
    missing_field = client.post(f"/incidents/{c}/assignments/reassign", json={"unit": "TA-1"})
    assert missing_field.status_code == 422 and "from_incident_id" in missing_field.text
    assert head(client) == before
    assert ok(client.get("/units/TA-1"))["incident_id"] == b


def test_a_nearby_open_call_is_offered_as_a_duplicate_to_link_or_dismiss(
    client: httpx.Client,
) -> None:
    first = report(client, "D", nature="chest pain", callback="+213 555 0101")["id"]
    lat, lon = offset(*CENTRE, north_m=120.0)
    second = report(client, "D", nature="man collapsed", lat=lat, lon=lon)["id"]
    far_lat, far_lon = offset(*CENTRE, north_m=2_000.0)
    far = report(client, "C", nature="fall", lat=far_lat, lon=far_lon)["id"]
    offered = ok(client.get(f"/incidents/{second}/duplicates"))
    assert [d["id"] for d in offered] == [first]
    assert offered[0]["distance_m"] == pytest.approx(120, abs=5)
    assert ok(client.get(f"/incidents/{far}/duplicates")) == []

    # Dismissed: no longer offered, and recorded.
    ok(client.post(f"/incidents/{second}/duplicates/{first}/dismiss"))
    assert ok(client.get(f"/incidents/{second}/duplicates")) == []
    timeline = ok(client.get(f"/incidents/{second}/timeline"))["entries"]
    assert any(e["event"] == "Incident.DuplicateDismissed" for e in timeline)

    # Linked: the new call is cancelled as a duplicate, the original noted, in one save.
    third = report(client, "D", nature="chest pain again", callback="+213 555 0199")["id"]
    before = head(client)
    linked = ok(client.post(f"/incidents/{third}/duplicates/{first}/link"))
    assert head(client) == before + 3  # linked, cancelled, the original's note
    assert (linked["status"], linked["duplicate_of"]) == ("cancelled", first)
    notes = ok(client.get(f"/incidents/{first}"))["notes"]
    assert "duplicate call linked: chest pain again" in notes[-1]["text"]
    assert "+213 555 0199" in notes[-1]["text"]


def test_a_wrong_duplicate_link_changes_nothing(client: httpx.Client) -> None:
    first = report(client, "D")["id"]
    second = report(client, "D")["id"]
    ok(client.post(f"/incidents/{second}/assignments", json={"units": ["TA-1"]}))
    before = head(client)
    itself = client.post(f"/incidents/{first}/duplicates/{first}/link")
    assert itself.status_code == 422 and "original" in itself.text
    unknown = client.post(f"/incidents/{first}/duplicates/{UUID(int=7)}/link")
    assert unknown.status_code == 404
    busy = client.post(f"/incidents/{second}/duplicates/{first}/link")
    assert busy.status_code == 409 and "TA-1" in busy.json()["detail"]
    assert head(client) == before
    assert ok(client.get(f"/incidents/{second}"))["status"] == "dispatched"


def test_the_history_search_finds_ended_incidents_by_words_unit_and_time(
    client: httpx.Client,
) -> None:
    ended = report(client, "C", nature="zeta fall on stairs")["id"]
    ok(client.post(f"/incidents/{ended}/assignments", json={"units": ["TB-1"]}))
    ok(client.post(f"/incidents/{ended}/cancel", json={"reason": "zeta patient refused"}))
    still_open = report(client, "D", nature="zeta chest pain")["id"]
    other = report(client, "B", nature="omega sick person")["id"]

    plain = ok(client.get("/incidents"))  # the board, as before: open incidents only
    assert {r["id"] for r in plain} >= {still_open, other} and ended not in {r["id"] for r in plain}

    def ids(**params: Any) -> list[str]:
        return [r["id"] for r in ok(client.get("/incidents", params=params))]

    assert ids(q="zeta") == [still_open, ended]  # newest call first, open and ended
    assert ids(q="zeta", state="closed") == [ended]
    assert ids(q="zeta", state="open") == [still_open]
    assert ids(q="refused") == [ended]  # the reason it ended is searchable too
    assert ended in ids(unit="tb-1") and still_open not in ids(unit="tb-1")
    row = ok(client.get("/incidents", params={"q": "zeta", "state": "closed"}))[0]
    assert (row["status"], row["call_signs"], row["disposition"]) == (
        "cancelled",
        ["TB-1"],
        "zeta patient refused",
    )
    assert row["ended_at"] is not None
    created = ok(client.get(f"/incidents/{ended}"))["call_received_at"]
    assert ids(q="zeta", **{"from": created, "to": created}) == [ended]

    page = client.get("/incidents", params={"q": "zeta", "limit": 1, "offset": 1})
    assert page.headers["X-Total-Count"] == "2" and [r["id"] for r in ok(page)] == [ended]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"from": "2024-03-01T08:00:00"}, "from"),  # no offset: ambiguous
        ({"from": "yesterday"}, "from"),
        ({"from": "2024-03-02T08:00:00Z", "to": "2024-03-01T08:00:00Z"}, "from"),
        ({"q": "x", "limit": 0}, "limit"),
        ({"q": "x", "offset": -1}, "offset"),
    ],
)
def test_a_bad_history_search_is_refused_naming_the_field(
    client: httpx.Client, params: dict[str, Any], field: str
) -> None:
    refused = client.get("/incidents", params=params)
    assert refused.status_code == 422
    assert ["query", field] in [d["loc"] for d in refused.json()["detail"]], refused.text
