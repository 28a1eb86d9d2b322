"""Dispatch use cases on the in-memory store with an injected clock and id factory."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Recording

from najda.domain.access.user import LastAdministrator
from najda.domain.application import Dispatch, PositionPolicy, UnitChoice
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import ResponsePlan, default_response_plan
from najda.domain.dispatch.unit import Unit
from najda.domain.errors import (
    AlreadyExists,
    ConcurrentChange,
    IncidentHasActiveUnits,
    IncidentNotFound,
    IncidentNotOpen,
    InvalidTransition,
    InvalidValue,
    UnitNotAvailable,
    UnitNotFound,
)
from najda.domain.persistence.atomic_store import retried
from najda.domain.values import IncidentStatus, Position, Priority, UnitKind, UnitStatus
from najda.geo.distance import great_circle_m
from tests.fakes import SequentialIds, StoppedClock, new_app, new_dispatch

S = UnitStatus
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
STATION = Position(50.4400, 30.5000)
SCENE = Position(50.4500, 30.5200)
M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180


class RecordingDispatch(Dispatch):
    """Dispatch that keeps a copy of each aggregate as last saved, to compare with rebuilds.

    A copy, because the command cache hands the saved object itself to the next command.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.saved: dict[UUID, Aggregate] = {}
        super().__init__(*args, **kwargs)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        recordings = super().save(*objs, **kwargs)
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.saved[obj.id] = copy.deepcopy(obj)
        return recordings


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(T0)


@pytest.fixture
def ids() -> SequentialIds:
    return SequentialIds()


@pytest.fixture
def app(clock: StoppedClock, ids: SequentialIds) -> RecordingDispatch:
    return new_app(
        RecordingDispatch, env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock, new_id=ids
    )


@pytest.fixture
def saves(app: Dispatch) -> list[int]:
    """The top notification id of each save, in order (one entry per atomic save)."""
    seen: list[int] = []
    app.add_listener(seen.append)
    return seen


def written(app: Dispatch) -> int:
    return app.recorder.max_notification_id() or 0


def topics_after(app: Dispatch, position: int) -> list[str]:
    """Topics of the notifications stored after `position`, in order."""
    return [n.topic for n in app.recorder.select_notifications(start=position + 1, limit=1000)]


def stored_names(app: Dispatch, originator_id: UUID) -> list[str]:
    return [type(e).__name__ for e in app.events.get(originator_id)]


def add_unit(app: Dispatch, call_sign: str, kind: UnitKind = UnitKind.ALS) -> UUID:
    return app.register_unit(call_sign, kind, "roster", home=STATION)


def add_incident(app: Dispatch, priority: Priority = Priority.D) -> UUID:
    return app.report_incident(
        location=SCENE,
        address="12 Khreshchatyk St",
        nature="chest pain",
        priority=priority,
        actor="call-taker",
    )


def move_unit(app: Dispatch, unit_id: UUID, *statuses: UnitStatus) -> None:
    for status in statuses:
        app.update_unit_status(unit_id, status, "crew")


def north_of(position: Position, metres: float) -> Position:
    return Position(position.lat + metres / M_PER_DEG_LAT, position.lon)


# --- the whole run ---------------------------------------------------------------------


