"""One websocket client's bounded queue of messages, and what it wants to receive."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Message:
    """A live message: its text, the position it reflects, and what it concerns."""

    pos: int
    text: str
    points: tuple[tuple[float, float], ...] = ()
    unit_ids: frozenset[UUID] = frozenset()
    ephemeral: bool = False
    specialty: str | None = None  # a teleconsult's: what specialists receive
    scope: str = "dispatch"  # or "monitoring" (monitoring clients only), "shared" (both)


@dataclass(frozen=True, slots=True)
class BBox:
    """A bounding box: south-west and north-east corners (no antimeridian crossing)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @classmethod
    def parse(cls, text: str) -> BBox:
        """From 'min_lon,min_lat,max_lon,max_lat'; ValueError names the problem."""
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError("bbox: give min_lon,min_lat,max_lon,max_lat")
        try:
            a, b, c, d = (float(p) for p in parts)
        except ValueError:
            raise ValueError("bbox: four numbers expected") from None
        if not (-180 <= a <= c <= 180 and -90 <= b <= d <= 90):
            raise ValueError("bbox: need -180<=min_lon<=max_lon<=180 and -90<=min_lat<=max_lat<=90")
        return cls(a, b, c, d)

    def contains(self, lat: float, lon: float) -> bool:
        """True when the point lies inside (edges included)."""
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


@dataclass(frozen=True, slots=True)
class Interest:
    """What a client receives: everything (optionally within a box), one unit's share, the
    teleconsults in some specialties, or (a monitoring client) patients, readings and alerts
    instead of dispatch changes."""

    bbox: BBox | None = None
    unit_id: UUID | None = None
    specialties: frozenset[str] | None = None
    monitoring: bool = False

    @property
    def is_console(self) -> bool:
        """A dispatch console (not a crew's, a specialist's or a monitoring client)."""
        return self.unit_id is None and self.specialties is None and not self.monitoring

    @property
    def kind(self) -> str:
        """console, crew, specialist or monitoring."""
        if self.specialties is not None:
            return "specialist"
        if self.unit_id is not None:
            return "crew"
        return "monitoring" if self.monitoring else "console"

    def accepts(self, message: Message) -> bool:
        """True when the message concerns this client."""
        if self.specialties is not None:
            return message.specialty in self.specialties
        if self.unit_id is not None:
            return self.unit_id in message.unit_ids
        if message.scope != "shared" and (message.scope == "monitoring") != self.monitoring:
            return False
        if self.bbox is None or not message.points:
            return True
        return any(self.bbox.contains(lat, lon) for lat, lon in message.points)


class TooFarBehind(Exception):
    """The client did not keep up and its queue overflowed."""


@dataclass(eq=False)
class Subscriber:
    """A bounded queue of message texts for one client; overflow ends the subscription."""

    interest: Interest
    after: int
    limit: int
    queue: deque[str] = field(default_factory=deque)
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def offer(self, message: Message) -> None:
        """Queue the message if it is new to this client and concerns it."""
        if self.overflowed or (not message.ephemeral and message.pos <= self.after):
            return
        if not self.interest.accepts(message):
            return
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.queue.clear()
        else:
            self.queue.append(message.text)
        self.wakeup.set()

    def push(self, text: str) -> None:
        """Queue a text that bypasses filtering (a reply, or a per-client filtered message)."""
        if self.overflowed:
            return
        if len(self.queue) >= self.limit:
            self.overflowed = True
            self.queue.clear()
        else:
            self.queue.append(text)
        self.wakeup.set()

    async def next(self) -> list[str]:
        """Wait for queued texts and take them all; TooFarBehind after an overflow."""
        while not self.queue and not self.overflowed:
            self.wakeup.clear()
            await self.wakeup.wait()
        if self.overflowed:
            raise TooFarBehind
        texts = list(self.queue)
        self.queue.clear()
        return texts
