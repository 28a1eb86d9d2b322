"""Restores the embedded read models from their saved states at start and saves them while
the server runs and when it stops (projections/store/saved_read_models.py holds the table)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from najda.projections.store.saved_read_models import (
    ModelStore,
    Saveable,
    SavedStateError,
    restore,
    snapshot,
)

log = logging.getLogger(__name__)


class ModelSaver:
    """Saves every read model's state and position in one transaction, now and then."""

    def __init__(
        self, store: ModelStore, models: Sequence[Saveable], *, every_s: float = 60.0
    ) -> None:
        self.store = store
        #: A read model that names no SAVED_FIELDS is not saved: it is rebuilt from the log
        #: at every start, as before (correct, only slower), and named here.
        self.models = [m for m in models if hasattr(m, "SAVED_FIELDS")]
        unsaved = [str(getattr(m, "name", m)) for m in models if not hasattr(m, "SAVED_FIELDS")]
        if unsaved:
            log.warning("read models rebuilt from the log at every start: %s", ", ".join(unsaved))
        self.every_s = every_s
        self.saved: dict[str, int] = {}  # the positions of the last save (or restore)
        self.saves = 0

    async def restore(self) -> dict[str, int]:
        """Load what was saved into the read models (each one on its own: a model without a
        usable saved state starts empty and is rebuilt from the log); their positions."""
        found = await asyncio.to_thread(self.store.load, [m.name for m in self.models])
        for model in self.models:
            saved = found.get(model.name)
            if saved is None:
                continue
            try:
                restore(model, saved.state)
            except SavedStateError as exc:  # checked before any field is set: still empty
                log.warning("read model %s: %s; rebuilt from the log", model.name, exc)
                continue
            self.saved[model.name] = saved.position
        log.info(
            "read models restored at %s",
            ", ".join(f"{n} {p}" for n, p in self.saved.items()) or "nothing (full replay)",
        )
        return dict(self.saved)

    async def save(self, *, force: bool = False) -> bool:
        """Save the read models whose position moved (all of them when forced); True if any.

        The states are taken here in one go, with no await between them, so each one is
        exactly its model at its position; the write happens in a worker thread.
        """
        rows: list[tuple[str, int, bytes]] = []
        for model in self.models:
            lock = getattr(model, "lock", None)  # one changed by other threads (history)
            if lock is not None and not lock.acquire(blocking=force):
                continue  # being refreshed: saved next time
            try:
                position = await model.position()  # in-memory: returns without suspending
                if force or self.saved.get(model.name) != position:
                    rows.append((model.name, position, snapshot(model, position)))
            finally:
                if lock is not None:
                    lock.release()
        if not rows:
            return False
        await asyncio.to_thread(self.store.save, rows)
        self.saved.update((name, position) for name, position, _ in rows)
        self.saves += 1
        return True

    async def run(self) -> None:
        """Save now (after the start's catch-up, without holding up readiness), then every
        `every_s` seconds while the server runs (errors logged, retried)."""
        while True:
            await asyncio.sleep(0)  # the server's start goes on first
            try:
                await self.save()
            except Exception:  # a busy or full disk: the log still holds everything
                log.exception("saving the read models failed; retrying later")
            await asyncio.sleep(self.every_s)
