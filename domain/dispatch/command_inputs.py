"""Command inputs and limits: the clock type, unit choices, time windows, position policy."""

from __future__ import annotations

import math
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
    """When a reported position becomes an event: moved far enough, or old enough."""

    min_move_m: float = 200.0
    max_age: timedelta = timedelta(seconds=60)

    def worth_recording(
        self, last: Position, last_at: datetime, position: Position, at: datetime
    ) -> bool:
        """The one rule, for the application and the live AVL path alike: a report newer
        than the last recorded position becomes an event when it moved at least
        `min_move_m` from it, or that position is `max_age` old."""
        if at <= last_at:
            return False
        return approx_distance_m(last, position) >= self.min_move_m or at - last_at >= self.max_age


def approx_distance_m(a: Position, b: Position) -> float:
    """Haversine distance on a sphere; good enough for a recording threshold."""
    return haversine_m(a.lat, a.lon, b.lat, b.lon)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a sphere between two points given in degrees."""
    rlat1, rlat2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = rlat2 - rlat1, math.radians(lon2 - lon1)
    h = math.sin(dlat / 2) ** 2 + math.cos(rlat1) * math.cos(rlat2) * math.sin(dlon / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))
