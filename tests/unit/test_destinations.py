"""Hospital status rules and destination ranking: closed skipped, advisory after normal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from najda.domain.application import Dispatch
from najda.domain.dispatch.hospital_status import EdStatus, Service, StatusChange, require_services
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.dispatch.stations_hospitals import hospital_id_for
from najda.domain.errors import InvalidValue
from najda.domain.values import Position
from najda.geo.roads import load_jemss_roads
from najda.geo.speed import SpeedModel
from najda.projections.base import NotificationSource
from najda.projections.dispatch.destinations import ByRoad, StraightLine, need_of, rank_destinations
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from tests.fakes import new_dispatch
from tests.unit.jemss_fixture import OFF_ROAD_KM_PER_DAY, write_roads

PICKUP = (36.75, 3.06)
STRAIGHT = StraightLine(SpeedModel())


def _north(metres: float) -> Position:
    return Position(PICKUP[0] + metres / 111_320.0, PICKUP[1])


def _directory(app: Dispatch) -> ReferenceDirectory:
    directory = ReferenceDirectory()
    asyncio.run(directory.apply(NotificationSource(app).read(0, 10_000)))
    return directory


@pytest.fixture
def app() -> Dispatch:
    """Four stroke centres 1, 2, 3 and 4 km north of the pick-up; a psychiatric unit."""
    app = new_dispatch()  # in-memory store: the real commands and events, no I/O
    for km in (1, 2, 3, 4):
        app.register_hospital(f"H{km}", f"Hospital {km}", _north(km * 1000), ["stroke", "ed"], "t")
    app.register_hospital("PSY", "Mental health centre", _north(500), ["psychiatric"], "t")
    return app


def _codes(app: Dispatch, need: Service | None) -> list[str]:
    ranked = rank_destinations(*PICKUP, _directory(app), need, STRAIGHT)
    return [d.hospital.code for d in ranked.offered]


def test_the_nearest_hospitals_with_the_service_come_first(app: Dispatch) -> None:
    ranked = rank_destinations(*PICKUP, _directory(app), Service.STROKE, STRAIGHT, limit=3)

    assert [d.hospital.code for d in ranked.offered] == ["H1", "H2", "H3"]
    etas = [d.eta_s for d in ranked.offered]
    assert etas == sorted(etas) and etas[0] == pytest.approx(SpeedModel().eta_s(1000), abs=1)
    assert [(x.hospital.code, x.why) for x in ranked.excluded] == [("PSY", "no stroke service")]


def test_a_closed_hospital_is_skipped_and_an_advisory_one_ranks_after_normal_ones(
    app: Dispatch,
) -> None:
    app.update_hospital_status(
        hospital_id_for("H1"), "d.ali", ed_status="closed", reason="CT scanner down"
    )
    app.update_hospital_status(
        hospital_id_for("H2"), "d.ali", ed_status=EdStatus.ADVISORY, reason="full"
    )

    ranked = rank_destinations(*PICKUP, _directory(app), Service.STROKE, STRAIGHT)

    assert [(d.hospital.code, d.advisory) for d in ranked.offered] == [
        ("H3", False),
        ("H4", False),
        ("H2", True),
    ]
    assert ("H1", "emergency department closed: CT scanner down") in [
        (x.hospital.code, x.why) for x in ranked.excluded
    ]


def test_without_a_named_need_any_open_emergency_department_is_offered(app: Dispatch) -> None:
    assert _codes(app, None) == ["H1", "H2", "H3", "H4"]  # "ed" stands for "emergency"


def test_a_psychiatric_need_skips_a_unit_reporting_no_psychiatric_beds(app: Dispatch) -> None:
    psy = hospital_id_for("PSY")
    assert _codes(app, Service.PSYCHIATRY) == ["PSY"]  # beds never reported: not excluded

    app.update_hospital_status(psy, "liaison", beds={"psychiatric": 0, "general": 4})
    ranked = rank_destinations(*PICKUP, _directory(app), Service.PSYCHIATRY, STRAIGHT)
    assert ranked.offered == []
    assert ("PSY", "no psychiatric beds") in [(x.hospital.code, x.why) for x in ranked.excluded]

    app.update_hospital_status(psy, "liaison", beds={"psychiatric": 2})
    (offered,) = rank_destinations(*PICKUP, _directory(app), Service.PSYCHIATRY, STRAIGHT).offered
    assert offered.beds == 2
    assert dict(offered.status.beds) == {"psychiatric": 2, "general": 4}  # others kept


def test_a_status_update_can_change_the_services(app: Dispatch) -> None:
    app.update_hospital_status(hospital_id_for("H1"), "admin", services=["emergency"])

    assert _codes(app, Service.STROKE) == ["H2", "H3", "H4"]
    assert _directory(app).hospitals[hospital_id_for("H1")].services == ("emergency",)


def test_road_travel_times_rank_by_road_not_straight_line(tmp_path: Path) -> None:
    write_roads(tmp_path / "roads")
    speeds = {m: v * 1000 / 86_400 for m, v in OFF_ROAD_KM_PER_DAY.items()}
    network = load_jemss_roads(tmp_path / "roads", speeds)
    app = new_dispatch()
    for code, lat, lon in (
        ("N2", 40.701, -74.000),
        ("N1", 40.700, -74.000),
        ("N5", 40.703, -74.001),
    ):
        app.register_hospital(code, code, Position(lat, lon), ["emergency"], "t")
    at_node_3 = (40.702, -74.000)

    straight = rank_destinations(*at_node_3, _directory(app), None, STRAIGHT)
    by_road = rank_destinations(*at_node_3, _directory(app), None, ByRoad(network, mode=1))

    assert [d.hospital.code for d in straight.offered] == ["N2", "N5", "N1"]
    # 3→5 is 40 s, 3→1 100 s, and 3→2 goes round by node 1: 160 s.
    assert [d.hospital.code for d in by_road.offered] == ["N5", "N1", "N2"]
    assert [d.eta_s for d in by_road.offered] == pytest.approx([40.0, 100.0, 160.0])


@pytest.mark.parametrize(
    ("nature", "determinant", "need"),
    [
        ("stroke symptoms, facial droop", "", Service.STROKE),
        ("chest pain", "", Service.STEMI),
        ("car crash, trapped", "", Service.TRAUMA),
        ("burns to the arm", "", Service.BURNS),
        ("pregnant, in labour", "", Service.MATERNITY),
        ("infant not feeding", "", Service.PAEDIATRICS),
        ("suicidal ideation", "", Service.PSYCHIATRY),
        ("man acting strangely", "25-A-1", Service.PSYCHIATRY),
        ("fall", "", None),
        ("sickle cell crisis", "", None),
    ],
)
def test_the_need_is_read_from_the_incidents_nature(
    nature: str, determinant: str, need: Service | None
) -> None:
    assert need_of(nature, determinant, default_response_plan()) is need


def test_a_status_change_names_the_bad_field() -> None:
    cases = [
        (StatusChange(), "ed_status"),
        (StatusChange(ed_status="shut"), "ed_status"),
        (StatusChange(ed_status="closed"), "reason"),
        (StatusChange(ed_status="advisory", reason="   "), "reason"),
        (StatusChange(beds={"suites": 2}), "beds.suites"),
        (StatusChange(beds={"icu": -1}), "beds.icu"),
        (StatusChange(services=("stroke", "dentistry")), "services[1]"),
    ]
    for change, field in cases:
        with pytest.raises(InvalidValue) as refused:
            change.checked()
        assert refused.value.field == field, change


def test_service_names_take_their_aliases() -> None:
    assert require_services("services", ["Pediatrics", "psychiatric", "PCI", "stroke"]) == [
        "paediatrics",
        "psychiatry",
        "stemi",
        "stroke",
    ]


def test_a_refused_status_change_records_nothing(app: Dispatch) -> None:
    h1 = hospital_id_for("H1")
    before = app.get_hospital(h1).version
    with pytest.raises(InvalidValue):
        app.update_hospital_status(h1, "d.ali", ed_status="closed")
    assert app.get_hospital(h1).version == before


def test_the_hospital_replays_to_its_last_reported_status(app: Dispatch) -> None:
    h2 = hospital_id_for("H2")
    app.update_hospital_status(h2, "a", ed_status="advisory", reason="busy", beds={"icu": 1})
    app.update_hospital_status(h2, "b", beds={"general": 7})

    hospital = app.repository.get(h2)  # rebuilt from its stored events

    assert (hospital.ed_status, hospital.beds) == (EdStatus.ADVISORY, {"icu": 1, "general": 7})
    assert (hospital.status_by, hospital.status_reason) == ("b", "")