def test_a_call_runs_from_report_through_transport_to_close(
    app: RecordingDispatch, clock: StoppedClock, ids: SequentialIds
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    assert incident_id == ids.issued[0]

    clock.advance(60)
    app.assign_units(incident_id, [UnitChoice(a1, distance_m=1800.0, eta_s=240.0)], "dispatcher")
    assert app.get_unit(a1).status is S.DISPATCHED
    assert app.get_unit(a1).incident_id == incident_id
    assert app.get_incident(incident_id).status is IncidentStatus.DISPATCHED

    for status in (S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL, S.AVAILABLE):
        clock.advance(300)
        app.update_unit_status(a1, status, "crew-a1")
        assert app.get_unit(a1).status is status
        assert app.get_unit(a1).status_at == clock.now

    clock.advance(60)
    app.close_incident(incident_id, "transported to City Hospital", "dispatcher")

    incident = app.get_incident(incident_id)
    assert incident.status is IncidentStatus.CLOSED
    assert incident.ended_at == clock.now
    assert incident.assignments[a1].assigned_at == T0 + timedelta(seconds=60)
    assert stored_names(app, incident_id) == ["Reported", "UnitAssigned", "UnitCleared", "Closed"]
    assert app.get_unit(a1).incident_id is None


def test_assignment_saves_the_unit_and_the_incident_in_one_save(
    app: Dispatch, saves: list[int]
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    before, saves_before = written(app), len(saves)

    position = app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")

    assert len(saves) == saves_before + 1
    assert position == written(app)
    assert topics_after(app, before) == ["najda:Incident.UnitAssigned", "najda:Unit.Dispatched"]


@pytest.mark.parametrize(
    "path",
    [
        pytest.param([S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL], id="after-hospital"),
        pytest.param([S.EN_ROUTE, S.ON_SCENE], id="from-scene-without-transport"),
    ],
)
def test_a_unit_becoming_available_clears_its_assignment_in_the_same_save(
    app: Dispatch, saves: list[int], path: list[UnitStatus]
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    move_unit(app, a1, *path)
    before, saves_before = written(app), len(saves)

    app.update_unit_status(a1, S.AVAILABLE, "crew-a1")

    assert len(saves) == saves_before + 1
    assert topics_after(app, before) == ["najda:Unit.StatusChanged", "najda:Incident.UnitCleared"]
    incident = app.get_incident(incident_id)
    assert incident.active_unit_ids == []
    assert incident.assignments[a1].end_reason == "cleared"
    assert incident.status is IncidentStatus.DISPATCHED


def test_a_status_change_while_committed_touches_only_the_unit(app: Dispatch) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    before = written(app)

    app.update_unit_status(a1, S.EN_ROUTE, "crew-a1")

    assert topics_after(app, before) == ["najda:Unit.StatusChanged"]


def test_refuses_closing_while_a_unit_is_still_working_and_writes_nothing(app: Dispatch) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    move_unit(app, a1, S.EN_ROUTE, S.ON_SCENE)
    before = written(app)

    with pytest.raises(IncidentHasActiveUnits, match="A1"):
        app.close_incident(incident_id, "done", "dispatcher")

    assert written(app) == before


def test_releasing_a_unit_saves_both_sides_and_frees_the_unit(
    app: Dispatch, saves: list[int]
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    move_unit(app, a1, S.EN_ROUTE)
    before, saves_before = written(app), len(saves)

    app.release_unit(incident_id, a1, "closer unit became free", "dispatcher")

    assert len(saves) == saves_before + 1
    assert topics_after(app, before) == ["najda:Incident.UnitReleased", "najda:Unit.Released"]
    assert app.get_unit(a1).status is S.AVAILABLE
    assert app.get_incident(incident_id).assignments[a1].end_reason == "closer unit became free"


# --- cancellation ----------------------------------------------------------------------


def test_cancelling_releases_every_active_unit_in_the_same_save(
    app: Dispatch, saves: list[int]
) -> None:
    a1, b2 = add_unit(app, "A1"), add_unit(app, "B2", UnitKind.BLS)
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1), UnitChoice(b2)], "dispatcher")
    move_unit(app, a1, S.EN_ROUTE)
    before, saves_before = written(app), len(saves)

    app.cancel_incident(incident_id, "duplicate of an earlier call", "dispatcher")

    assert len(saves) == saves_before + 1
    assert sorted(topics_after(app, before)) == sorted(
        [
            "najda:Incident.UnitReleased",
            "najda:Incident.UnitReleased",
            "najda:Incident.Cancelled",
            "najda:Unit.Released",
            "najda:Unit.Released",
        ]
    )
    incident = app.get_incident(incident_id)
    assert incident.status is IncidentStatus.CANCELLED
    assert incident.active_unit_ids == []
    for unit_id in (a1, b2):
        unit = app.get_unit(unit_id)
        assert (unit.status, unit.incident_id) == (S.AVAILABLE, None)


def test_refuses_cancelling_while_a_unit_is_transporting_and_writes_nothing(
    app: Dispatch,
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    move_unit(app, a1, S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING)
    before = written(app)

    with pytest.raises(InvalidTransition, match="transporting"):
        app.cancel_incident(incident_id, "caller hung up", "dispatcher")

    assert written(app) == before
    assert app.get_incident(incident_id).is_open


def test_refuses_changing_a_cancelled_incident(app: Dispatch) -> None:
    incident_id = add_incident(app)
    app.cancel_incident(incident_id, "hoax", "dispatcher")
    a1 = add_unit(app, "A1")
    before = written(app)

    with pytest.raises(IncidentNotOpen, match="cancelled"):
        app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    with pytest.raises(IncidentNotOpen):
        app.change_priority(incident_id, Priority.E, "dispatcher")

    assert written(app) == before
    app.add_note(incident_id, "caller rang back to apologise", "dispatcher")
    assert stored_names(app, incident_id)[-1] == "NoteAdded"


# --- refusals that must write nothing --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status"),
    [
        pytest.param([], S.DISPATCHED, id="dispatched"),
        pytest.param([S.EN_ROUTE, S.ON_SCENE], S.ON_SCENE, id="on_scene"),
        pytest.param(
            [S.EN_ROUTE, S.ON_SCENE, S.TRANSPORTING, S.AT_HOSPITAL], S.AT_HOSPITAL, id="at_hospital"
        ),
    ],
)
def test_rejects_assigning_a_unit_busy_on_another_incident_and_writes_nothing(
    app: Dispatch, path: list[UnitStatus], status: UnitStatus
) -> None:
    a1, b2 = add_unit(app, "A1"), add_unit(app, "B2", UnitKind.BLS)
    first, second = add_incident(app), add_incident(app, Priority.E)
    app.assign_units(first, [UnitChoice(a1)], "dispatcher")
    move_unit(app, a1, *path)
    before = written(app)

    with pytest.raises(UnitNotAvailable, match=repr(status.value)) as refused:
        app.assign_units(second, [UnitChoice(b2), UnitChoice(a1)], "dispatcher")

    assert refused.value.call_sign == "A1"
    assert written(app) == before
    assert app.get_unit(b2).status is S.AVAILABLE
    assert app.get_unit(a1).incident_id == first
    assert app.get_incident(second).status is IncidentStatus.PENDING


def test_rejects_assigning_a_unit_that_is_out_of_service(app: Dispatch) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.update_unit_status(a1, S.OUT_OF_SERVICE, "fleet", "brake repair")
    before = written(app)

    with pytest.raises(UnitNotAvailable, match="out_of_service"):
        app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")

    assert written(app) == before


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        pytest.param([], "units", id="none"),
        pytest.param([UnitChoice(UUID(int=9)), UnitChoice(UUID(int=9))], "units", id="twice"),
    ],
)
def test_rejects_an_empty_or_repeated_choice_of_units(
    app: Dispatch, choices: list[UnitChoice], field: str
) -> None:
    incident_id = add_incident(app)

    with pytest.raises(InvalidValue) as refused:
        app.assign_units(incident_id, choices, "dispatcher")

    assert refused.value.field == field


