"""When a recorded call waited for a free ambulance rather than for its call taker: the
store's ambulances available over time, read from their own events."""

from __future__ import annotations

import bisect
from datetime import datetime
from uuid import UUID

from najda.domain.application import Dispatch
from najda.domain.values import UnitKind, UnitStatus
from najda.projections.base import NotificationSource

AMBULANCES = frozenset({UnitKind.ALS, UnitKind.BLS})


class Availability:
    """How many ambulances were available after each change, in time order."""

    def __init__(self, times: list[datetime], counts: list[int]) -> None:
        self.times = times
        self.counts = counts

    def free_during(self, start: datetime, end: datetime) -> bool:
        """True when an ambulance was available at some instant of [start, end)."""
        at = bisect.bisect_right(self.times, start) - 1
        if at >= 0 and self.counts[at] > 0:
            return True
        stop = bisect.bisect_left(self.times, end)
        return any(c > 0 for c in self.counts[at + 1 : stop])

    def waiting_since(self, start: datetime, end: datetime) -> datetime | None:
        """When no ambulance had been available since, right up to `end` (not before
        `start`); None when one was available just before `end`."""
        at = bisect.bisect_left(self.times, end) - 1  # the last change before `end`
        if at < 0 or self.counts[at] > 0:
            return None
        while at > 0 and self.counts[at - 1] == 0 and self.times[at] > start:
            at -= 1
        return max(start, self.times[at])


def availability(dispatch: Dispatch) -> Availability:
    """The store's ambulances available over time (registered available; dispatched, any
    committed or out-of-service status ends it; available again, or released, restores it)."""
    free: set[UUID] = set()
    ambulances: set[UUID] = set()
    times: list[datetime] = []
    counts: list[int] = []
    source = NotificationSource(dispatch)
    after = 0
    while batch := source.read(after, 5_000):
        for item in batch:
            topic, e, unit = item.topic, item.event, item.originator_id
            if topic == "najda:Unit.Registered":
                if UnitKind(e.kind) in AMBULANCES:
                    ambulances.add(unit)
                    free.add(unit)
            elif unit not in ambulances:
                continue
            elif topic == "najda:Unit.Dispatched":
                free.discard(unit)
            elif topic == "najda:Unit.StatusChanged":
                if UnitStatus(e.status) is UnitStatus.AVAILABLE:
                    free.add(unit)
                else:
                    free.discard(unit)
            elif topic == "najda:Unit.Released":
                free.add(unit)
            else:
                continue
            if times and times[-1] == e.at:
                counts[-1] = len(free)
            else:
                times.append(e.at)
                counts.append(len(free))
        after = batch[-1].position
    return Availability(times, counts)
