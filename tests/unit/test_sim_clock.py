"""The simulator's clock: the start plus the simulated seconds, read again at no cost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from najda.simulations.engine import START, SimClock


def test_the_clock_reads_the_start_plus_the_simulated_seconds_each_time_they_change() -> None:
    clock = SimClock()
    assert clock() == START
    for now_s in (0.5, 0.5, 86_400.25, 3.0, 0.0):
        clock.now_s = now_s
        assert clock() == START + timedelta(seconds=now_s)
    first = clock()
    assert clock() is first  # the same second: the instant made for it is handed out again
    clock.start = datetime(2027, 3, 1, tzinfo=UTC)
    assert clock() == datetime(2027, 3, 1, tzinfo=UTC)
