"""The one polling helper of the tests: wait on a condition, bounded, never on a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.05) -> T:
    """Call `check` until it returns a true value (returned) or `timeout_s` passes.

    On time-out, raises AssertionError with the last value or exception seen, so a test
    never passes by waiting on something that did not happen.
    """
    if not callable(check):
        raise TypeError(f"eventually() needs a callable, got {check!r}")
    deadline = time.monotonic() + timeout_s
    last: object = None
    while True:
        try:
            value = check()
        except Exception as exc:  # e.g. the server not answering yet
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not true within {timeout_s:g}s; last: {last!r}")
        time.sleep(interval_s)
