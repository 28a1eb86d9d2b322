"""Possible duplicate calls: near in place and in time, not dismissed, nearest first, as
measured by the distance function the application is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from najda.domain.dispatch.duplicates import OpenCall, possible_duplicates
from najda.domain.values import Position
from najda.geo.distance import great_circle_m

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
HERE = Position(36.75, 3.06)


def _call(n: int, north_m: float = 0.0, minutes: float = 0.0) -> OpenCall:
    where = Position(HERE.lat + north_m / 111_195.0, HERE.lon)
    return OpenCall(UUID(int=n), where, T0 + timedelta(minutes=minutes))


def test_near_calls_in_the_window_are_offered_nearest_first() -> None:
    new = _call(1)
    others = [_call(2, north_m=250), _call(3, north_m=50, minutes=-10), _call(1)]
    found = possible_duplicates(new, others, distance=great_circle_m)
    assert [c.incident_id.int for c, _ in found] == [3, 2]
    assert round(found[0][1]) == 50


def test_far_old_and_dismissed_calls_are_not_offered() -> None:
    new = _call(1)
    others = [_call(2, north_m=400), _call(3, minutes=-45), _call(4, north_m=10)]
    assert possible_duplicates(new, others, [UUID(int=4)], distance=great_circle_m) == []


def test_the_injected_distance_decides_what_is_near() -> None:
    """No formula of the rule's own: a distance that calls everything 1 km away offers
    nothing, one that calls everything 5 m away offers the far call too (with that figure)."""
    new, far = _call(1), _call(2, north_m=2_000)
    asked: list[tuple[float, float, float, float]] = []

    def five_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
        asked.append((lat1, lon1, lat2, lon2))
        return 5.0

    assert possible_duplicates(new, [far], distance=great_circle_m) == []
    assert possible_duplicates(new, [far], distance=five_m) == [(far, 5.0)]
    assert asked == [(HERE.lat, HERE.lon, far.location.lat, far.location.lon)]
    near = _call(3, north_m=10)
    assert possible_duplicates(new, [near], distance=lambda *_: 1_000.0) == []
