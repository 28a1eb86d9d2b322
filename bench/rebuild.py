"""PostGIS rebuild benchmark: a full rebuild of the read models against a raw read of the log.

    python -m bench.rebuild [--events N] [--repeats N] [--fresh] [--drop] [--profile FILE]

A PostgreSQL database with about a million valid events (units, incidents worked from call
to close, recorded positions) is made once and kept (`najda_bench_rebuild_<N>`; `--fresh`
remakes it, `--drop` drops it at the end). Each run:

1. baseline: a raw read of every row through the recorder (`select_notifications`, 5,000
   a page, no decoding), in events/s;
2. rebuild: the PostGIS unit locator and incident board reset and rebuilt from the whole
   log, as `najda rebuild` does it, in events/s.

Goal: >= 50,000 events/s and >= 0.5x the raw read. Medians of the runs. `--profile FILE`
writes a cProfile of one more rebuild (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import sys
from collections.abc import Sequence
from pathlib import Path

import psycopg

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._history import write_history
from bench._pg import ADMIN_URL
from bench._stats import banner, log, median, ratio, spread
from bench.audit import raw_read, timed_rebuild
from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.store.environment import asyncpg_dsn, postgres_env
from najda.projections.store.event_rows import EventLog
from najda.projections.store.postgis_pool import PostgisProjections

SEED = 5


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="history size")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="remake the kept database")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    return parser.parse_args(argv)


def _database(events: int, fresh: bool) -> tuple[str, bool]:
    """The kept database's URL, and whether it must be filled (a half-filled one is
    remade)."""
    name = f"najda_bench_rebuild_{events}"
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not fresh:
            with psycopg.connect(url, autocommit=True) as conn:  # a filled one is marked
                done = conn.execute("SELECT to_regclass('najda_bench_done')").fetchone()
            if done is not None and done[0] is not None:
                return url, False
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url, True


def _fill(app: Dispatch, url: str, events: int) -> None:
    log(f"writing about {events:,} events (once) ...")
    written = write_history(app, events, seed=SEED).events
    EventLog(app).ensure_stream_index()  # as a server's sealer creates it
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE dispatch_events")
        conn.execute(f"CREATE TABLE najda_bench_done AS SELECT {written}::bigint AS events")

    async def prepare() -> None:  # the read models' tables exist before the first timing
        async with await PostgisProjections.connect(asyncpg_dsn(url)):
            pass

    asyncio.run(prepare())


def main(argv: Sequence[str] | None = None) -> None:
    args = _args(argv)
    url, empty = _database(args.events, args.fresh)
    app = Dispatch(postgres_env(url, pool_size=4), distance=great_circle_m)
    try:
        if empty:
            _fill(app, url, args.events)
        raw_rates, rebuild_rates = [], []
        for r in range(args.repeats):
            gc.collect()
            rows, raw_s = raw_read(app)
            total, rebuild_s = asyncio.run(timed_rebuild(app, url))
            if rows != total:
                raise SystemExit(f"read {rows} rows but rebuilt {total}")
            raw_rates.append(rows / raw_s)
            rebuild_rates.append(total / rebuild_s)
            log(f"run {r + 1}: raw {raw_rates[-1]:,.0f}/s, rebuild {rebuild_rates[-1]:,.0f}/s")
        if args.profile is not None:
            profile = cProfile.Profile()
            profile.runcall(asyncio.run, timed_rebuild(app, url))
            profile.dump_stats(args.profile)
            log(f"profile of one rebuild in {args.profile}")
    finally:
        app.close()
        if args.drop:
            with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    raw_rate, rebuild_rate = median(raw_rates), median(rebuild_rates)
    banner(f"PostGIS rebuild ({rows:,} events, {args.repeats} runs, medians)")
    print(
        f"rebuild (locator + board):          {rebuild_rate:>10,.0f} events/s"
        f"  {spread(rebuild_rates)}"
    )
    print(f"baseline raw read of the same rows: {raw_rate:>10,.0f} events/s  {spread(raw_rates)}")
    print(
        f"ratio rebuild/raw: {ratio(rebuild_rate, raw_rate):.2f}x"
        "  (goal >= 0.50x and >= 50,000 events/s)"
    )


if __name__ == "__main__":
    main()
