"""Teleconsult lifecycle rules on the Dispatch application, and the FHIR Encounter export."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest

from najda.api.fhir_encounter import consult_encounter
from najda.domain.access.user import Role
from najda.domain.application import UnitChoice
from najda.domain.care.consult import ConsultNotFound, ConsultStatus, Specialty
from najda.domain.errors import IncidentNotOpen, InvalidTransition, InvalidValue, UnitNotOnIncident
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.access.user_directory import UserDirectory
from najda.projections.base import NotificationSource
from najda.projections.care.consult_queue import ConsultDirectory
from tests.fakes import TickingClock, new_dispatch
from tests.fhir_check import check_encounter
from tests.integration.support import run

SCENE = Position(36.75, 3.06)


class World:
    """An in-memory Dispatch with a unit on an open incident."""

    def __init__(self) -> None:
        self.clock = TickingClock()
        self.app = new_dispatch(clock=self.clock)
        self.unit = self.app.register_unit("A1", UnitKind.ALS, "roster", home=SCENE)
        self.other = self.app.register_unit("B1", UnitKind.BLS, "roster", home=SCENE)
        self.incident = self.app.report_incident(
            location=SCENE, address="", nature="stroke symptoms", priority=Priority.D, actor="d"
        )
        self.app.assign_units(self.incident, [UnitChoice(self.unit)], "d")

    def request(self, specialty: str = "stroke", unit: UUID | None = None) -> UUID:
        return self.app.request_consult(
            self.incident, specialty, "left-sided weakness, onset 40 min", "d.ali", unit_id=unit
        )

    def consult(self, consult_id: UUID) -> object:
        return self.app.get_incident(self.incident).consult(consult_id)


@pytest.fixture
def world() -> World:
    return World()


def test_a_consult_is_requested_accepted_and_ended_with_its_times(world: World) -> None:
    consult_id = world.request(unit=world.unit)
    world.app.accept_consult(world.incident, consult_id, "dr.k")
    world.app.end_consult(world.incident, consult_id, "thrombolysis candidate: go to CHU", "dr.k")

    consult = world.app.get_incident(world.incident).consult(consult_id)
    assert consult.status is ConsultStatus.ENDED
    assert (consult.specialty, consult.unit_id, consult.requested_by) == (
        Specialty.STROKE,
        world.unit,
        "d.ali",
    )
    assert (consult.specialist, consult.closed_by) == ("dr.k", "dr.k")
    assert consult.recommendation == "thrombolysis candidate: go to CHU"
    assert consult.started_at is not None and consult.ended_at is not None
    assert consult.requested_at < consult.started_at < consult.ended_at


def test_a_request_can_be_declined_or_cancelled_before_anyone_accepts_it(world: World) -> None:
    declined, cancelled = world.request(), world.request("cardiology")
    world.app.decline_consult(world.incident, declined, "not a stroke picture", "dr.k")
    world.app.cancel_consult(world.incident, cancelled, "patient improved", "d.ali")

    incident = world.app.get_incident(world.incident)
    assert incident.consult(declined).status is ConsultStatus.DECLINED
    assert incident.consult(declined).closing_reason == "not a stroke picture"
    assert incident.consult(cancelled).status is ConsultStatus.CANCELLED
    assert incident.consult(cancelled).closed_by == "d.ali"


def test_invalid_transitions_are_refused_naming_both_states(world: World) -> None:
    consult_id = world.request()
    with pytest.raises(InvalidTransition, match="from 'requested' to 'ended'"):
        world.app.end_consult(world.incident, consult_id, "note", "dr.k")
    world.app.accept_consult(world.incident, consult_id, "dr.k")
    with pytest.raises(InvalidTransition) as taken:
        world.app.accept_consult(world.incident, consult_id, "dr.z")
    assert "from 'in_progress' to 'in_progress': dr.k accepted it" in str(taken.value)
    for refused in (
        lambda: world.app.cancel_consult(world.incident, consult_id, "no", "d.ali"),
        lambda: world.app.decline_consult(world.incident, consult_id, "no", "dr.z"),
    ):
        with pytest.raises(InvalidTransition):
            refused()
    world.app.end_consult(world.incident, consult_id, "observe", "dr.k")
    with pytest.raises(InvalidTransition, match=r"dr\.k ended it"):
        world.app.end_consult(world.incident, consult_id, "again", "dr.k")


def test_no_consult_on_a_closed_or_cancelled_incident(world: World) -> None:
    world.app.cancel_incident(world.incident, "duplicate", "d.ali")
    with pytest.raises(IncidentNotOpen):
        world.request()
    closed = world.app.report_incident(
        location=SCENE, address="", nature="fall", priority=Priority.B, actor="d"
    )
    world.app.close_incident(closed, "advice given", "d.ali")
    with pytest.raises(IncidentNotOpen):
        world.app.request_consult(closed, "geriatrics", "falls risk", "d.ali")


def test_closing_cancels_open_requests_but_a_consult_in_progress_can_still_end(
    world: World,
) -> None:
    waiting, talking = world.request(), world.request("cardiology")
    world.app.accept_consult(world.incident, talking, "dr.c")
    world.app.update_unit_status(world.unit, UnitStatus.EN_ROUTE, "crew")
    world.app.update_unit_status(world.unit, UnitStatus.ON_SCENE, "crew")
    world.app.update_unit_status(world.unit, UnitStatus.AVAILABLE, "crew")
    world.app.close_incident(world.incident, "treated on scene", "d.ali")

    incident = world.app.get_incident(world.incident)
    assert incident.consult(waiting).status is ConsultStatus.CANCELLED
    assert incident.consult(waiting).closing_reason == "incident closed"
    with pytest.raises(InvalidTransition):
        world.app.accept_consult(world.incident, waiting, "dr.k")
    world.app.end_consult(world.incident, talking, "follow up with GP", "dr.c")
    assert world.app.get_incident(world.incident).consult(talking).status is ConsultStatus.ENDED


def test_a_crew_asks_only_for_the_incident_its_unit_works(world: World) -> None:
    with pytest.raises(UnitNotOnIncident):
        world.request(unit=world.other)


def test_bad_requests_name_the_field_and_record_nothing(world: World) -> None:
    version = world.app.get_incident(world.incident).version
    cases = [
        (lambda: world.request("dentistry"), "specialty"),
        (lambda: world.app.request_consult(world.incident, "stroke", "  ", "d"), "reason"),
    ]
    consult_id = world.request()
    version += 1
    cases.append(
        (lambda: world.app.end_consult(world.incident, consult_id, "", "dr.k"), "recommendation")
    )
    for command, field in cases:
        with pytest.raises(InvalidValue) as refused:
            command()
        assert refused.value.field == field
    assert world.app.get_incident(world.incident).version == version
    with pytest.raises(ConsultNotFound):
        world.app.accept_consult(world.incident, UUID(int=99), "dr.k")


def test_specialties_take_their_aliases() -> None:
    world = World()
    consult_id = world.app.request_consult(world.incident, "Pediatrics", "fever", "d")
    assert world.app.get_incident(world.incident).consult(consult_id).specialty == "paediatrics"


def test_the_open_consults_directory_follows_the_events(world: World) -> None:
    ended, waiting = world.request(), world.request("psychiatry")
    world.app.accept_consult(world.incident, ended, "dr.k")
    world.app.end_consult(world.incident, ended, "done", "dr.k")
    directory = ConsultDirectory()
    run(directory.apply(NotificationSource(world.app).read(0, 1000)))

    (only,) = directory.listed()
    assert (only.incident_id, only.consult.consult_id) == (world.incident, waiting)
    assert directory.listed(specialties={"stroke"}) == []
    assert directory.listed(statuses={ConsultStatus.IN_PROGRESS}) == []


def test_a_specialist_user_has_specialties_and_only_a_specialist_has_them() -> None:
    app = new_dispatch()
    app.add_user("dr.k", "specialist", "admin", specialties=["stroke", "Pediatrics"])
    with pytest.raises(InvalidValue) as none:
        app.add_user("dr.none", Role.SPECIALIST, "admin")
    with pytest.raises(InvalidValue) as wrong:
        app.add_user("d.ali", Role.DISPATCHER, "admin", specialties=["stroke"])
    with pytest.raises(InvalidValue) as unknown:
        app.add_user("dr.x", Role.SPECIALIST, "admin", specialties=["stroke", "dentistry"])
    assert (none.value.field, wrong.value.field, unknown.value.field) == (
        "specialties",
        "specialties",
        "specialties[1]",
    )
    app.set_specialties("dr.k", ["cardiology"], "admin")
    directory = UserDirectory()
    run(directory.apply(NotificationSource(app).read(0, 100)))
    (user,) = directory.list_users()
    assert (user.role, user.specialties) == (Role.SPECIALIST, frozenset({"cardiology"}))
    assert app.get_user("dr.k").specialties == ("cardiology",)


@pytest.mark.parametrize(
    "steps",
    [(), ("accept",), ("accept", "end"), ("decline",), ("cancel",)],
    ids=["planned", "in-progress", "finished", "declined", "cancelled"],
)
def test_every_consult_exports_as_a_valid_fhir_encounter(
    world: World, steps: tuple[str, ...]
) -> None:
    consult_id = world.request()
    commands = {
        "accept": lambda: world.app.accept_consult(world.incident, consult_id, "dr.k"),
        "end": lambda: world.app.end_consult(world.incident, consult_id, "CT now", "dr.k"),
        "decline": lambda: world.app.decline_consult(world.incident, consult_id, "n/a", "dr.k"),
        "cancel": lambda: world.app.cancel_consult(world.incident, consult_id, "better", "d"),
    }
    for step in steps:
        commands[step]()
    incident = world.app.get_incident(world.incident)

    resource = consult_encounter(incident, incident.consult(consult_id))

    model = check_encounter(resource)
    expected = {(): "planned", ("accept",): "in-progress", ("accept", "end"): "finished"}
    assert resource["status"] == expected.get(steps, "cancelled")
    assert model.id == str(consult_id)
    assert resource["partOf"]["identifier"]["value"] == f"urn:uuid:{world.incident}"
    assert resource["reasonCode"] == [{"text": "left-sided weakness, onset 40 min"}]
    codings = resource["serviceType"]["coding"]
    assert {
        "system": "http://snomed.info/sct",
        "code": "394591006",
        "display": "Neurology",
    } in codings
    if "accept" in steps:
        (participant,) = resource["participant"]
        assert participant["individual"]["identifier"]["value"] == "dr.k"
        assert participant["type"][0]["coding"][0]["code"] == "CON"
        assert datetime.fromisoformat(resource["period"]["start"]) > incident.reported_at
    if steps == ("accept", "end"):
        (outcome,) = resource["extension"]
        assert outcome["valueAnnotation"]["text"] == "CT now"
        assert outcome["valueAnnotation"]["authorString"] == "dr.k"
        assert "CT now" in resource["text"]["div"]
        assert resource["length"]["value"] >= 0
        statuses = [h["status"] for h in resource["statusHistory"]]
        assert statuses == ["planned", "in-progress"]
    else:
        assert "length" not in resource


def test_the_fhir_check_refuses_a_broken_encounter(world: World) -> None:
    consult_id = world.request()
    incident = world.app.get_incident(world.incident)
    good = consult_encounter(incident, incident.consult(consult_id))
    for broken in (
        {**good, "status": "done"},
        {**good, "class": {"code": "AMB"}},
        {**good, "period": {"start": "soon"}},
        {**good, "unknownElement": 1},
    ):
        with pytest.raises((AssertionError, ValueError)):
            check_encounter(broken)