@pytest.mark.parametrize("again", ["A1", "a1", "  a1 "])
def test_rejects_registering_a_call_sign_that_is_taken(app: Dispatch, again: str) -> None:
    add_unit(app, "A1")
    before = written(app)

    with pytest.raises(AlreadyExists, match="A1"):
        app.register_unit(again, UnitKind.BLS, "roster", home=SCENE)

    assert written(app) == before
    assert app.find_unit("a1").kind is UnitKind.ALS


def test_rejects_registering_a_station_code_that_is_taken(app: Dispatch) -> None:
    station_id = app.register_station("ST1", "Central", STATION, "admin")

    with pytest.raises(AlreadyExists, match=r"(?i)st1"):
        app.register_station("st1", "Duplicate", SCENE, "admin")

    assert app.get_station(station_id).name == "Central"


def test_a_unit_registered_at_a_station_starts_there(app: Dispatch) -> None:
    station_id = app.register_station("ST1", "Central", STATION, "admin")

    unit = app.get_unit(app.register_unit("m3", UnitKind.CRISIS, "roster", station_id=station_id))

    assert (unit.call_sign, unit.home, unit.position, unit.status) == (
        "M3",
        STATION,
        STATION,
        S.AVAILABLE,
    )


def test_reports_unknown_ids_as_not_found(app: Dispatch) -> None:
    with pytest.raises(IncidentNotFound):
        app.get_incident(UUID(int=404))
    with pytest.raises(UnitNotFound, match="Z9"):
        app.find_unit("Z9")
    with pytest.raises(UnitNotFound):
        app.update_unit_status(UUID(int=404), S.EN_ROUTE, "crew")


