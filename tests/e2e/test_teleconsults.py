"""Teleconsults through a real server: dispatcher, crew and specialist tokens over REST,
the consult pushed to a console and to the crew's socket, in the timeline, as FHIR."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import StartServer
from tests.e2e.harness import NajdaServer, build_world, ok, report
from tests.e2e.live import Listener, Message
from tests.fhir_check import check_encounter

CREW_UNIT = "A-NEAR"


class Team:
    """A server with the test world, a dispatcher, the crew of A-NEAR, a stroke specialist
    and a cardiologist, and an open incident A-NEAR works."""

    def __init__(self, server: NajdaServer) -> None:
        self.server = server
        with server.client() as admin:
            build_world(admin)
        self.dispatcher_token = server.add_user("d.ali", "dispatcher")
        self.crew_token = server.add_user("crew.a", "crew", unit=CREW_UNIT)
        self.dispatcher = server.client(self.dispatcher_token)
        self.crew = server.client(self.crew_token)
        self.stroke_token = server.add_user("dr.k", "specialist", specialties=["stroke"])
        self.cardio_token = server.add_user(
            "dr.c", "specialist", specialties=["cardiology", "Pediatrics"]
        )
        self.stroke = server.client(self.stroke_token)
        self.cardio = server.client(self.cardio_token)
        self.incident = report(self.dispatcher, "D", nature="stroke symptoms")["id"]
        body = {"units": [CREW_UNIT]}
        ok(self.dispatcher.post(f"/incidents/{self.incident}/assignments", json=body))

    @property
    def consults(self) -> str:
        return f"/incidents/{self.incident}/consults"

    def clients(self) -> list[httpx.Client]:
        return [self.dispatcher, self.crew, self.stroke, self.cardio]


@pytest.fixture
def team(start_server: StartServer) -> Iterator[Team]:
    team = Team(start_server("--no-demo"))
    try:
        yield team
    finally:
        for client in team.clients():
            client.close()


def _consult_event(event: str, consult_id: str, status: str) -> Any:
    def check(messages: list[Message]) -> bool:
        return any(
            m.get("type") == "consult"
            and m["event"] == event
            and m["consult"]["id"] == consult_id
            and m["consult"]["status"] == status
            for m in messages
        )

    return check


def test_the_teleconsult_lifecycle_through_the_api(team: Team) -> None:
    server = team.server
    with (
        Listener(server.ws_url("/ws/console"), team.dispatcher_token) as console,
        Listener(server.ws_url("/ws/crew"), team.crew_token) as crew_socket,
        Listener(server.ws_url("/ws/specialist"), team.stroke_token) as stroke_socket,
        Listener(server.ws_url("/ws/specialist"), team.cardio_token) as cardio_socket,
    ):
        # The crew asks for a stroke specialist on the incident its unit works.
        body = {"specialty": "stroke", "reason": "facial droop, onset 30 min"}
        asked = team.crew.post(team.consults, json=body)
        created = ok(asked, 201)
        consult_id = created["id"]
        assert asked.headers["location"] == f"{team.consults}/{consult_id}"
        assert (created["status"], created["requested_by"]) == ("requested", "crew.a")
        assert created["unit_id"] is not None and created["specialist"] is None
        assert console.wait_for(
            _consult_event("Incident.ConsultRequested", consult_id, "requested")
        )
        assert crew_socket.wait_for(
            _consult_event("Incident.ConsultRequested", consult_id, "requested")
        )
        assert stroke_socket.wait_for(
            _consult_event("Incident.ConsultRequested", consult_id, "requested")
        )
        pushed = next(m for m in stroke_socket.messages if m.get("type") == "consult")
        assert pushed["incident"]["nature"] == "stroke symptoms"

        # Specialists see the requests of their specialties only.
        queue = ok(team.stroke.get("/consults"))
        assert [q["consult"]["id"] for q in queue] == [consult_id]
        assert queue[0]["incident"]["nature"] == "stroke symptoms"
        assert ok(team.cardio.get("/consults")) == []
        assert ok(team.cardio.get(team.consults)) == []
        denied = team.cardio.post(f"{team.consults}/{consult_id}/accept")
        assert denied.status_code == 403 and "not stroke" in denied.json()["detail"]

        # The stroke specialist joins: the answer carries the incident it consults on.
        joined = ok(team.stroke.post(f"{team.consults}/{consult_id}/accept"))
        assert (joined["consult"]["status"], joined["consult"]["specialist"]) == (
            "in_progress",
            "dr.k",
        )
        assert joined["incident"]["nature"] == "stroke symptoms"
        assert [a["call_sign"] for a in joined["incident"]["assignments"]] == [CREW_UNIT]
        again = team.stroke.post(f"{team.consults}/{consult_id}/accept")
        assert again.status_code == 409
        assert "cannot go from 'in_progress' to 'in_progress': dr.k accepted it" in again.text
        assert crew_socket.wait_for(
            _consult_event("Incident.ConsultAccepted", consult_id, "in_progress")
        )

        # Only the specialist who joined (or a dispatcher) ends it, with the recommendation.
        note = {"recommendation": "thrombolysis window: take to the stroke unit"}
        assert team.crew.post(f"{team.consults}/{consult_id}/end", json=note).status_code == 403
        assert team.cardio.post(f"{team.consults}/{consult_id}/end", json=note).status_code == 403
        ended = ok(team.stroke.post(f"{team.consults}/{consult_id}/end", json=note))
        assert ended["status"] == "ended" and ended["recommendation"] == note["recommendation"]
        assert ended["started_at"] < ended["ended_at"]
        assert console.wait_for(_consult_event("Incident.ConsultEnded", consult_id, "ended"))
        assert crew_socket.wait_for(_consult_event("Incident.ConsultEnded", consult_id, "ended"))
        assert stroke_socket.wait_for(_consult_event("Incident.ConsultEnded", consult_id, "ended"))
        # The cardiologist's socket carries its own specialty only: a later cardiology
        # request reaches it, and nothing of the stroke consult came before it.
        body = {"specialty": "cardiology", "reason": "ECG review"}
        cardio_id = ok(team.dispatcher.post(team.consults, json=body), 201)["id"]
        assert cardio_socket.wait_for(
            _consult_event("Incident.ConsultRequested", cardio_id, "requested")
        )
        seen = [m["consult"]["id"] for m in cardio_socket.messages if m.get("type") == "consult"]
        assert seen == [cardio_id]
        assert {m["type"] for m in cardio_socket.messages} == {"hello", "snapshot", "consult"}

    assert ok(team.stroke.get("/consults")) == []  # no longer open
    ok(team.dispatcher.post(f"{team.consults}/{cardio_id}/cancel", json={"reason": "done"}))
    # The crew reads it back; the timeline tells it in sentences.
    listed = ok(team.crew.get(team.consults))
    assert [(c["id"], c["status"]) for c in listed] == [
        (consult_id, "ended"),
        (cardio_id, "cancelled"),
    ]
    timeline = ok(team.dispatcher.get(f"/incidents/{team.incident}/timeline"))
    texts = [e["text"] for e in timeline["entries"]]
    assert (
        f"crew.a ({CREW_UNIT}) requested a stroke teleconsult: facial droop, onset 30 min" in texts
    )
    assert "specialist dr.k (stroke) joined the incident by teleconsult" in texts
    assert "dr.k ended the teleconsult: thrombolysis window: take to the stroke unit" in texts
    joined_line = next(e for e in timeline["entries"] if e["event"] == "Incident.ConsultAccepted")
    assert joined_line["actor"] == "dr.k" and joined_line["line"].endswith("by teleconsult")

    # FHIR R4 Encounter export, for the crew and the specialist alike.
    response = team.crew.get(f"{team.consults}/{consult_id}/encounter")
    assert response.headers["content-type"].startswith("application/fhir+json")
    encounter = ok(response)
    check_encounter(encounter)
    assert encounter["status"] == "finished"
    assert encounter["participant"][0]["individual"]["identifier"]["value"] == "dr.k"
    assert encounter["partOf"]["identifier"]["value"] == f"urn:uuid:{team.incident}"
    assert ok(team.stroke.get(f"{team.consults}/{consult_id}/encounter")) == encounter
    assert team.cardio.get(f"{team.consults}/{consult_id}/encounter").status_code == 403


def test_requests_declined_cancelled_and_refused(team: Team) -> None:
    cardio = ok(
        team.dispatcher.post(
            team.consults, json={"specialty": "cardiac", "reason": "ECG: ST elevation?"}
        ),
        201,
    )
    assert cardio["specialty"] == "cardiology"
    declined = ok(
        team.cardio.post(
            f"{team.consults}/{cardio['id']}/decline", json={"reason": "ECG is normal"}
        )
    )
    assert (declined["status"], declined["closed_by"]) == ("declined", "dr.c")
    stroke = ok(team.crew.post(team.consults, json={"specialty": "stroke", "reason": "x"}), 201)
    cancelled = ok(
        team.crew.post(f"{team.consults}/{stroke['id']}/cancel", json={"reason": "improved"})
    )
    assert cancelled["status"] == "cancelled"
    late = team.stroke.post(f"{team.consults}/{stroke['id']}/accept")
    assert late.status_code == 409 and "crew.a cancelled it" in late.text

    # Bad input names the field; nothing is recorded.
    for body, field in (
        ({"specialty": "dentistry", "reason": "x"}, "specialty"),
        ({"specialty": "stroke", "reason": ""}, "reason"),
        ({"specialty": "stroke"}, "reason"),
    ):
        refused = team.dispatcher.post(team.consults, json=body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"][:2] == ["body", field]
    assert len(ok(team.dispatcher.get(team.consults))) == 2
    missing = team.dispatcher.get(f"{team.consults}/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404

    # A crew asks only for the incident its unit works; nobody asks on a closed incident.
    other = report(team.dispatcher, "C", nature="fall")["id"]
    body = {"specialty": "geriatrics", "reason": "falls"}
    assert team.crew.post(f"/incidents/{other}/consults", json=body).status_code == 403
    ok(team.dispatcher.post(f"/incidents/{other}/close", json={"disposition": "advice"}))
    closed = team.dispatcher.post(f"/incidents/{other}/consults", json=body)
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]


def test_new_consoles_crews_and_specialists_see_the_open_consults_in_their_snapshot(
    team: Team,
) -> None:
    body = {"specialty": "stroke", "reason": "facial droop"}
    consult_id = ok(team.dispatcher.post(team.consults, json=body), 201)["id"]
    server = team.server
    with (
        Listener(server.ws_url("/ws/console"), team.dispatcher_token) as console,
        Listener(server.ws_url("/ws/crew"), team.crew_token) as crew_socket,
        Listener(server.ws_url("/ws/specialist"), team.stroke_token) as stroke_socket,
        Listener(server.ws_url("/ws/specialist"), team.cardio_token) as cardio_socket,
    ):
        for listener in (console, crew_socket, stroke_socket, cardio_socket):
            assert listener.wait_for(lambda ms: any(m["type"] == "snapshot" for m in ms))
        console_snapshot, crew_snapshot = console.first("snapshot"), crew_socket.first("snapshot")
        stroke_snapshot, cardio_snapshot = (
            stroke_socket.first("snapshot"),
            cardio_socket.first("snapshot"),
        )
    assert console_snapshot is not None and crew_snapshot is not None
    assert stroke_snapshot is not None and cardio_snapshot is not None
    assert [c["id"] for c in stroke_snapshot["consults"]] == [consult_id]
    assert cardio_snapshot["consults"] == []
    assert [c["id"] for c in console_snapshot["consults"]] == [consult_id]
    assert [c["id"] for c in crew_snapshot["consults"]] == [consult_id]
    assert crew_snapshot["consults"][0]["incident_id"] == team.incident
