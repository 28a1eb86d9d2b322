"""The embedded locator's k-d tree answers equal a brute-force geodesic ranking."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from najda.domain.dispatch.unit import Unit
from najda.domain.values import Position, UnitKind
from najda.geo.distance import geodesic_m
from najda.projections.base import Tracked
from najda.projections.dispatch import in_memory
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Query

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _locator(seed: int, count: int, spread_deg: float) -> EmbeddedLocator:
    rnd = random.Random(seed)
    locator = EmbeddedLocator()
    batch: list[Tracked] = []
    for n in range(count):
        unit = Unit(
            id=uuid4(),
            call_sign=f"U{n:04d}",
            kind=rnd.choice(list(UnitKind)),
            capabilities=rnd.sample(["o2", "aed", "peds", "bariatric"], rnd.randint(0, 2)),
            station_id=None,
            home=Position(
                36.7 + rnd.uniform(-spread_deg, spread_deg),
                3.0 + rnd.uniform(-spread_deg, spread_deg),
            ),
            actor="test",
            at=T0 + timedelta(seconds=n),
        )
        batch.extend(Tracked(len(batch) + 1, e) for e in unit.collect_events())
    asyncio.run(locator.apply(batch))
    return locator


def _brute_force(locator: EmbeddedLocator, query: Query) -> list[tuple[UUID, float]]:
    rows = asyncio.run(locator.all_units())
    ranked = sorted(
        (
            (round(geodesic_m(query.lat, query.lon, r.lat, r.lon), 3), r.call_sign, r.unit_id)
            for r in rows
            if query.accepts(r)
        ),
    )
    return [(unit_id, d) for d, _, unit_id in ranked[: query.limit]]


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    lat=st.floats(36.0, 37.4),
    lon=st.floats(2.3, 3.7),
    limit=st.integers(1, 12),
    kinds=st.sets(st.sampled_from(list(UnitKind)), max_size=3),
    needs_o2=st.booleans(),
)
def test_nearest_equals_brute_force_geodesic_ranking(
    seed: int, lat: float, lon: float, limit: int, kinds: set[UnitKind], needs_o2: bool
) -> None:
    locator = _locator(seed, 150, 0.6)
    query = Query(
        lat=lat,
        lon=lon,
        kinds=frozenset(kinds) or None,
        capabilities=frozenset({"o2"}) if needs_o2 else frozenset(),
        limit=limit,
    )
    found = asyncio.run(locator.nearest(query))
    assert [(c.unit_id, c.distance_m) for c in found] == _brute_force(locator, query)


def test_nearest_is_exact_across_a_continent_where_the_sphere_errs_most() -> None:
    locator = _locator(7, 300, 40.0)
    for lat, lon in [(0.0, 0.0), (60.0, 20.0), (-30.0, -10.0), (36.7, 3.0)]:
        query = Query(lat=lat, lon=lon, limit=10)
        found = asyncio.run(locator.nearest(query))
        assert [(c.unit_id, c.distance_m) for c in found] == _brute_force(locator, query)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(1, in_memory.SMALL_FLEET),
    lat=st.floats(36.0, 37.4),
    lon=st.floats(2.3, 3.7),
    limit=st.integers(1, 6),
    kinds=st.sets(st.sampled_from(list(UnitKind)), max_size=3),
)
def test_a_small_fleet_ranked_whole_gives_what_the_trees_give(
    seed: int, count: int, lat: float, lon: float, limit: int, kinds: set[UnitKind]
) -> None:
    locator = _locator(seed, count, 0.6)
    query = Query(lat=lat, lon=lon, kinds=frozenset(kinds) or None, limit=limit)
    whole = asyncio.run(locator.nearest(query))
    small, in_memory.SMALL_FLEET = in_memory.SMALL_FLEET, 0  # the k-d tree path
    try:
        by_trees = asyncio.run(locator.nearest(query))
    finally:
        in_memory.SMALL_FLEET = small
    assert whole == by_trees
    assert [(c.unit_id, c.distance_m) for c in whole] == _brute_force(locator, query)
