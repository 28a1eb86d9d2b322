"""The tests' one set of fakes: clocks and id factories injected into the application, and
the application put together as the composition roots do (`new_dispatch`)."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

if TYPE_CHECKING:  # imported where used: pytest's controlling process loads this module too,
    # and runs no test (geo's distance brings numpy, pyproj and geopy: half a second)
    from najda.domain.application import Dispatch

D = TypeVar("D", bound="Dispatch")

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
"""The default start of every fake clock (UTC-aware, as event timestamps must be)."""


class TickingClock:
    """A clock that moves `step_s` forward at every reading, so each event has its own time
    (thread-safe); `now` is the last time handed out."""

    def __init__(self, start: datetime = T0, step_s: float = 1.0) -> None:
        self.now = start
        self._step = timedelta(seconds=step_s)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += self._step
            return self.now


class StoppedClock:
    """A clock that stands still until the test moves it (`advance`, or assign `now`)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        """Move the clock forward by `seconds`; the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


class SequentialIds:
    """Ids 00000000-…-0001, …-0002, … in the order asked for, so they are known in advance
    (thread-safe); `issued` lists those handed out."""

    def __init__(self) -> None:
        self.issued: list[UUID] = []
        self._lock = threading.Lock()

    def __call__(self) -> UUID:
        with self._lock:
            self.issued.append(UUID(int=len(self.issued) + 1))
            return self.issued[-1]


class SeededIds:
    """Random-looking version-4 ids drawn from a seed (thread-safe): the same seed gives the
    same ids, so two stores given the same commands hold equal events."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def __call__(self) -> UUID:
        with self._lock:
            return uuid.UUID(int=self._rng.getrandbits(128), version=4)


def new_dispatch(env: dict[str, str] | None = None, **options: Any) -> Dispatch:
    """A Dispatch application as `najda serve` and the simulator build it: geo's great-circle
    distance injected; `options` are the other injections (clock, new_id, position_policy)."""
    from najda.domain.application import Dispatch

    return new_app(Dispatch, env, **options)


def new_app(kind: type[D], env: dict[str, str] | None = None, **options: Any) -> D:
    """`new_dispatch` for a subclass of Dispatch (the simulator's MemoryDispatch, a test's)."""
    from najda.geo.distance import great_circle_m

    return kind(env, distance=great_circle_m, **options)
