"""Where units were moved up to: the station each waits at after an accepted move-up."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from najda.projections.base import Tracked


class PostDirectory:
    """Unit → the station it was moved up to, until it is dispatched again (in memory,
    saved with its position on the embedded store, like the reference directory)."""

    name = "post_directory"
    SAVED_FIELDS = ("posts", "_position")  # what a saved state holds (embedded store)

    def __init__(self) -> None:
        self.posts: dict[UUID, UUID] = {}
        self._position = 0

    async def position(self) -> int:
        return self._position

    async def reset(self) -> None:
        self.posts.clear()
        self._position = 0

    async def apply(self, batch: Sequence[Tracked]) -> None:
        for item in batch:
            if item.position <= self._position:
                continue
            if item.topic == "najda:Unit.Relocated":
                self.posts[item.originator_id] = item.event.station_id
            elif item.topic == "najda:Unit.Dispatched":
                self.posts.pop(item.originator_id, None)
            self._position = item.position