# --- value validation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (91.0, 30.0, "lat"),
        (-90.5, 30.0, "lat"),
        (math.nan, 30.0, "lat"),
        (50.0, 181.0, "lon"),
        (50.0, -math.inf, "lon"),
    ],
)
def test_rejects_a_position_outside_wgs84_naming_the_field(
    lat: float, lon: float, field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        Position(lat, lon)

    assert refused.value.field == field


def test_accepts_positions_on_the_wgs84_bounds() -> None:
    assert Position(90.0, -180.0) == Position(90, -180)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ω", Priority.OMEGA),
        ("ω", Priority.OMEGA),
        ("omega", Priority.OMEGA),
        ("OMEGA", Priority.OMEGA),
        ("O", Priority.OMEGA),
        ("o", Priority.OMEGA),
        ("e", Priority.E),
        (" D ", Priority.D),
        ("a", Priority.A),
    ],
)
def test_parses_priorities_in_any_case(text: str, expected: Priority) -> None:
    assert Priority.parse(text) is expected


@pytest.mark.parametrize("text", ["Z", "", "EE", "1"])
def test_rejects_an_unknown_priority_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Priority.parse(text)

    assert refused.value.field == "priority"


def test_priorities_rank_from_omega_to_e() -> None:
    ranked = sorted(Priority, key=lambda p: p.rank)

    assert ranked == [Priority.OMEGA, Priority.A, Priority.B, Priority.C, Priority.D, Priority.E]


def test_refuses_a_clock_without_a_time_zone(clock: StoppedClock, app: Dispatch) -> None:
    clock.now = datetime(2024, 5, 1, 8, 0)  # naive on purpose

    with pytest.raises(InvalidValue) as refused:
        add_incident(app)

    assert refused.value.field == "clock"
    assert written(app) == 0


def test_refuses_a_call_received_in_the_future(app: Dispatch) -> None:
    with pytest.raises(InvalidValue) as refused:
        app.report_incident(
            location=SCENE,
            address="",
            nature="fall",
            priority=Priority.A,
            actor="call-taker",
            call_received_at=T0 + timedelta(minutes=10),
        )

    assert refused.value.field == "call_received_at"


# --- position reports ------------------------------------------------------------------


@pytest.fixture
def a1(app: Dispatch) -> UUID:
    return add_unit(app, "A1")


def test_records_a_position_that_moved_at_least_200_m(
    app: Dispatch, clock: StoppedClock, a1: UUID
) -> None:
    before = written(app)
    moved = north_of(STATION, 210)

    assert app.report_position(a1, moved, "avl", T0 + timedelta(seconds=5)) is True

    assert topics_after(app, before) == ["najda:Unit.PositionReported"]
    unit = app.get_unit(a1)
    assert (unit.position, unit.position_at) == (moved, T0 + timedelta(seconds=5))


def test_skips_a_small_move_within_a_minute_of_the_last_recorded_position(
    app: Dispatch, a1: UUID
) -> None:
    before = written(app)

    recorded = app.report_position(a1, north_of(STATION, 190), "avl", T0 + timedelta(seconds=59))

    assert recorded is False

    assert written(app) == before
    assert app.get_unit(a1).position == STATION


def test_records_a_small_move_once_a_minute_has_passed_since_the_last_recorded_one(
    app: Dispatch, a1: UUID
) -> None:
    assert not app.report_position(a1, north_of(STATION, 20), "avl", T0 + timedelta(seconds=30))

    assert app.report_position(a1, north_of(STATION, 40), "avl", T0 + timedelta(seconds=60))

    assert app.get_unit(a1).position == north_of(STATION, 40)


