"""Command throughput: report-incident + assign through Dispatch vs raw single-row transactions.

    python -m bench.commands [--quick | --full] [--repeats N] [--no-threads]

One command pair = report_incident + assign_units of a free unit (two commands, two saves).
The baseline, in the same run, is the same number of single-row INSERT transactions (one
per command) into a table shaped like eventsourcing's stored_events, with the same
concurrency: raw asyncpg on a fresh PostgreSQL database, raw sqlite3 on a WAL file. Units
are registered before the timed sections; every timed pair dispatches a unit never used.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg

from bench._pg import scratch_database
from bench._stats import banner, log, median, parse_mode, ratio, spread
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind
from najda.geo.distance import great_circle_m
from najda.projections.store.environment import asyncpg_dsn, postgres_env, sqlite_env

ACTOR = "bench"
CITY = Position(36.75, 3.06)
#: About the size of a stored Incident.Reported event's JSON state.
PAYLOAD = (b'{"address":"12 Rue Didouche Mourad","nature":"chest pain","priority":"D"}' * 6)[:420]

PG_TABLE = """
CREATE TABLE raw_events (
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text,
    state bytea,
    notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version)
);
CREATE UNIQUE INDEX raw_events_notification ON raw_events (notification_id ASC);
"""
PG_INSERT = (
    "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
    " VALUES ($1, $2, $3, $4) RETURNING notification_id"
)
SQLITE_TABLE = """
CREATE TABLE IF NOT EXISTS raw_events (
    originator_id TEXT NOT NULL,
    originator_version INTEGER NOT NULL,
    topic TEXT,
    state BLOB,
    notification_id INTEGER PRIMARY KEY AUTOINCREMENT,
    UNIQUE (originator_id, originator_version)
);
"""
SQLITE_INSERT = (
    "INSERT INTO raw_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Sizes:
    """Pairs per timed run and how many runs."""

    pairs: int
    repeats: int


SIZES = {
    "quick": Sizes(pairs=150, repeats=3),
    "default": Sizes(pairs=400, repeats=5),
    "full": Sizes(pairs=1_500, repeats=7),
}


@dataclass
class Row:
    """Per-run rates of one scenario: Dispatch commands/s and raw transactions/s."""

    label: str
    dispatch: list[float]
    raw: list[float]


# --- Dispatch side --------------------------------------------------------------------


def register_units(app: Dispatch, count: int, tag: str) -> list[UUID]:
    """Free units for the timed pairs (untimed)."""
    return [
        app.register_unit(f"{tag}{i:05d}", UnitKind.ALS, ACTOR, home=CITY) for i in range(count)
    ]


def _pairs(app: Dispatch, units: Sequence[UUID]) -> None:
    for n, unit_id in enumerate(units):
        incident_id = app.report_incident(
            location=Position(CITY.lat + (n % 100) * 1e-4, CITY.lon),
            address="12 Rue Didouche Mourad",
            nature="chest pain",
            priority=Priority.D,
            actor=ACTOR,
        )
        app.assign_units(incident_id, [UnitChoice(unit_id, 1200.0, 180.0)], ACTOR)


def run_threads(work: Callable[[int], None], threads: int) -> float:
    """Start `threads` workers together; seconds until the last one finishes."""
    barrier = threading.Barrier(threads + 1)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed


def dispatch_rate(app: Dispatch, units: Sequence[UUID], threads: int) -> float:
    """Commands per second (two per pair) over the given free units."""
    shares = [units[i::threads] for i in range(threads)]
    elapsed = run_threads(lambda i: _pairs(app, shares[i]), threads)
    return 2 * len(units) / elapsed


# --- raw baselines --------------------------------------------------------------------


async def raw_pg_rate(dsn: str, count: int, clients: int) -> float:
    """Single-row INSERT transactions per second with `clients` connections."""
    conns = [await asyncpg.connect(dsn) for _ in range(clients)]
    try:
        stmts = [await c.prepare(PG_INSERT) for c in conns]

        async def client(i: int) -> None:
            conn, stmt = conns[i], stmts[i]
            for _ in range(i, count, clients):
                async with conn.transaction():
                    await stmt.fetchval(uuid.uuid4(), 1, "najda:Incident.Reported", PAYLOAD)

        start = time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        return count / (time.perf_counter() - start)
    finally:
        for c in conns:
            await c.close()


def raw_sqlite_rate(path: Path, count: int, threads: int) -> float:
    """Single-row INSERT transactions per second with one connection per thread."""
    conns = [
        sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
        for _ in range(threads)
    ]
    try:
        for c in conns:
            c.execute("PRAGMA journal_mode=WAL")

        def work(i: int) -> None:
            conn = conns[i]
            for _ in range(i, count, threads):
                conn.execute("BEGIN")
                conn.execute(
                    SQLITE_INSERT, (str(uuid.uuid4()), 1, "najda:Incident.Reported", PAYLOAD)
                )
                conn.execute("COMMIT")

        return count / run_threads(work, threads)
    finally:
        for c in conns:
            c.close()


# --- scenarios ------------------------------------------------------------------------


def bench_postgres(sizes: Sizes, concurrencies: Sequence[int]) -> list[Row]:
    rows = [Row(f"postgres {n} client{'s' if n > 1 else ''}", [], []) for n in concurrencies]
    with scratch_database("najda_bench_commands") as url:
        dsn = asyncpg_dsn(url)
        app = Dispatch(env=postgres_env(url), distance=great_circle_m)
        loop = asyncio.new_event_loop()
        try:

            async def create() -> None:
                conn: Any = await asyncpg.connect(dsn)
                await conn.execute(PG_TABLE)
                await conn.close()

            loop.run_until_complete(create())
            total = sizes.pairs * sizes.repeats * len(concurrencies)
            log(f"postgres: registering {total} units (untimed) ...")
            free = iter(register_units(app, total, "PG"))
            for run in range(sizes.repeats):
                for row, n in zip(rows, concurrencies, strict=True):
                    units = [next(free) for _ in range(sizes.pairs)]
                    gc.collect()
                    if run % 2 == 0:
                        row.dispatch.append(dispatch_rate(app, units, n))
                        row.raw.append(
                            loop.run_until_complete(raw_pg_rate(dsn, 2 * sizes.pairs, n))
                        )
                    else:
                        row.raw.append(
                            loop.run_until_complete(raw_pg_rate(dsn, 2 * sizes.pairs, n))
                        )
                        row.dispatch.append(dispatch_rate(app, units, n))
                    log(f"  run {run} {row.label}: {row.dispatch[-1]:.0f} vs {row.raw[-1]:.0f}")
        finally:
            app.close()
            loop.close()
    return rows


def bench_sqlite(sizes: Sizes, concurrencies: Sequence[int]) -> list[Row]:
    rows = [Row(f"sqlite {n} thread{'s' if n > 1 else ''}", [], []) for n in concurrencies]
    with tempfile.TemporaryDirectory(prefix="najda_bench_") as tmp:
        app = Dispatch(env=sqlite_env(Path(tmp) / "events.sqlite"), distance=great_circle_m)
        raw_path = Path(tmp) / "raw.sqlite"
        with sqlite3.connect(raw_path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SQLITE_TABLE)
        conn.close()
        try:
            total = sizes.pairs * sizes.repeats * len(concurrencies)
            log(f"sqlite: registering {total} units (untimed) ...")
            free = iter(register_units(app, total, "SQ"))
            for run in range(sizes.repeats):
                for row, n in zip(rows, concurrencies, strict=True):
                    units = [next(free) for _ in range(sizes.pairs)]
                    gc.collect()
                    if run % 2 == 0:
                        row.dispatch.append(dispatch_rate(app, units, n))
                        row.raw.append(raw_sqlite_rate(raw_path, 2 * sizes.pairs, n))
                    else:
                        row.raw.append(raw_sqlite_rate(raw_path, 2 * sizes.pairs, n))
                        row.dispatch.append(dispatch_rate(app, units, n))
                    log(f"  run {run} {row.label}: {row.dispatch[-1]:.0f} vs {row.raw[-1]:.0f}")
        finally:
            app.close()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser_args = list(sys.argv[1:] if argv is None else argv)
    threads = "--no-threads" not in parser_args
    args = parse_mode(__doc__ or "", [a for a in parser_args if a != "--no-threads"])
    sizes = SIZES[args.mode]
    if args.repeats:
        sizes = Sizes(sizes.pairs, args.repeats)
    concurrencies = (1, 4) if threads else (1,)
    rows = bench_postgres(sizes, concurrencies) + bench_sqlite(sizes, concurrencies)

    banner(
        f"commands [{args.mode}]: {sizes.pairs} pairs (report_incident + assign_units) per run, "
        f"{sizes.repeats} runs; medians of per-run rates [min..max]"
    )
    print(
        "figure: Dispatch commands/s (2 per pair; each one save) | baseline: single-row INSERT "
        f"transactions/s into a stored_events-shaped table, {2 * sizes.pairs} per run, same "
        "concurrency (postgres: raw asyncpg, one connection per client; sqlite: raw sqlite3 WAL "
        "file, one connection per thread)"
    )
    for row in rows:
        fig, base = median(row.dispatch), median(row.raw)
        r = ratio(fig, base)
        baseline_name = "raw-asyncpg" if row.label.startswith("postgres") else "raw-sqlite3"
        print(
            f"commands/{row.label:<17} {fig:7.0f} cmd/s ({fig / 2:6.0f} pairs/s) "
            f"{spread(row.dispatch)} | baseline {baseline_name} 1-row txns {base:7.0f} txn/s "
            f"{spread(row.raw)} | ratio {r:.2f}x (goal >=0.5x: {'MET' if r >= 0.5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
