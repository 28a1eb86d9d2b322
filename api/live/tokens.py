"""Ends open sockets when their token stops working (revoked, replaced or expired) or what
their user may see changes (a specialist's specialties)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

from najda.projections.access.user_directory import Principal, UserDirectory

#: The longest a socket waits between two checks of its token (clock changes, missed hints).
RECHECK_S = 30.0


class TokenWatch:
    """Wakes the sockets of a token as soon as the user directory (which follows the log in
    every process) stops accepting it, or when it expires."""

    def __init__(self, users: UserDirectory, clock: Callable[[], datetime]) -> None:
        self.users = users
        self.clock = clock
        self._waiting: dict[str, set[asyncio.Event]] = {}
        users.on_invalidated(self._invalidated)

    def _invalidated(self, digest: str) -> None:
        for event in self._waiting.get(digest, ()):
            event.set()

    def still_valid(self, digest: str, user: Principal) -> bool:
        """True while the token with this hash works, for `user` with the same access."""
        return self.users.by_token_hash(digest, self.clock()) == user

    def why_invalid(self, digest: str) -> str:
        """The reason given to a client whose token stopped working (or changed)."""
        held = self.users.by_token_hash(digest)
        if held is not None and self.users.by_token_hash(digest, self.clock()) is None:
            return "the token has expired"
        if held is not None:
            return "the user's access changed: reconnect"
        return "the token was revoked or replaced"

    async def until_invalid(self, digest: str, user: Principal) -> str:
        """Wait until the token with this hash stops working, or its user's access (what
        the socket was opened with) changes; returns why."""
        event = asyncio.Event()
        self._waiting.setdefault(digest, set()).add(event)
        try:
            while self.still_valid(digest, user):
                expires = self.users.expires_at(digest)
                wait_s = RECHECK_S
                if expires is not None:
                    wait_s = min(wait_s, max(0.0, (expires - self.clock()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s + 0.001):
                        await event.wait()
                event.clear()
            return self.why_invalid(digest)
        finally:
            waiting = self._waiting.get(digest)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._waiting[digest]