def test_ignores_a_report_older_than_the_last_recorded_position(app: Dispatch, a1: UUID) -> None:
    assert app.report_position(a1, north_of(STATION, 500), "avl", T0 + timedelta(seconds=120))
    before = written(app)

    late = app.report_position(a1, north_of(STATION, 5000), "avl", T0 + timedelta(seconds=90))
    same_instant = app.report_position(
        a1, north_of(STATION, 5000), "avl", T0 + timedelta(seconds=120)
    )

    assert (late, same_instant) == (False, False)
    assert written(app) == before
    assert app.get_unit(a1).position == north_of(STATION, 500)


def test_a_position_report_without_a_time_uses_the_clock(
    app: Dispatch, clock: StoppedClock, a1: UUID
) -> None:
    clock.advance(61)

    assert app.report_position(a1, STATION, "avl")

    assert app.get_unit(a1).position_at == clock.now


# --- replay determinism ----------------------------------------------------------------


def test_rebuilding_from_stored_events_equals_the_state_after_the_commands(
    app: RecordingDispatch, clock: StoppedClock
) -> None:
    a1, b2 = add_unit(app, "A1"), add_unit(app, "B2", UnitKind.BLS)
    incident_id = add_incident(app, Priority.C)
    steps: list[Callable[[], object]] = [
        lambda: app.change_priority(incident_id, Priority.E, "dispatcher", "10-E-1"),
        lambda: app.correct_location(incident_id, north_of(SCENE, 80), "14 Khreshchatyk", "d"),
        lambda: app.add_note(incident_id, "gate code 4411", "call-taker"),
        lambda: app.assign_units(incident_id, [UnitChoice(a1, 900.0, 120.0), UnitChoice(b2)], "d"),
        lambda: app.release_unit(incident_id, b2, "not needed", "dispatcher"),
        lambda: move_unit(app, a1, S.EN_ROUTE, S.ON_SCENE, S.AVAILABLE),
        lambda: app.close_incident(incident_id, "treated on scene", "dispatcher"),
    ]
    after_triage: Aggregate | None = None
    for n, step in enumerate(steps):
        clock.advance(45)
        step()
        if n == 0:
            after_triage = app.saved[incident_id]

    for aggregate_id in (incident_id, a1, b2):
        assert app.repository.get(aggregate_id) == app.saved[aggregate_id]
    rebuilt = app.get_incident(incident_id)
    assert isinstance(rebuilt.priority, Priority)
    assert isinstance(rebuilt.location, Position)
    assert all(isinstance(a.kind, UnitKind) for a in rebuilt.assignments.values())
    assert isinstance(app.get_unit(a1).status, UnitStatus)
    assert isinstance(after_triage, Incident)
    assert after_triage.priority is Priority.E
    assert app.get_incident(incident_id, version=2) == after_triage


def test_rebuilding_twice_at_different_times_gives_the_same_state(
    app: Dispatch, clock: StoppedClock
) -> None:
    a1 = add_unit(app, "A1")
    incident_id = add_incident(app)
    app.assign_units(incident_id, [UnitChoice(a1)], "dispatcher")
    first: Aggregate = app.repository.get(incident_id)

    clock.advance(3600)

    assert app.repository.get(incident_id) == first
    assert isinstance(first, Incident)
    assert isinstance(app.repository.get(a1), Unit)


# --- the response plan -----------------------------------------------------------------


def kinds_of(plan: ResponsePlan, priority: Priority, nature: str) -> list[set[UnitKind]]:
    return [set(r.kinds) for r in plan.requirements_for(priority, nature)]


MEDICAL = {UnitKind.ALS, UnitKind.BLS, UnitKind.RESPONDER, UnitKind.SUPERVISOR}


@pytest.mark.parametrize("priority", [Priority.E, Priority.D])
def test_default_plan_sends_als_and_the_nearest_other_unit_to_e_and_d(priority: Priority) -> None:
    plan = default_response_plan()

    assert kinds_of(plan, priority, "cardiac arrest") == [{UnitKind.ALS}, MEDICAL]


