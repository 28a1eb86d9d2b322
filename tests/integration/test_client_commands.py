"""Crew commands with client command ids on both real stores: a replay answers the first
result and does nothing; the same id with other content is refused (409) and does nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from najda.domain.application import Dispatch, UnitChoice
from najda.domain.dispatch.crew_commands import crew_scope, status_once
from najda.domain.dispatch.stations_hospitals import hospital_id_for
from najda.domain.errors import (
    CommandIdReused,
    InvalidTransition,
    InvalidValue,
    NotTheSameIncident,
    RefusedBefore,
)
from najda.domain.persistence.client_command import Once
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.projections.store.environment import postgres_env, sqlite_env
from tests.fakes import new_dispatch

HOME = Position(47.14, 9.52)
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Dispatch]:
    if request.param == "sqlite":
        env = sqlite_env(tmp_path / "events.sqlite")
    else:
        env = postgres_env(request.getfixturevalue("pg_url"))
    dispatch = new_dispatch(env=env)
    try:
        yield dispatch
    finally:
        dispatch.close()


def _on_job(app: Dispatch, call_sign: str = "A-1") -> tuple[UUID, UUID]:
    unit = app.register_unit(call_sign, UnitKind.ALS, "admin", home=HOME)
    incident = app.report_incident(
        location=HOME, address="Städtle 1", nature="cardiac arrest", priority=Priority.A,
        actor="d.one",
    )  # fmt: skip
    app.assign_units(incident, [UnitChoice(unit)], "d.one")
    return unit, incident


def _events(app: Dispatch, ident: UUID) -> list[str]:
    return [type(e).__name__ for e in app.events.get(ident)]


def test_a_replayed_status_answers_the_first_result_and_records_nothing_more(
    app: Dispatch,
) -> None:
    unit, incident = _on_job(app)
    press = status_once(unit, "c-1", UnitStatus.EN_ROUTE, "", incident)

    first = app.update_unit_status(
        unit, UnitStatus.EN_ROUTE, "crew", once=press, for_incident=incident
    )
    again = app.update_unit_status(
        unit, UnitStatus.EN_ROUTE, "crew", once=press, for_incident=incident
    )

    assert first == {"status": "en_route"}
    assert again == {"status": "en_route", "replayed": True}
    assert _events(app, unit).count("StatusChanged") == 1
    assert app.get_unit(unit).status is UnitStatus.EN_ROUTE


def test_a_replayed_available_does_not_clear_the_unit_from_its_next_job(app: Dispatch) -> None:
    unit, first_job = _on_job(app)
    for step in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        app.update_unit_status(unit, step, "crew")
    done = status_once(unit, "done-1", UnitStatus.AVAILABLE, "", first_job)
    app.update_unit_status(unit, UnitStatus.AVAILABLE, "crew", once=done, for_incident=first_job)
    second_job = app.report_incident(
        location=HOME, address="Au 2", nature="fall", priority=Priority.C, actor="d.one"
    )
    app.assign_units(second_job, [UnitChoice(unit)], "d.one")
    for step in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        app.update_unit_status(unit, step, "crew")

    answer = app.update_unit_status(
        unit, UnitStatus.AVAILABLE, "crew", once=done, for_incident=first_job
    )

    assert answer["replayed"] is True
    assert app.get_unit(unit).status is UnitStatus.ON_SCENE
    assert app.get_incident(second_job).active_unit_ids == [unit]


def test_the_same_command_id_with_other_content_is_refused_and_does_nothing(
    app: Dispatch,
) -> None:
    unit, incident = _on_job(app)
    app.update_unit_status(
        unit,
        UnitStatus.EN_ROUTE,
        "crew",
        once=status_once(unit, "c-2", UnitStatus.EN_ROUTE, "", None),
    )
    before = _events(app, unit)

    with pytest.raises(
        CommandIdReused, match="command_id: 'c-2' was already used for status en_route"
    ):
        app.update_unit_status(
            unit, UnitStatus.ON_SCENE, "crew",
            once=status_once(unit, "c-2", UnitStatus.ON_SCENE, "", None),
        )  # fmt: skip

    assert _events(app, unit) == before
    assert app.get_unit(unit).status is UnitStatus.EN_ROUTE
    assert app.get_incident(incident).active_unit_ids == [unit]


def test_a_refusal_is_recorded_so_a_replay_is_refused_the_same_even_when_it_would_fit_now(
    app: Dispatch,
) -> None:
    unit, _incident = _on_job(app)
    early = status_once(unit, "c-3", UnitStatus.ON_SCENE, "", None)
    with pytest.raises(InvalidTransition) as first:
        app.update_unit_status(unit, UnitStatus.ON_SCENE, "crew", once=early)
    app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew")  # on scene would fit now

    with pytest.raises(RefusedBefore) as again:
        app.update_unit_status(unit, UnitStatus.ON_SCENE, "crew", once=early)

    assert str(again.value) == str(first.value)
    assert app.get_unit(unit).status is UnitStatus.EN_ROUTE


def test_a_step_meant_for_another_incident_is_refused(app: Dispatch) -> None:
    unit, _incident = _on_job(app)
    elsewhere = app.report_incident(
        location=HOME, address="Au 3", nature="fall", priority=Priority.C, actor="d.one"
    )

    with pytest.raises(NotTheSameIncident, match="incident_id: the step was for incident"):
        app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew", for_incident=elsewhere)

    assert app.get_unit(unit).status is UnitStatus.DISPATCHED


def test_ids_are_per_unit_and_an_acknowledgement_replays_its_first_answer(app: Dispatch) -> None:
    one, _ = _on_job(app, "A-1")
    two, _ = _on_job(app, "A-2")
    ack = {"type": "ack"}

    assert app.acknowledge_assignment(one, "crew", once=Once(crew_scope(one), "same", ack))
    assert app.acknowledge_assignment(two, "crew", once=Once(crew_scope(two), "same", ack))
    assert app.acknowledge_assignment(one, "crew", once=Once(crew_scope(one), "same", ack))
    assert _events(app, one).count("Acknowledged") == 1


def test_concurrent_replays_of_one_command_apply_it_once(app: Dispatch) -> None:
    unit, incident = _on_job(app)
    press = status_once(unit, "c-4", UnitStatus.EN_ROUTE, "", incident)
    barrier = threading.Barrier(4, timeout=30)
    answers: list[object] = []

    def replay() -> None:
        barrier.wait()
        try:
            answers.append(app.update_unit_status(unit, UnitStatus.EN_ROUTE, "crew", once=press))
        except Exception as exc:  # judged below
            answers.append(exc)

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(answers) == 4
    assert all(isinstance(a, dict) and a["status"] == "en_route" for a in answers), answers
    assert _events(app, unit).count("StatusChanged") == 1


def test_bad_command_ids_name_the_field(app: Dispatch) -> None:
    unit, _ = _on_job(app)
    for bad in ("", "x" * 101, "has space", 7):
        with pytest.raises(InvalidValue, match="command_id"):
            status_once(unit, bad, UnitStatus.EN_ROUTE, "", None)


def _hospital(app: Dispatch, code: str) -> None:
    app.register_hospital(code, f"Spital {code}", HOME, ["emergency"], "admin")


def test_the_crew_records_its_destination_on_the_incident(app: Dispatch) -> None:
    unit, incident = _on_job(app)
    _hospital(app, "LLS")
    for step in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        app.update_unit_status(unit, step, "crew")

    answer = app.choose_destination(unit, "LLS", "crew.a1")
    app.choose_destination(unit, "LLS", "crew.a1")  # the same again: nothing more recorded

    chosen = app.get_incident(incident).destinations[unit]
    assert (answer["destination"], chosen.code, chosen.chosen_by) == ("LLS", "LLS", "crew.a1")
    assert _events(app, incident).count("DestinationChosen") == 1


def test_a_destination_is_refused_when_unknown_closed_or_not_valid_now(app: Dispatch) -> None:
    unit, incident = _on_job(app)
    _hospital(app, "LLS")
    _hospital(app, "SHUT")
    app.update_hospital_status(
        hospital_id_for("SHUT"), "admin", ed_status="closed", reason="CT down"
    )

    with pytest.raises(InvalidTransition, match="on scene or transporting"):
        app.choose_destination(unit, "LLS", "crew")  # still dispatched
    for step in (UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE):
        app.update_unit_status(unit, step, "crew")
    with pytest.raises(InvalidValue, match="hospital: no hospital with code 'NOPE'"):
        app.choose_destination(unit, "NOPE", "crew")
    with pytest.raises(InvalidTransition, match=r"hospital SHUT cannot go from 'closed'.*CT down"):
        app.choose_destination(unit, "SHUT", "crew")

    assert "DestinationChosen" not in _events(app, incident)
