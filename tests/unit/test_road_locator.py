"""The road locator ranks the wrapped locator's units by road ETA instead of straight line."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from pathlib import Path

import pytest

from najda.domain.values import Position, UnitKind, UnitStatus
from najda.geo.roads import load_jemss_roads
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Query
from najda.projections.dispatch.read_model_changes import UnitMoved
from najda.projections.dispatch.road_locator import RoadLocator
from tests.fakes import new_dispatch
from tests.unit.jemss_fixture import OFF_ROAD_KM_PER_DAY, write_roads

SPEEDS = {m: v * 1000 / 86_400 for m, v in OFF_ROAD_KM_PER_DAY.items()}


def test_a_unit_nearer_in_a_straight_line_but_farther_by_road_ranks_second(
    tmp_path: Path,
) -> None:
    write_roads(tmp_path / "roads")
    network = load_jemss_roads(tmp_path / "roads", SPEEDS)
    app = new_dispatch()  # in-memory store: the real commands and events, no I/O
    app.register_unit("A1", UnitKind.ALS, "test", home=Position(40.7018, -74.000))
    app.register_unit("B1", UnitKind.ALS, "test", home=Position(40.700, -74.000))
    app.register_unit("C1", UnitKind.BLS, "test", home=Position(40.701, -74.000))
    busy = app.register_unit("D1", UnitKind.ALS, "test", home=Position(40.701, -74.000))
    app.update_unit_status(busy, UnitStatus.OUT_OF_SERVICE, "test")
    inner = EmbeddedLocator()

    async def run() -> tuple[list[str], list[str], list[float]]:
        await inner.apply(NotificationSource(app).read(0, 100))
        road = RoadLocator(inner, network, mode=1)
        query = Query(40.701, -74.000, kinds=frozenset({UnitKind.ALS}), limit=5)  # at node 2
        straight = [c.call_sign for c in await inner.nearest(query)]
        ranked = await road.nearest(query)
        return straight, [c.call_sign for c in ranked], [c.eta_s for c in ranked]

    straight, by_road, etas = asyncio.run(run())
    moved_at = app.get_unit(busy).position_at + timedelta(seconds=5)
    moves = [UnitMoved(app.find_unit("A1").id, 40.700, -74.000, moved_at)]
    assert asyncio.run(RoadLocator(inner, network, mode=1).update_positions(moves)) == 1
    row = asyncio.run(inner.get(app.find_unit("A1").id))
    assert row is not None and (row.lat, row.lon) == (40.700, -74.000)
    assert straight == ["A1", "B1"]
    assert by_road == ["B1", "A1"]  # B1: 1→2 is 60 s; A1 snaps to node 3, and 3→2 takes 160 s
    off_road_s = 6_371_008.8 * math.radians(0.0002) / SPEEDS[1]
    assert etas == pytest.approx([60.0, round(160 + off_road_s, 1)])


def test_refuses_a_travel_mode_the_network_lacks(tmp_path: Path) -> None:
    write_roads(tmp_path / "roads")
    network = load_jemss_roads(tmp_path / "roads", SPEEDS)
    with pytest.raises(ValueError, match="travel mode 3"):
        RoadLocator(EmbeddedLocator(), network, mode=3)