def test_default_plan_sends_als_to_c() -> None:
    assert kinds_of(default_response_plan(), Priority.C, "chest pain") == [{UnitKind.ALS}]


@pytest.mark.parametrize("priority", [Priority.B, Priority.A])
def test_default_plan_sends_a_bls_or_als_ambulance_to_b_and_a(priority: Priority) -> None:
    (ambulance,) = default_response_plan().requirements_for(priority, "fall")

    assert set(ambulance.kinds) == {UnitKind.BLS, UnitKind.ALS}
    assert ambulance.accepts(UnitKind.BLS, [])
    assert not ambulance.accepts(UnitKind.RESPONDER, [])


@pytest.mark.parametrize("nature", ["psychiatric crisis", "Suicidal thoughts", "behavioural"])
def test_default_plan_sends_a_crisis_team_to_behavioural_omega_calls(nature: str) -> None:
    plan = default_response_plan()

    assert plan.is_behavioural(nature)
    assert kinds_of(plan, Priority.OMEGA, nature) == [{UnitKind.CRISIS}]


def test_default_plan_treats_a_non_behavioural_omega_call_as_routine() -> None:
    plan = default_response_plan()

    assert not plan.is_behavioural("sprained ankle")
    assert kinds_of(plan, Priority.OMEGA, "sprained ankle") == [{UnitKind.BLS, UnitKind.ALS}]


def test_requirement_needs_every_listed_capability() -> None:
    plan = ResponsePlan.from_mapping(
        {"by_priority": {"B": [{"kinds": ["bls"], "capabilities": ["bariatric"]}]}}
    )
    (requirement,) = plan.requirements_for(Priority.B, "fall")

    assert requirement.accepts(UnitKind.BLS, ["bariatric", "o2"])
    assert not requirement.accepts(UnitKind.BLS, ["o2"])


def test_plan_from_mapping_overrides_one_priority_and_keeps_the_rest() -> None:
    default = default_response_plan()

    plan = ResponsePlan.from_mapping(
        {"by_priority": {"c": [{"kinds": ["als", "responder"], "count": 2, "label": "two"}]}}
    )

    (requirement,) = plan.requirements_for(Priority.C, "chest pain")
    assert (requirement.label, requirement.kinds, requirement.count) == (
        "two",
        frozenset({UnitKind.ALS, UnitKind.RESPONDER}),
        2,
    )
    for priority in Priority:
        if priority is not Priority.C:
            assert plan.by_priority[priority] == default.by_priority[priority]
    assert plan.behavioural == default.behavioural
    assert plan.behavioural_pattern == default.behavioural_pattern


def test_plan_from_mapping_accepts_omega_by_name() -> None:
    plan = ResponsePlan.from_mapping({"behavioural": {"omega": [{"kinds": ["crisis", "bls"]}]}})

    assert kinds_of(plan, Priority.OMEGA, "mental health") == [{UnitKind.CRISIS, UnitKind.BLS}]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        pytest.param({"by_priority": {"C": [{"kinds": ["helicopter"]}]}}, "by_priority.C.kinds"),
        pytest.param({"by_priority": {"C": [{"kinds": []}]}}, "by_priority.C.kinds", id="empty"),
        pytest.param({"by_priority": {"C": [{"label": "x"}]}}, "by_priority.C.kinds", id="none"),
        pytest.param({"by_priority": {"C": [{"kinds": 3}]}}, "by_priority.C.kinds", id="number"),
        pytest.param({"behavioural": {"A": [{"kinds": ["cop"]}]}}, "behavioural.A.kinds"),
        pytest.param(
            {"by_priority": {"C": [{"kinds": ["als"], "count": 0}]}}, "by_priority.C.count"
        ),
        pytest.param({"by_priority": {"C": []}}, "by_priority.C", id="no-lines"),
        pytest.param({"by_priority": {"C": ["als"]}}, "by_priority.C", id="line-not-object"),
        pytest.param({"by_priority": ["C"]}, "by_priority", id="section-not-object"),
        pytest.param({"by_priority": {"Z": [{"kinds": ["als"]}]}}, "priority", id="priority"),
    ],
)
def test_plan_from_mapping_rejects_bad_lines_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidValue) as refused:
        ResponsePlan.from_mapping(data)

    assert refused.value.field == field


