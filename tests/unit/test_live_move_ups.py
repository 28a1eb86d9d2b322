"""The coverage view's move-ups: under the redeploying coverage policy they are the moves its
own plan makes (asked here again the simulator's way), under the others the greedy ones."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.geo.speed import SpeedModel
from najda.projections.dispatch.read_model_changes import UnitRow
from najda.projections.dispatch.stations_hospitals import Place, ReferenceDirectory
from najda.projections.policies.live import Zones
from najda.projections.policies.move_ups import GREEDY, PLAN
from najda.projections.policies.recommender import CoveragePicture, PolicyRecommender
from tests.policy_floor import Ambulance, FloorSim, Station, floor_sim, planned_moves, unit_row

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
#: Four stations 10–20 km apart; every ambulance starts at North or West.
STATIONS = [
    Station(uuid.uuid5(uuid.NAMESPACE_DNS, code), code, name, lat, lon)
    for code, name, lat, lon in (
        ("S1", "North", 47.20, 9.50),
        ("S2", "South", 47.05, 9.50),
        ("S3", "East", 47.12, 9.64),
        ("S4", "West", 47.13, 9.36),
    )
]
#: Call sign, station index, available.
ROSTER = [("A1", 0, True), ("A2", 0, True), ("A3", 0, True), ("A4", 3, False), ("A5", 3, True)]


def _zones() -> Zones:
    """A grid over the four stations' area, in two named zones (north and south of 47.125)."""
    lats, lons = np.meshgrid(np.linspace(47.02, 47.23, 8), np.linspace(9.33, 9.67, 8))
    lats, lons = lats.ravel(), lons.ravel()
    zone = (lats < 47.125).astype(int)
    weights = np.full(lats.size, 1.0 / lats.size)
    return Zones(lats, lons, weights, zone, ("Upland", "Lowland"))


class FloorLocator:
    """The ambulances' rows (all the recommender reads of the locator), by call sign."""

    def __init__(self, rows: list[UnitRow]) -> None:
        self.rows = rows
        self.speed = SpeedModel()

    async def all_units(self) -> list[UnitRow]:
        return sorted(self.rows, key=lambda r: r.call_sign)


def _ambulances() -> list[Ambulance]:
    out = []
    for sign, station, available in ROSTER:
        s = STATIONS[station]
        out.append(
            Ambulance(
                uuid.uuid5(uuid.NAMESPACE_DNS, sign), sign, s.lat + 0.001, s.lon - 0.001, available
            )
        )
    return out


def _recommender(policy: str, ambulances: list[Ambulance]) -> PolicyRecommender:
    rows = [unit_row(a, AT) for a in ambulances]
    locator = FloorLocator(rows)
    reference = ReferenceDirectory()
    reference.stations = {s.id: Place(s.id, s.code, s.name, s.lat, s.lon, AT) for s in STATIONS}
    return PolicyRecommender(
        policy,
        locator,
        locator,
        reference,
        DEFAULT_TARGETS,  # type: ignore[arg-type]
        zones=_zones(),
        now=lambda: AT,
    )


def _picture(recommender: PolicyRecommender) -> CoveragePicture:
    picture = asyncio.run(recommender.coverage())
    assert picture is not None
    return picture


def _sim(ambulances: list[Ambulance]) -> FloorSim:
    return floor_sim(STATIONS, ambulances, _zones(), DEFAULT_TARGETS)


def _moves(picture: CoveragePicture) -> list[tuple[str, str]]:
    return sorted((m.call_sign, m.to_station) for m in picture.move_ups)


def test_the_coverage_policy_suggests_exactly_the_moves_its_redeploy_plan_makes() -> None:
    ambulances = _ambulances()
    recommender = _recommender("coverage", ambulances)
    picture = _picture(recommender)
    planned = planned_moves("coverage", _sim(ambulances))
    assert len(planned) >= 2  # three wait at North, one at West: the plan spreads them
    assert picture.move_ups_by == PLAN and picture.policy == "coverage"
    assert _moves(picture) == planned
    # Each says from where, which post it fills and what it changes; best post first.
    posts = [m.post for m in picture.move_ups]
    assert posts == sorted(posts) and all(p is not None for p in posts)
    assert all(m.posts == 4 for m in picture.move_ups)  # four free ambulances, four posts
    codes = {s.code: s for s in STATIONS}
    for move in picture.move_ups:
        assert move.from_station in {"S1", "S4"}
        site = codes[move.to_station]
        assert move.to_station_id == site.id
        assert move.reason.startswith(
            f"fills post {move.post} of 4 in the coverage plan: {site.name} should hold 1,"
        )
        assert move.expected_before is not None and move.expected_after is not None
        assert (
            f"expected cover {move.expected_before:.1%} → {move.expected_after:.1%}" in move.reason
        )


def test_a_suggested_move_once_made_leaves_the_rest_of_the_plan() -> None:
    ambulances = _ambulances()
    recommender = _recommender("coverage", ambulances)
    first = _picture(recommender).move_ups[0]
    recommender.posts.posts[first.unit_id] = first.to_station_id  # as its Relocated event does
    after = _picture(recommender)
    moved = [
        a
        if a.unit_id != first.unit_id
        else Ambulance(a.unit_id, a.call_sign, a.lat, a.lon, a.available, first.to_station_id)
        for a in ambulances
    ]
    assert _moves(after) == planned_moves("coverage", _sim(moved))
    assert all(m.unit_id != first.unit_id for m in after.move_ups)
    assert after.covered == pytest.approx(
        _picture(_recommender("coverage", ambulances)).covered + first.gain, abs=1e-3
    )


@pytest.mark.parametrize("policy", ["closest-straight", "coverage-straight"])
def test_policies_without_a_redeploy_plan_keep_the_greedy_move_ups(policy: str) -> None:
    picture = _picture(_recommender(policy, _ambulances()))
    assert picture.move_ups_by == GREEDY and picture.policy == policy
    assert picture.move_ups and len(picture.move_ups) <= 3
    gains = [m.gain for m in picture.move_ups]
    assert all(g > 0 for g in gains)
    assert all(m.post is None and m.reason.startswith("adds ") for m in picture.move_ups)
