"""Unit status lifecycle: every allowed and every refused transition, as given-when-then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any
from uuid import UUID

import pytest

from najda.domain.dispatch.unit import ALLOWED_STATUS_CHANGES, RELEASABLE, Unit, unit_id_for
from najda.domain.errors import InvalidTransition, UnitNotAvailable, UnitNotOnIncident
from najda.domain.values import Position, UnitKind, UnitStatus
from tests.unit.gwt import Event, declared_events, ev, event_names, given, history, replay

S = UnitStatus
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
INCIDENT = UUID(int=101)
OTHER_INCIDENT = UUID(int=202)
HOME = Position(50.45, 30.52)

#: The lifecycle as the spec states it, for `change_status` (dispatch and release have their
#: own commands): available → (assign) dispatched → en route → on scene → transporting →
#: at hospital → available; on scene → available (no transport); available ↔ out of service.
SPEC_STATUS_CHANGES: frozenset[tuple[UnitStatus, UnitStatus]] = frozenset(
    {
        (S.DISPATCHED, S.EN_ROUTE),
        (S.EN_ROUTE, S.ON_SCENE),
        (S.ON_SCENE, S.TRANSPORTING),
        (S.TRANSPORTING, S.AT_HOSPITAL),
        (S.AT_HOSPITAL, S.AVAILABLE),
        (S.ON_SCENE, S.AVAILABLE),
        (S.AVAILABLE, S.OUT_OF_SERVICE),
        (S.OUT_OF_SERVICE, S.AVAILABLE),
    }
)
#: Statuses a dispatcher may release a unit from (back to available), per the spec.
SPEC_RELEASABLE: frozenset[UnitStatus] = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE})
#: Statuses in which the unit works an incident.
COMMITTED: frozenset[UnitStatus] = frozenset(
    {S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL}
)

ALL_PAIRS = list(product(UnitStatus, UnitStatus))
ALLOWED_PAIRS = [p for p in ALL_PAIRS if p in SPEC_STATUS_CHANGES]
REFUSED_PAIRS = [p for p in ALL_PAIRS if p not in SPEC_STATUS_CHANGES]


def _cases(pairs: list[tuple[UnitStatus, UnitStatus]]) -> list[Any]:
    return [pytest.param(a, b, id=f"{a.value}->{b.value}") for a, b in pairs]


def register() -> Unit:
    return Unit(
        id=unit_id_for("A7"),
        call_sign="A7",
        kind=UnitKind.ALS,
        capabilities=["cardiac"],
        station_id=None,
        home=HOME,
        actor="roster",
        at=T0,
    )


def dispatch(incident_id: UUID = INCIDENT) -> Callable[[Unit], None]:
    return lambda unit: unit.dispatch(incident_id, "dispatcher", T0 + timedelta(minutes=1))


def report(status: UnitStatus) -> Callable[[Unit], None]:
    return lambda unit: unit.change_status(status, "crew", T0 + timedelta(minutes=5))


#: The real sequence of commands that brings a freshly registered unit to each status.
PATH_TO: dict[UnitStatus, list[Callable[[Unit], None]]] = {
    S.AVAILABLE: [],
    S.DISPATCHED: [dispatch()],
    S.EN_ROUTE: [dispatch(), report(S.EN_ROUTE)],
    S.ON_SCENE: [dispatch(), report(S.EN_ROUTE), report(S.ON_SCENE)],
    S.TRANSPORTING: [dispatch(), report(S.EN_ROUTE), report(S.ON_SCENE), report(S.TRANSPORTING)],
    S.AT_HOSPITAL: [
        dispatch(),
        report(S.EN_ROUTE),
        report(S.ON_SCENE),
        report(S.TRANSPORTING),
        report(S.AT_HOSPITAL),
    ],
    S.OUT_OF_SERVICE: [report(S.OUT_OF_SERVICE)],
}


def unit_in(status: UnitStatus) -> list[Event]:
    """The events of a unit that reached `status` along the real lifecycle."""
    return history(register, *PATH_TO[status])


# --- the givens themselves ------------------------------------------------------------


@pytest.mark.parametrize("status", list(UnitStatus), ids=lambda s: s.value)
def test_each_given_status_is_reached_by_the_real_sequence_of_events(status: UnitStatus) -> None:
    unit = replay(unit_in(status), Unit)

    assert unit.status is status
    assert unit.incident_id == (INCIDENT if status in COMMITTED else None)


def test_registering_a_unit_records_it_available_at_its_home() -> None:
    events = history(register)

    assert event_names(events) == ["Registered"]
    unit = replay(events, Unit)
    assert unit.status is S.AVAILABLE
    assert unit.position == HOME
    assert unit.incident_id is None
    assert unit.capabilities == ("cardiac",)


# --- change_status over the full 7 x 7 matrix -----------------------------------------


def test_spec_lifecycle_matches_the_declared_status_changes() -> None:
    declared = {(a, b) for a, targets in ALLOWED_STATUS_CHANGES.items() for b in targets}

    assert declared == SPEC_STATUS_CHANGES
    assert frozenset(RELEASABLE) == SPEC_RELEASABLE


def test_matrix_covers_every_pair_of_statuses() -> None:
    assert len(ALL_PAIRS) == 7 * 7
    assert len(ALLOWED_PAIRS) == len(SPEC_STATUS_CHANGES)


@pytest.mark.parametrize(("current", "requested"), _cases(ALLOWED_PAIRS))
def test_allows_status_change_along_the_lifecycle(
    current: UnitStatus, requested: UnitStatus
) -> None:
    outcome = given(unit_in(current), Unit).when(
        lambda unit: unit.change_status(requested, "crew-7", NOW, "reported by radio")
    )

    outcome.then(
        ev("StatusChanged", status=requested, actor="crew-7", at=NOW, reason="reported by radio")
    )
    assert outcome.aggregate.status is requested
    assert outcome.aggregate.status_at == NOW
    assert outcome.aggregate.incident_id == (INCIDENT if requested in COMMITTED else None)


@pytest.mark.parametrize(("current", "requested"), _cases(REFUSED_PAIRS))
def test_refuses_status_change_outside_the_lifecycle_naming_both_statuses(
    current: UnitStatus, requested: UnitStatus
) -> None:
    outcome = given(unit_in(current), Unit).when(
        lambda unit: unit.change_status(requested, "crew-7", NOW)
    )

    error = outcome.then_raises(InvalidTransition, repr(current.value), repr(requested.value))
    assert (error.current, error.requested) == (current.value, requested.value)
    assert outcome.aggregate.status is current


def test_refuses_reporting_dispatched_and_says_to_assign_instead() -> None:
    outcome = given(unit_in(S.AVAILABLE), Unit).when(
        lambda unit: unit.change_status(S.DISPATCHED, "crew-7", NOW)
    )

    outcome.then_raises(InvalidTransition, "'available'", "'dispatched'", "assign")


def test_rejects_an_unknown_status_value() -> None:
    scenario = given(unit_in(S.AVAILABLE), Unit)

    with pytest.raises(ValueError):
        scenario.when(lambda unit: unit.change_status("parked", "crew-7", NOW))  # type: ignore[arg-type]


# --- dispatch -------------------------------------------------------------------------


def test_dispatches_an_available_unit_to_the_incident() -> None:
    outcome = given(unit_in(S.AVAILABLE), Unit).when(
        lambda unit: unit.dispatch(OTHER_INCIDENT, "dispatcher", NOW)
    )

    outcome.then(ev("Dispatched", incident_id=OTHER_INCIDENT, actor="dispatcher", at=NOW))
    assert outcome.aggregate.status is S.DISPATCHED
    assert outcome.aggregate.incident_id == OTHER_INCIDENT


@pytest.mark.parametrize(
    "status", [s for s in UnitStatus if s is not S.AVAILABLE], ids=lambda s: s.value
)
def test_rejects_dispatching_a_unit_that_is_not_available(status: UnitStatus) -> None:
    outcome = given(unit_in(status), Unit).when(
        lambda unit: unit.dispatch(OTHER_INCIDENT, "dispatcher", NOW)
    )

    error = outcome.then_raises(UnitNotAvailable, "A7", repr(status.value))
    assert error.status == status.value
    assert outcome.aggregate.incident_id == (INCIDENT if status in COMMITTED else None)


def test_rejects_assigning_a_unit_that_is_on_scene() -> None:
    given(unit_in(S.ON_SCENE), Unit).when(
        lambda unit: unit.dispatch(OTHER_INCIDENT, "dispatcher", NOW)
    ).then_raises(UnitNotAvailable, "'on_scene'")


def test_a_unit_back_from_hospital_can_be_dispatched_again() -> None:
    past = history(register, *PATH_TO[S.AT_HOSPITAL], report(S.AVAILABLE))

    given(past, Unit).when(lambda unit: unit.dispatch(OTHER_INCIDENT, "dispatcher", NOW)).then(
        ev("Dispatched", incident_id=OTHER_INCIDENT)
    )


# --- release --------------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(SPEC_RELEASABLE), ids=lambda s: s.value)
def test_releases_a_unit_before_it_transports_back_to_available(status: UnitStatus) -> None:
    outcome = given(unit_in(status), Unit).when(
        lambda unit: unit.release(INCIDENT, "reassigned to a higher priority", "dispatcher", NOW)
    )

    outcome.then(
        ev(
            "Released",
            incident_id=INCIDENT,
            reason="reassigned to a higher priority",
            actor="dispatcher",
            at=NOW,
        )
    )
    assert outcome.aggregate.status is S.AVAILABLE
    assert outcome.aggregate.incident_id is None


@pytest.mark.parametrize("status", [S.TRANSPORTING, S.AT_HOSPITAL], ids=lambda s: s.value)
def test_refuses_releasing_a_unit_that_is_transporting_or_at_hospital(status: UnitStatus) -> None:
    outcome = given(unit_in(status), Unit).when(
        lambda unit: unit.release(INCIDENT, "cancel", "dispatcher", NOW)
    )

    outcome.then_raises(InvalidTransition, repr(status.value), "'available'")
    assert outcome.aggregate.status is status


@pytest.mark.parametrize("status", [S.AVAILABLE, S.OUT_OF_SERVICE], ids=lambda s: s.value)
def test_refuses_releasing_a_unit_that_works_no_incident(status: UnitStatus) -> None:
    given(unit_in(status), Unit).when(
        lambda unit: unit.release(INCIDENT, "cancel", "dispatcher", NOW)
    ).then_raises(UnitNotOnIncident, "A7", str(INCIDENT))


def test_release_matrix_covers_every_status() -> None:
    covered = SPEC_RELEASABLE | {S.TRANSPORTING, S.AT_HOSPITAL, S.AVAILABLE, S.OUT_OF_SERVICE}

    assert covered == set(UnitStatus)


@pytest.mark.parametrize("status", sorted(SPEC_RELEASABLE), ids=lambda s: s.value)
def test_refuses_releasing_a_unit_from_an_incident_it_is_not_on(status: UnitStatus) -> None:
    outcome = given(unit_in(status), Unit).when(
        lambda unit: unit.release(OTHER_INCIDENT, "cancel", "dispatcher", NOW)
    )

    outcome.then_raises(UnitNotOnIncident, "A7", str(OTHER_INCIDENT))
    assert outcome.aggregate.incident_id == INCIDENT


def test_refuses_releasing_a_unit_twice() -> None:
    past = history(register, dispatch(), lambda u: u.release(INCIDENT, "x", "dispatcher", T0))

    given(past, Unit).when(
        lambda unit: unit.release(INCIDENT, "again", "dispatcher", NOW)
    ).then_raises(UnitNotOnIncident)


# --- positions and the audit fields ---------------------------------------------------


def test_records_a_reported_position_without_changing_status() -> None:
    moved = Position(50.46, 30.53)
    outcome = given(unit_in(S.EN_ROUTE), Unit).when(
        lambda unit: unit.report_position(moved, "avl", NOW)
    )

    outcome.then(ev("PositionReported", position=moved, actor="avl", at=NOW))
    assert (outcome.aggregate.position, outcome.aggregate.position_at) == (moved, NOW)
    assert outcome.aggregate.status is S.EN_ROUTE


def test_a_crew_acknowledges_its_assignment_once() -> None:
    outcome = given(unit_in(S.DISPATCHED), Unit).when(lambda unit: unit.acknowledge("crew", NOW))

    outcome.then(ev("Acknowledged", incident_id=INCIDENT, actor="crew", at=NOW))
    unit = outcome.aggregate
    before = len(unit.pending_events)
    assert unit.acknowledge("crew", NOW) is False  # again: nothing new
    assert len(unit.pending_events) == before


def test_an_available_unit_has_nothing_to_acknowledge() -> None:
    given(unit_in(S.AVAILABLE), Unit).when(lambda unit: unit.acknowledge("crew", NOW)).then_raises(
        InvalidTransition
    )


def test_every_unit_event_carries_actor_and_at() -> None:
    events = history(
        register,
        *PATH_TO[S.ON_SCENE],
        lambda u: u.acknowledge("crew", T0),
        lambda u: u.report_position(Position(50.0, 30.0), "avl", T0),
        lambda u: u.release(INCIDENT, "stand down", "dispatcher", T0),
        lambda u: u.relocate(unit_id_for("station S2"), "S2", "dispatcher", T0),
    )

    assert set(event_names(events)) == declared_events(Unit)
    for event in events:
        assert vars(event)["actor"] in ("roster", "dispatcher", "crew", "avl")
        at = vars(event)["at"]
        assert isinstance(at, datetime) and at.utcoffset() == timedelta(0)


def test_replaying_a_units_events_rebuilds_the_same_unit() -> None:
    unit = register()
    for command in PATH_TO[S.AT_HOSPITAL]:
        command(unit)
    events = list(unit.collect_events())

    assert replay(events, Unit) == unit


def test_an_available_unit_is_moved_up_to_a_station_and_a_busy_one_is_not() -> None:
    post = unit_id_for("station S2")
    given(unit_in(S.AVAILABLE), Unit).when(
        lambda unit: unit.relocate(post, "S2", "dispatcher", NOW)
    ).then(ev("Relocated", station_id=post, station_code="S2", actor="dispatcher", at=NOW))
    for status in (S.DISPATCHED, S.ON_SCENE, S.OUT_OF_SERVICE):
        given(unit_in(status), Unit).when(
            lambda unit: unit.relocate(post, "S2", "dispatcher", NOW)
        ).then_raises(InvalidTransition)
