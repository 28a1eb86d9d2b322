"""Incident aggregate: each command as given past events, one command, new events or refusal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from najda.domain.care.consult import Specialty
from najda.domain.dispatch.incident import Incident
from najda.domain.errors import IncidentHasActiveUnits, IncidentNotOpen, UnitNotOnIncident
from najda.domain.values import IncidentSource, IncidentStatus, Position, Priority, UnitKind
from tests.unit.gwt import Event, declared_events, ev, event_names, given, history, replay

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
INCIDENT = UUID(int=7)
SCENE = Position(50.45, 30.52)
A1 = UUID(int=1001)
B2 = UUID(int=1002)
C1, C2, C3 = UUID(int=2001), UUID(int=2002), UUID(int=2003)

Command = Callable[[Incident], object]


def report() -> Incident:
    return Incident(
        id=INCIDENT,
        call_received_at=T0 - timedelta(seconds=40),
        location=SCENE,
        address="12 Khreshchatyk St",
        nature="chest pain",
        priority=Priority.D,
        determinant="10-D-1",
        callback="+380441234567",
        source=IncidentSource.PHONE,
        actor="call-taker",
        at=T0,
        location_fix=None,
    )


def assign(unit_id: UUID = A1, call_sign: str = "A1", kind: UnitKind = UnitKind.ALS) -> Command:
    return lambda i: i.assign_unit(unit_id, call_sign, kind, 1200.0, 180.0, "dispatcher", T0)


def clear(unit_id: UUID = A1, call_sign: str = "A1") -> Command:
    return lambda i: i.clear_unit(unit_id, call_sign, "crew", T0)


def release(unit_id: UUID = A1, call_sign: str = "A1") -> Command:
    return lambda i: i.release_unit(unit_id, call_sign, "reassigned", "dispatcher", T0)


def close() -> Command:
    return lambda i: i.close("treated on scene", "dispatcher", T0)


def cancel() -> Command:
    return lambda i: i.cancel("duplicate call", "dispatcher", T0)


def incident(*commands: Command) -> list[Event]:
    """The events of an incident reported and then changed by `commands`."""
    return history(report, *commands)


# --- reported -------------------------------------------------------------------------


def test_reporting_an_incident_records_the_call_as_pending() -> None:
    events = incident()

    assert event_names(events) == ["Reported"]
    reported = vars(events[0])
    assert reported["priority"] is Priority.D
    assert (reported["actor"], reported["at"]) == ("call-taker", T0)
    state = replay(events, Incident)
    assert state.status is IncidentStatus.PENDING
    assert state.is_open
    assert state.active_unit_ids == []
    assert state.call_received_at == T0 - timedelta(seconds=40)


# --- open incident commands -----------------------------------------------------------


def test_changes_the_priority_of_an_open_incident() -> None:
    outcome = given(incident(), Incident).when(
        lambda i: i.change_priority(Priority.E, "10-E-1", "dispatcher", NOW)
    )

    outcome.then(ev("PriorityChanged", priority=Priority.E, determinant="10-E-1", at=NOW))
    assert (outcome.aggregate.priority, outcome.aggregate.determinant) == (Priority.E, "10-E-1")
    assert (outcome.aggregate.last_actor, outcome.aggregate.last_at) == ("dispatcher", NOW)


def test_corrects_the_location_of_an_open_incident() -> None:
    corrected = Position(50.4501, 30.5234)
    outcome = given(incident(), Incident).when(
        lambda i: i.correct_location(corrected, "14 Khreshchatyk St", "dispatcher", NOW)
    )

    outcome.then(ev("LocationCorrected", location=corrected, address="14 Khreshchatyk St"))
    assert outcome.aggregate.location == corrected
    assert outcome.aggregate.address == "14 Khreshchatyk St"


def test_adds_a_note_in_order() -> None:
    past = incident(lambda i: i.add_note("caller is the patient's son", "call-taker", T0))
    outcome = given(past, Incident).when(lambda i: i.add_note("gate code 4411", "dispatcher", NOW))

    outcome.then(ev("NoteAdded", text="gate code 4411", actor="dispatcher", at=NOW))
    assert [n.text for n in outcome.aggregate.notes] == [
        "caller is the patient's son",
        "gate code 4411",
    ]


def test_assigning_a_unit_marks_the_incident_dispatched() -> None:
    outcome = given(incident(), Incident).when(
        lambda i: i.assign_unit(A1, "A1", UnitKind.ALS, 1200.0, 180.0, "dispatcher", NOW)
    )

    outcome.then(
        ev(
            "UnitAssigned",
            unit_id=A1,
            call_sign="A1",
            kind=UnitKind.ALS,
            distance_m=1200.0,
            eta_s=180.0,
            actor="dispatcher",
            at=NOW,
        )
    )
    state = outcome.aggregate
    assert state.status is IncidentStatus.DISPATCHED
    assert state.active_unit_ids == [A1]
    assignment = state.assignments[A1]
    assert (assignment.assigned_at, assignment.assigned_by, assignment.active) == (
        NOW,
        "dispatcher",
        True,
    )


def test_keeps_active_units_in_assignment_order() -> None:
    state = replay(incident(assign(B2, "B2", UnitKind.BLS), assign()), Incident)

    assert state.active_unit_ids == [B2, A1]


def test_releasing_a_unit_ends_its_assignment_with_the_reason() -> None:
    outcome = given(incident(assign()), Incident).when(
        lambda i: i.release_unit(A1, "A1", "closer unit became free", "dispatcher", NOW)
    )

    outcome.then(ev("UnitReleased", unit_id=A1, reason="closer unit became free", at=NOW))
    assignment = outcome.aggregate.assignments[A1]
    assert (assignment.active, assignment.ended_at, assignment.end_reason) == (
        False,
        NOW,
        "closer unit became free",
    )
    assert outcome.aggregate.active_unit_ids == []


def test_clearing_a_unit_ends_its_assignment_as_cleared() -> None:
    outcome = given(incident(assign()), Incident).when(
        lambda i: i.clear_unit(A1, "A1", "crew", NOW)
    )

    outcome.then(ev("UnitCleared", unit_id=A1, actor="crew", at=NOW))
    assert outcome.aggregate.assignments[A1].end_reason == "cleared"
    assert outcome.aggregate.active_unit_ids == []


@pytest.mark.parametrize(
    ("past", "command"),
    [
        pytest.param([], release(), id="release-never-assigned"),
        pytest.param([], clear(), id="clear-never-assigned"),
        pytest.param([assign(), release()], release(), id="release-already-released"),
        pytest.param([assign(), clear()], clear(), id="clear-already-cleared"),
        pytest.param([assign()], release(B2, "B2"), id="release-other-unit"),
    ],
)
def test_refuses_releasing_or_clearing_a_unit_not_active_on_the_incident(
    past: list[Command], command: Command
) -> None:
    given(incident(*past), Incident).when(command).then_raises(UnitNotOnIncident, str(INCIDENT))


def choose(code: str = "LLS", unit_id: UUID = A1, call_sign: str = "A1") -> Command:
    hospital = UUID(int=int.from_bytes(code.encode(), "big"))
    return lambda i: i.choose_destination(unit_id, call_sign, hospital, code, code, "crew", NOW)


def test_records_the_destination_a_unit_working_the_incident_chose() -> None:
    outcome = given(incident(assign()), Incident).when(choose("LLS"))

    outcome.then(ev("DestinationChosen", unit_id=A1, code="LLS", actor="crew", at=NOW))
    assert outcome.aggregate.destinations[A1].code == "LLS"


def test_choosing_the_same_destination_again_records_nothing_and_another_replaces_it() -> None:
    given(incident(assign(), choose("LLS")), Incident).when(choose("LLS")).then()
    changed = given(incident(assign(), choose("LLS")), Incident).when(choose("KSC"))
    changed.then(ev("DestinationChosen", code="KSC"))
    assert changed.aggregate.destinations[A1].code == "KSC"


@pytest.mark.parametrize(
    ("past", "command", "error"),
    [
        pytest.param([], choose(), UnitNotOnIncident, id="never-assigned"),
        pytest.param([assign(), clear()], choose(), UnitNotOnIncident, id="cleared"),
        pytest.param([assign()], choose(unit_id=B2, call_sign="B2"), UnitNotOnIncident, id="other"),
        pytest.param([assign(), release(), close()], choose(), IncidentNotOpen, id="closed"),
    ],
)
def test_refuses_a_destination_for_a_unit_not_working_an_open_incident(
    past: list[Command], command: Command, error: type[Exception]
) -> None:
    given(incident(*past), Incident).when(command).then_raises(error)  # type: ignore[type-var]


# --- closing and cancelling ----------------------------------------------------------


def test_refuses_closing_while_units_are_still_active_naming_them() -> None:
    past = incident(assign(), assign(B2, "B2", UnitKind.BLS), clear(B2, "B2"))

    outcome = given(past, Incident).when(lambda i: i.close("done", "dispatcher", NOW))

    outcome.then_raises(IncidentHasActiveUnits, "A1")
    assert "B2" not in str(outcome.error)
    assert outcome.aggregate.is_open


def test_closes_once_every_unit_has_cleared() -> None:
    past = incident(assign(), assign(B2, "B2", UnitKind.BLS), release(B2, "B2"), clear())

    outcome = given(past, Incident).when(
        lambda i: i.close("transported to City Hospital", "dispatcher", NOW)
    )

    outcome.then(ev("Closed", disposition="transported to City Hospital", at=NOW))
    state = outcome.aggregate
    assert state.status is IncidentStatus.CLOSED
    assert not state.is_open
    assert (state.disposition, state.ended_at) == ("transported to City Hospital", NOW)


def test_closes_a_pending_incident_that_needed_no_unit() -> None:
    given(incident(), Incident).when(
        lambda i: i.close("advice given by phone", "dispatcher", NOW)
    ).then(ev("Closed", disposition="advice given by phone"))


@pytest.mark.parametrize("past", [[], [assign(), release()]], ids=["pending", "dispatched"])
def test_cancels_an_open_incident_with_its_reason(past: list[Command]) -> None:
    outcome = given(incident(*past), Incident).when(
        lambda i: i.cancel("caller hung up, no patient found", "dispatcher", NOW)
    )

    outcome.then(ev("Cancelled", reason="caller hung up, no patient found", at=NOW))
    state = outcome.aggregate
    assert state.status is IncidentStatus.CANCELLED
    assert (state.disposition, state.ended_at) == ("caller hung up, no patient found", NOW)


ENDED: dict[str, list[Command]] = {
    "closed": [assign(), clear(), close()],
    "cancelled": [assign(), release(), cancel()],
}

REFUSED_WHEN_NOT_OPEN: dict[str, Command] = {
    "change_priority": lambda i: i.change_priority(Priority.E, "", "dispatcher", NOW),
    "correct_location": lambda i: i.correct_location(SCENE, "elsewhere", "dispatcher", NOW),
    "assign_unit": lambda i: i.assign_unit(B2, "B2", UnitKind.BLS, None, None, "dispatcher", NOW),
    "close": lambda i: i.close("again", "dispatcher", NOW),
    "cancel": lambda i: i.cancel("again", "dispatcher", NOW),
}


@pytest.mark.parametrize("ended", list(ENDED))
@pytest.mark.parametrize("command", list(REFUSED_WHEN_NOT_OPEN))
def test_refuses_changing_an_incident_that_is_no_longer_open(ended: str, command: str) -> None:
    outcome = given(incident(*ENDED[ended]), Incident).when(REFUSED_WHEN_NOT_OPEN[command])

    error = outcome.then_raises(IncidentNotOpen, str(INCIDENT), ended)
    assert error.status == ended
    assert outcome.aggregate.status.value == ended


@pytest.mark.parametrize("ended", list(ENDED))
@pytest.mark.parametrize("command", [release(), clear()], ids=["release_unit", "clear_unit"])
def test_refuses_ending_an_assignment_on_an_incident_that_is_no_longer_open(
    ended: str, command: Command
) -> None:
    given(incident(*ENDED[ended]), Incident).when(command).then_raises(UnitNotOnIncident)


@pytest.mark.parametrize("ended", list(ENDED))
def test_accepts_a_late_note_on_an_incident_that_is_no_longer_open(ended: str) -> None:
    outcome = given(incident(*ENDED[ended]), Incident).when(
        lambda i: i.add_note("hospital confirmed arrival", "auditor", NOW)
    )

    outcome.then(ev("NoteAdded", text="hospital confirmed arrival", actor="auditor", at=NOW))
    assert outcome.aggregate.status.value == ended


# --- audit fields and replay ---------------------------------------------------------


Stamped = Callable[[Incident, str, datetime], object]
H1 = UUID("00000000-0000-4000-8000-0000000000a1")


def stamped(*commands: Stamped) -> list[Event]:
    """Report, then run each command n as actor `actor-n` at T0 + n minutes."""

    def step(n: int, command: Stamped) -> Command:
        return lambda i: command(i, f"actor-{n}", T0 + timedelta(minutes=n))

    return history(report, *(step(n, c) for n, c in enumerate(commands, start=1)))


OPEN_STEPS: list[Stamped] = [
    lambda i, who, at: i.change_priority(Priority.E, "10-E-1", who, at),
    lambda i, who, at: i.correct_location(SCENE, "corner", who, at),
    lambda i, who, at: i.add_note("note", who, at),
    lambda i, who, at: i.assign_unit(A1, "A1", UnitKind.ALS, None, None, who, at),
    lambda i, who, at: i.assign_unit(B2, "B2", UnitKind.BLS, None, None, who, at),
    lambda i, who, at: i.release_unit(B2, "B2", "not needed", who, at),
    lambda i, who, at: i.request_consult(C1, Specialty.STROKE, "weakness", A1, who, at),
    lambda i, who, at: i.accept_consult(C1, who, at),
    lambda i, who, at: i.end_consult(C1, "CT first", who, at),
    lambda i, who, at: i.request_consult(C2, Specialty.CARDIOLOGY, "ECG", None, who, at),
    lambda i, who, at: i.decline_consult(C2, "not cardiac", who, at),
    lambda i, who, at: i.request_consult(C3, Specialty.PSYCHIATRY, "agitation", None, who, at),
    lambda i, who, at: i.cancel_consult(C3, "calmer", who, at),
    lambda i, who, at: i.choose_destination(A1, "A1", H1, "LLS", "Landesspital", who, at),
    lambda i, who, at: i.dismiss_duplicate(UUID(int=71), who, at),
    lambda i, who, at: i.link_duplicate(UUID(int=72), who, at),
]
CLOSING_STEPS: list[Stamped] = [
    lambda i, who, at: i.clear_unit(A1, "A1", who, at),
    lambda i, who, at: i.close("done", who, at),
]
CANCELLING_STEPS: list[Stamped] = [
    lambda i, who, at: i.release_unit(A1, "A1", "cancel", who, at),
    lambda i, who, at: i.cancel("hoax", who, at),
]


@pytest.mark.parametrize("ending", [CLOSING_STEPS, CANCELLING_STEPS], ids=["closed", "cancelled"])
def test_every_incident_event_carries_the_actor_and_time_of_its_command(
    ending: list[Stamped],
) -> None:
    events = stamped(*OPEN_STEPS, *ending)

    for n, event in enumerate(events):
        fields: dict[str, Any] = vars(event)
        expected = ("call-taker", T0) if n == 0 else (f"actor-{n}", T0 + timedelta(minutes=n))
        assert (fields["actor"], fields["at"]) == expected, type(event).__name__


def test_the_actor_and_time_check_covers_every_incident_event() -> None:
    covered = event_names(stamped(*OPEN_STEPS, *CLOSING_STEPS)) + event_names(
        stamped(*OPEN_STEPS, *CANCELLING_STEPS)
    )

    assert set(covered) == declared_events(Incident)


def test_every_incident_event_stores_the_actor_and_time_given_to_its_command() -> None:
    outcome = given(incident(), Incident).when(lambda i: i.add_note("x", "medic-9", NOW))

    (event,) = outcome.then(ev("NoteAdded"))
    assert (vars(event)["actor"], vars(event)["at"]) == ("medic-9", NOW)
    assert (outcome.aggregate.last_actor, outcome.aggregate.last_at) == ("medic-9", NOW)


def test_replaying_an_incidents_events_rebuilds_the_same_incident() -> None:
    original = report()
    for command in [assign(), assign(B2, "B2", UnitKind.BLS), release(B2, "B2"), clear(), close()]:
        command(original)
    events = list(original.collect_events())

    rebuilt = replay(events, Incident)

    assert rebuilt == original
    assert rebuilt.summary() == original.summary()
