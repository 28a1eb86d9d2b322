"""The live feed's clients: registration with the backlog in one cut, fan-out of each
message to the clients whose interest accepts it, and the count of clients dropped."""

from __future__ import annotations

from collections.abc import Callable

from najda.api.live.resume import ResumeBuffer
from najda.api.live.subscribers import Interest, Message, Subscriber


class FanOut:
    """This process's connected clients (never saved: they reconnect after a restart)."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.dropped_clients = 0  # dropped for falling too far behind, since start

    def subscribe(
        self, interest: Interest, since: int | None, limit: int, position: int, resume: ResumeBuffer
    ) -> tuple[Subscriber, list[str] | None]:
        """Register a client at the feed's `position`. Returns it and the missed messages
        after `since`, in order; None instead when `since` is absent or older than the
        buffer (send a snapshot). Registration and the backlog are one cut."""
        if since is None or not resume.covers(since):
            subscriber = Subscriber(interest, after=position, limit=limit)
            self.subscribers.add(subscriber)
            return subscriber, None
        subscriber = Subscriber(interest, after=max(since, position), limit=limit)
        backlog = resume.after(since, interest)
        self.subscribers.add(subscriber)
        return subscriber, backlog

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget a client (counted as dropped when it fell too far behind)."""
        self.subscribers.discard(subscriber)
        if subscriber.overflowed:
            self.dropped_clients += 1

    def offer(self, message: Message) -> None:
        """Offer a message to every client (each keeps what its interest accepts)."""
        for subscriber in list(self.subscribers):
            subscriber.offer(message)

    def push(self, text: str, to: Callable[[Interest], bool]) -> None:
        """Push a message that is not buffered to the clients `to` accepts."""
        for subscriber in list(self.subscribers):
            if to(subscriber.interest):
                subscriber.push(text)

    def consoles(self) -> list[Subscriber]:
        """The connected consoles."""
        return [s for s in self.subscribers if s.interest.is_console]

    def by_kind(self) -> dict[str, int]:
        """Connected clients by kind (console, crew, specialist, monitoring)."""
        kinds = dict.fromkeys(("console", "crew", "specialist", "monitoring"), 0)
        for subscriber in self.subscribers:
            kinds[subscriber.interest.kind] += 1
        return kinds