def test_reassigning_a_released_unit_keeps_the_earlier_assignment_in_history() -> None:
    from najda.domain.application import UnitChoice
    from najda.domain.values import Position, Priority, UnitKind

    app = new_dispatch(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    unit = app.register_unit("R-1", UnitKind.ALS, "admin", home=Position(36.7, 3.0))
    incident = app.report_incident(
        location=Position(36.71, 3.01), address="", nature="fall", priority=Priority.C, actor="d"
    )
    app.assign_units(incident, [UnitChoice(unit, 900.0, 120.0)], "d")
    app.release_unit(incident, unit, "diverted", "d")
    app.assign_units(incident, [UnitChoice(unit, 400.0, 60.0)], "d")

    history = app.get_incident(incident).assignment_history
    assert [(a.active, a.end_reason, a.distance_m) for a in history] == [
        (False, "diverted", 900.0),
        (True, None, 400.0),
    ]


def test_a_refused_multi_unit_assignment_leaves_no_half_changed_unit_behind() -> None:
    from najda.domain.application import UnitChoice
    from najda.domain.errors import UnitNotAvailable
    from najda.domain.values import Position, Priority, UnitKind, UnitStatus

    app = new_dispatch(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    free = app.register_unit("F-1", UnitKind.ALS, "admin", home=Position(36.7, 3.0))
    busy = app.register_unit("B-1", UnitKind.BLS, "admin", home=Position(36.7, 3.0))
    app.update_unit_status(busy, UnitStatus.OUT_OF_SERVICE, "crew")
    first, second = (
        app.report_incident(
            location=Position(36.71, 3.01), address="", nature="fall", priority=p, actor="d"
        )
        for p in (Priority.E, Priority.C)
    )

    # The free unit is dispatched in memory before the busy one is refused: that copy must
    # be thrown away, not kept for the next command.
    with pytest.raises(UnitNotAvailable):
        app.assign_units(first, [UnitChoice(free), UnitChoice(busy)], "d")
    app.assign_units(second, [UnitChoice(free)], "d")

    assert app.get_unit(free).incident_id == second
    assert not app.get_incident(first).assignments


def test_an_avl_batch_records_what_matters_in_one_atomic_save(
    app: Dispatch, saves: list[int], a1: UUID
) -> None:
    b1 = add_unit(app, "B1", UnitKind.BLS)
    before = written(app)
    far = north_of(STATION, 300)
    reports = [
        (a1, far, T0 + timedelta(seconds=5)),  # 300 m: recorded
        (a1, north_of(STATION, 350), T0 + timedelta(seconds=6)),  # 50 m on from there: not
        (b1, north_of(STATION, 20), T0 + timedelta(seconds=5)),  # 20 m: not
    ]
    del saves[:]

    assert app.report_positions(reports, "avl") == [True, False, False]

    assert topics_after(app, before) == ["najda:Unit.PositionReported"]
    assert len(saves) == 1
    assert app.get_unit(a1).position == far
    assert app.report_positions(
        [(b1, north_of(STATION, 20), T0 + timedelta(seconds=61))], "avl"
    ) == [True]  # a minute since its last recorded position


def test_refuses_revoking_the_last_administrator_whoever_calls(app: Dispatch) -> None:
    app.add_user("ops.one", "admin", "test")
    app.add_user("d.one", "dispatcher", "test")
    with pytest.raises(LastAdministrator, match=r"ops\.one is the last administrator"):
        app.revoke_user("ops.one", "test")
    assert not app.get_user("ops.one").revoked
    app.add_user("ops.two", "admin", "test")
    app.revoke_user("ops.one", "test")
    app.revoke_user("d.one", "test")  # other roles are never the last administrator
    assert app.get_user("ops.one").revoked and app.get_user("d.one").revoked
    assert app.administrators() == {app.get_user("ops.two").id}
    with pytest.raises(LastAdministrator):
        app.revoke_user("ops.two", "test")


class Flaky(Dispatch):
    """A command that loses its race a given number of times, and one that calls it."""

    calls = 0

    @retried
    def flaky(self, losses: int) -> int:
        self.calls += 1
        if self.calls <= losses:
            raise ConcurrentChange("lost the race")
        return self.calls

    @retried
    def outer(self, losses: int) -> int:
        return self.flaky(losses)


def test_a_retried_command_runs_again_whole_after_a_lost_race_at_most_three_times() -> None:
    assert new_app(Flaky).flaky(2) == 3
    beaten = new_app(Flaky)
    with pytest.raises(ConcurrentChange):
        beaten.flaky(3)
    assert beaten.calls == 3
    nested = new_app(Flaky)
    with pytest.raises(ConcurrentChange):
        nested.outer(10)
    assert nested.calls == 3  # the inner command is part of the outer one: never 3 × 3
    assert new_app(Flaky).outer(1) == 2


def test_a_position_becomes_an_event_when_it_moved_far_enough_or_the_last_is_old() -> None:
    policy = PositionPolicy(great_circle_m, min_move_m=200.0, max_age=timedelta(seconds=60))
    here = Position(50.0, 30.0)
    near = Position(50.001, 30.0)  # about 111 m north
    far = Position(50.002, 30.0)  # about 222 m north
    assert not policy.worth_recording(here, T0, far, T0)  # not newer than the last
    assert not policy.worth_recording(here, T0, near, T0 + timedelta(seconds=59))
    assert policy.worth_recording(here, T0, far, T0 + timedelta(seconds=1))
    assert policy.worth_recording(here, T0, near, T0 + timedelta(seconds=60))


def test_the_position_policy_measures_moves_with_the_distance_it_is_given() -> None:
    """The domain keeps no formula: a distance that calls every move 1 km records a report
    that geo's great circle calls 1 m, and one that calls every move 0 m records none
    until the last position is old."""
    here, a_metre = Position(50.0, 30.0), Position(50.000009, 30.0)
    soon, late = T0 + timedelta(seconds=1), T0 + timedelta(seconds=60)
    asked: list[tuple[float, float, float, float]] = []

    def one_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        asked.append((lat1, lon1, lat2, lon2))
        return 1_000.0

    assert not PositionPolicy(great_circle_m).worth_recording(here, T0, a_metre, soon)
    assert PositionPolicy(one_km).worth_recording(here, T0, a_metre, soon)
    assert asked == [(here.lat, here.lon, a_metre.lat, a_metre.lon)]
    nowhere = PositionPolicy(lambda *_: 0.0)
    assert not nowhere.worth_recording(here, T0, Position(51.0, 31.0), soon)
    assert nowhere.worth_recording(here, T0, Position(51.0, 31.0), late)


def test_the_application_takes_its_distance_from_whoever_builds_it() -> None:
    """`Dispatch` measures with the injected distance (positions and the default policy);
    without one it refuses to be built, naming what to pass, rather than guess a formula."""
    app = new_dispatch({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=StoppedClock(T0))
    assert app.distance is great_circle_m and app.position_policy.distance is great_circle_m
    clock = StoppedClock(T0)
    far_enough = Dispatch(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, distance=lambda *_: 1e6, clock=clock
    )
    unit = far_enough.register_unit("A-1", UnitKind.ALS, "admin", home=STATION)
    clock.advance(1)
    assert far_enough.report_position(unit, north_of(STATION, 1), "avl") is True
    assert (
        app.report_position(
            app.register_unit("A-1", UnitKind.ALS, "admin", home=STATION),
            north_of(STATION, 1),
            "avl",
            T0 + timedelta(seconds=1),
        )
        is False
    )
    with pytest.raises(TypeError, match="distance"):
        Dispatch({"PERSISTENCE_MODULE": "eventsourcing.popo"})  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="great_circle_m"):
        Dispatch({"PERSISTENCE_MODULE": "eventsourcing.popo"}, distance=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="great_circle_m"):
        PositionPolicy(None)  # type: ignore[arg-type]
