"""The projection interface and the notification source the runner reads from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.application import Application

#: Each event class's topic, looked up once (rebuilds ask for millions).
_TOPICS: dict[type, str] = {}


@dataclass(frozen=True)
class Tracked:
    """A domain event with the notification position it was recorded at."""

    position: int
    event: Any

    @property
    def topic(self) -> str:
        """The pinned topic of the event's class."""
        cls = type(self.event)
        topic = _TOPICS.get(cls)
        if topic is None:
            topic = _TOPICS[cls] = str(getattr(cls, "TOPIC", cls.__qualname__))
        return topic

    @property
    def originator_id(self) -> UUID:
        """The id of the aggregate the event belongs to."""
        ident = self.event.originator_id
        return ident if isinstance(ident, UUID) else UUID(str(ident))


class Projection(Protocol):
    """A read model that applies events after its own tracking position, atomically."""

    name: str

    async def position(self) -> int:
        """The last notification position applied (0 when empty)."""
        ...

    async def apply(self, batch: Sequence[Tracked]) -> None:
        """Apply events newer than the position; write model and new position in one go."""
        ...

    async def reset(self) -> None:
        """Forget the model and the position (a full rebuild starts from here)."""
        ...


class NotificationSource:
    """Reads the application's notification log as decoded domain events."""

    def __init__(self, app: Application[Any], topics: Sequence[str] = ()) -> None:
        self.app = app
        self.topics = tuple(topics)

    def read(self, after: int, limit: int) -> list[Tracked]:
        """Up to `limit` events recorded after position `after`, in log order (with
        `topics`, only events of those topics: a reader that ignores the others need not
        decode them)."""
        notifications = self.app.recorder.select_notifications(
            start=after, limit=limit, topics=self.topics, inclusive_of_start=False
        )
        to_event = self.app.mapper.to_domain_event
        return [Tracked(n.id, to_event(n)) for n in notifications]

    def head(self) -> int:
        """The newest notification position in the store (0 when empty)."""
        return int(self.app.recorder.max_notification_id() or 0)
