"""One simulation run: a fresh store, the scenario registered, the policy driven to the end."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.base import NotificationSource
from najda.projections.policies.dispatch import POLICIES
from najda.projections.rebuild import rare_gc
from najda.projections.store.environment import sqlite_env
from najda.simulations.engine import RunResult, SimClock, Simulator, seeded_ids
from najda.simulations.memory_store import MemoryDispatch
from najda.simulations.scenario import Scenario

SECONDS_PER_DAY = 86_400.0
#: Memory-backed file system: the scratch store's commits skip the disk flush.
SCRATCH = Path("/dev/shm")


#: The in-memory store of the eventsourcing library (its POPO recorders).
MEMORY_ENV = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
BACKENDS = ("memory", "sqlite")


def run_policy(
    scenario: Scenario,
    policy: str,
    *,
    days: float,
    seed: int,
    store: Path | None = None,
    progress: Callable[[float], None] | None = None,
    backend: str = "sqlite",
) -> RunResult:
    """Run one policy on a fresh event store; with `store`, on SQLite copied there at the end.

    `backend` "sqlite" writes to a scratch SQLite file in memory-backed storage (each command
    is one committed transaction, and a disk flush per commit would dominate the run time);
    the finished store is copied with SQLite's backup API. "memory" runs the same Dispatch
    application on the library's in-memory store: the same commands, events and notification
    log, so the same seed gives the same result (tested), several times faster.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r} (one of {', '.join(POLICIES)})")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r} (one of {', '.join(BACKENDS)})")
    if store is not None and store.exists():
        raise FileExistsError(f"{store} exists; a run needs a fresh event store")
    if backend == "memory" and store is None:
        return _run(scenario, policy, days, seed, MEMORY_ENV, progress)
    scratch_root = SCRATCH if SCRATCH.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="najda-sim-", dir=scratch_root) as scratch:
        path = Path(scratch) / "events.sqlite"
        result = _run(scenario, policy, days, seed, sqlite_env(path), progress)
        if store is not None:
            store.parent.mkdir(parents=True, exist_ok=True)
            _copy_sqlite(path, store)
    return result


def _run(
    scenario: Scenario,
    policy: str,
    days: float,
    seed: int,
    env: dict[str, str],
    progress: Callable[[float], None] | None,
) -> RunResult:
    clock = SimClock()
    ids = seeded_ids(np.random.default_rng([seed, 1]))
    # in memory, nothing outside the process reads the events: state kept as private copies
    kind = MemoryDispatch if env is MEMORY_ENV else Dispatch
    app = kind(env, distance=great_circle_m, clock=clock, new_id=ids)
    try:
        sim = Simulator(scenario, POLICIES[policy](), app, clock, seed=seed)
        # as in a rebuild: the run's short-lived acyclic objects would set off collections,
        # now and then of the whole heap (measured 40-50 ms, 2-8 % of a simulated day)
        with rare_gc():
            result = asyncio.run(sim.run(days * SECONDS_PER_DAY, progress))
        result.extra["stored_events"] = NotificationSource(app).head()
    finally:
        app.close()
    return result


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database (WAL included) with the backup API."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
