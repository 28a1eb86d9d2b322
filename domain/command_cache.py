"""A bounded cache of aggregates for the command side, kept honest by optimistic concurrency."""

from __future__ import annotations

import threading
from collections import OrderedDict
from copy import deepcopy
from typing import Any
from uuid import UUID


class CommandCache:
    """LRU of aggregates as last saved or loaded by this process.

    Safe because every command that decides on a cached aggregate also saves it: if another
    process changed it meanwhile, the store's version check refuses the save, the entries are
    evicted and the command is retried on fresh state. Queries never read from here.
    """

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[UUID, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, ident: UUID) -> Any | None:
        """A private copy of the cached aggregate, or None."""
        with self._lock:
            item = self._items.get(ident)
            if item is None:
                return None
            self._items.move_to_end(ident)
        return deepcopy(item)

    def put(self, *aggregates: Any) -> None:
        """Remember aggregates (the caller must not mutate them afterwards)."""
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
