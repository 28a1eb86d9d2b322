"""Failed sign-ins throttled per client: past a number per minute, 429 with Retry-After."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from najda.domain.errors import DispatchError

WINDOW_S = 60.0
#: Clients remembered at most (the oldest are forgotten first): bounded under a flood.
MAX_CLIENTS = 10_000


class TooManyFailures(DispatchError):
    """Raised when a client made too many failed sign-ins in the last minute (HTTP 429)."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins from this client; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class AuthThrottle:
    """Counts each client's failed sign-ins (a wrong, revoked or expired token) over a sliding
    minute; a client at the limit is refused, whatever token it sends, until its oldest
    failure leaves the window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, client: str) -> None:
        """TooManyFailures when the client is at its limit."""
        failures = self._recent(client)
        if failures is not None and len(failures) >= self.per_minute:
            wait = failures[0] + WINDOW_S - self.clock()
            raise TooManyFailures(max(1, math.ceil(wait)))

    def failed(self, client: str) -> None:
        """Count one failed sign-in."""
        failures = self._recent(client)
        if failures is None:
            failures = self._failures[client] = deque()
            while len(self._failures) > MAX_CLIENTS:
                self._failures.popitem(last=False)
        else:
            self._failures.move_to_end(client)
        failures.append(self.clock())

    def _recent(self, client: str) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        horizon = self.clock() - WINDOW_S
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures
