"""Command inputs and limits: the clock, id and distance types, unit choices, time windows,
position policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from najda.domain.values import Position

#: How far a reported time may run ahead of our clock (device clocks drift).
MAX_CLOCK_SKEW = timedelta(minutes=5)
#: Oldest call time accepted when reporting an incident (late data entry of a past call).
MAX_CALL_AGE = timedelta(hours=24)
#: Oldest vehicle position accepted (buffered AVL data sent after a coverage gap).
MAX_POSITION_AGE = timedelta(hours=1)

Clock = Callable[[], datetime]
IdFactory = Callable[[], UUID]
#: Metres between two points given as (lat1, lon1, lat2, lon2) in degrees. The domain holds
#: no formula of its own: the composition root injects `najda.geo.distance.great_circle_m`.
Distance = Callable[[float, float, float, float], float]


def require_distance(distance: Distance) -> Distance:
    """The injected distance function, or TypeError naming what to pass (never a default)."""
    if not callable(distance):
        raise TypeError(
            f"distance: give a function (lat1, lon1, lat2, lon2) -> metres, such as "
            f"najda.geo.distance.great_circle_m, not {distance!r}"
        )
    return distance


def utc_now() -> datetime:
    """The real clock (UTC-aware); simulations inject their own."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class UnitChoice:
    """A unit the dispatcher chose, with the distance and ETA shown when choosing."""

    unit_id: UUID
    distance_m: float | None = None
    eta_s: float | None = None


@dataclass(frozen=True)
class PositionPolicy:
    """When a reported position becomes an event: moved far enough (by the injected
    `distance`), or old enough."""

    distance: Distance
    min_move_m: float = 200.0
    max_age: timedelta = timedelta(seconds=60)

    def __post_init__(self) -> None:
        require_distance(self.distance)

    def worth_recording(
        self, last: Position, last_at: datetime, position: Position, at: datetime
    ) -> bool:
        """The one rule, for the application and the live AVL path alike: a report newer
        than the last recorded position becomes an event when it moved at least
        `min_move_m` from it, or that position is `max_age` old."""
        if at <= last_at:
            return False
        moved_m = self.distance(last.lat, last.lon, position.lat, position.lon)
        return moved_m >= self.min_move_m or at - last_at >= self.max_age
