"""A bounded cache of aggregates for the command side, kept honest by optimistic concurrency."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID


class CommandCache:
    """LRU of aggregates as last saved by this process, checked out by one command at a time.

    A command takes an aggregate out (no copy: nobody else holds it), and puts it back only by
    saving it, or untouched. Safe because a command that decides on a cached aggregate also
    saves it: if another process changed it meanwhile, the store's version check refuses the
    save and the command is retried on fresh state. Queries never read from here.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, ident: UUID) -> Any | None:
        """Check the aggregate out of the cache (the caller owns it now), or None."""
        with self._lock:
            return self._items.pop(ident, None)

    def put(self, *aggregates: Any) -> None:
        """Check aggregates in, as saved or untouched (the caller must not mutate them again)."""
        if self.maxsize <= 0:
            return
        with self._lock:
            for aggregate in aggregates:
                held = self._items.get(aggregate.id)
                if held is not None and held.version > aggregate.version:
                    continue  # a newer copy was saved meanwhile by another thread
                self._items[aggregate.id] = aggregate
                self._items.move_to_end(aggregate.id)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def evict(self, *idents: UUID) -> None:
        """Forget aggregates (after a lost race)."""
        with self._lock:
            for ident in idents:
                self._items.pop(ident, None)
