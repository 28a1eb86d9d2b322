"""The live feed's resume buffer: the last messages, bounded in count and in bytes, from
which a client that reconnects with the last position it saw gets exactly what it missed."""

from __future__ import annotations

import bisect
from collections import deque

from najda.api.live.subscribers import Interest, Message

#: What a buffered message costs beyond its text (the object, its tuples and sets).
MESSAGE_OVERHEAD_BYTES = 200


def message_bytes(message: Message) -> int:
    """About what a buffered message holds in memory (its text counted once per character:
    live messages are mostly ASCII, and Python keeps ASCII text one byte a character)."""
    return len(message.text) + MESSAGE_OVERHEAD_BYTES


class ResumeBuffer:
    """The messages after `covered_after`, in position order; older ones resume from a
    snapshot. Saved with the feed (its limits are the settings', set again at each start)."""

    def __init__(self, size: int, bytes_limit: int, covered_after: int = 0) -> None:
        self.size = size
        self.bytes_limit = bytes_limit
        self.messages: deque[Message] = deque()
        self.bytes = 0
        self.covered_after = covered_after  # every message after this position is held
        self._positions: list[int] = []  # parallel to messages, for bisect (rebuilt lazily)

    def clear(self, covered_after: int) -> None:
        """Hold nothing; cover what follows `covered_after`."""
        self.messages.clear()
        self.bytes = 0
        self._positions = []
        self.covered_after = covered_after

    def append(self, message: Message) -> None:
        """Keep a new message, dropping the oldest beyond the count or byte bound."""
        self.messages.append(message)
        self.bytes += message_bytes(message)
        if self._positions:
            self._positions.append(message.pos)
        while len(self.messages) > 1 and (
            len(self.messages) > self.size or self.bytes > self.bytes_limit
        ):
            dropped = self.messages.popleft()
            self.bytes -= message_bytes(dropped)
            self.covered_after = dropped.pos
            self._positions = []

    def covers(self, since: int) -> bool:
        """True when every message after `since` is held."""
        return since >= self.covered_after

    def after(self, since: int, interest: Interest) -> list[str]:
        """The held messages after `since` that the interest accepts, in order."""
        if not self.messages:
            return []
        if not self._positions:
            self._positions = [m.pos for m in self.messages]
        start = bisect.bisect_right(self._positions, since)
        return [
            m.text
            for i in range(start, len(self.messages))
            if interest.accepts(m := self.messages[i])
        ]

    def restored(self, position: int, build_after: int, size: int, bytes_limit: int) -> None:
        """After a restore at `position`: keep the messages a fresh replay would have built
        (those after `build_after`); when they stop short of the messages still to be built,
        none. The limits are the ones set now."""
        self.size, self.bytes_limit = size, bytes_limit
        self._positions = []
        if position < build_after:
            self.messages.clear()
        while self.messages and self.messages[0].pos <= build_after:
            self.messages.popleft()
        self.bytes = sum(message_bytes(m) for m in self.messages)
        self.covered_after = max(self.covered_after, build_after)
