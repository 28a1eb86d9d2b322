"""Whether a recorded call waited for a free ambulance (the store's availability over time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from najda.simulations.store_queue import Availability

AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_a_call_waited_for_an_ambulance_only_when_none_was_free_before_its_dispatch() -> None:
    t = [AT + timedelta(minutes=m) for m in (0, 10, 20, 30)]
    free = Availability(t, [2, 0, 1, 0])  # none free from 10 to 20, and after 30
    assert free.free_during(t[0], t[1])
    assert not free.free_during(t[1] + timedelta(minutes=1), t[2])  # freed at 20: dispatched then
    assert free.free_during(t[1] + timedelta(minutes=1), t[2] + timedelta(seconds=1))
    assert not free.free_during(t[3], t[3] + timedelta(minutes=5))


def test_a_further_ambulance_waited_since_the_last_one_went_busy() -> None:
    t = [AT + timedelta(minutes=m) for m in (0, 10, 20, 25, 30)]
    free = Availability(t, [2, 0, 1, 0, 0])  # none free 10-20 and from 25 on
    minute = timedelta(minutes=1)
    assert free.waiting_since(t[0], t[2]) == t[1]  # sent at 20, when one freed: waited from 10
    assert free.waiting_since(t[0], t[1]) is None  # one was free just before 10
    assert free.waiting_since(t[0], t[4] + minute) == t[3]  # the 0 at 30 continues the wait
    assert free.waiting_since(t[3] + 2 * minute, t[4] + minute) == t[3] + 2 * minute
    assert free.waiting_since(t[0], t[0]) is None  # before any change: nothing known
