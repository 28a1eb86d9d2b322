"""Audit benchmarks on PostgreSQL: a full read-model rebuild, and one incident's timeline.

    python -m bench.audit [--quick | --full] [--repeats N] [--events N]

A scratch database gets a valid history of about a million events (units, incidents worked
from call to close, recorded positions), written straight through the recorder.

1. Rebuild: the PostGIS unit locator and incident board reset and rebuilt from the whole log
   (`najda.projections.rebuild.rebuild`, as `najda rebuild` runs it), in events/s, against a raw
   read of the same rows through the recorder (`select_notifications`, same batches, no
   decoding). Goal: >= 0.3x the raw read and >= 50,000 events/s.
2. Timeline: `incident_timeline` of random incidents (its events and its units' status
   events), p50/p99, against the recorder's raw read of the incident's own stream
   (`select_events`). Goal: p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._history import write_history
from bench._pg import scratch_database
from bench._stats import Latency, banner, log, median, ratio, spread, time_each
from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.audit.timeline import incident_timeline
from najda.projections.rebuild import rebuild
from najda.projections.store.environment import asyncpg_dsn, postgres_env
from najda.projections.store.event_rows import EventLog
from najda.projections.store.fast_log_reader import FastLogReader
from najda.projections.store.postgis_pool import PostgisProjections

SEED = 5
BATCH = 5_000


@dataclass(frozen=True)
class Sizes:
    """How much work one invocation does."""

    events: int
    repeats: int
    timelines: int


SIZES = {
    "quick": Sizes(events=50_000, repeats=3, timelines=300),
    "default": Sizes(events=1_000_000, repeats=3, timelines=1_000),
    "full": Sizes(events=1_000_000, repeats=5, timelines=3_000),
}


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="50,000 events")
    group.add_argument("--full", action="store_true", help="more repeats")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--events", type=int, default=None, help="history size")
    args = parser.parse_args(argv)
    args.mode = "quick" if args.quick else "full" if args.full else "default"
    return args


def raw_read(app: Dispatch) -> tuple[int, float]:
    """Read every row through the recorder in BATCH-sized pages; (rows, seconds)."""
    start = time.perf_counter()
    after, rows = 0, 0
    while page := app.recorder.select_notifications(
        start=after, limit=BATCH, inclusive_of_start=False
    ):
        rows += len(page)
        after = page[-1].id
    return rows, time.perf_counter() - start


async def timed_rebuild(app: Dispatch, url: str) -> tuple[int, float]:
    """Reset and rebuild the PostGIS locator and board from the whole log; (events, seconds)."""
    async with await PostgisProjections.connect(asyncpg_dsn(url)) as models:
        start = time.perf_counter()
        reader = FastLogReader(app, models.pool)
        ended = await reader.ended_incidents(await reader.head())
        reader.skip = ended  # their events are not even decoded
        total = await rebuild(
            reader.read, [models.locator, models.board], batch_size=BATCH, ended=ended
        )
        return total, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> None:
    args = _args(argv)
    sizes = SIZES[args.mode]
    events = args.events or sizes.events
    repeats = args.repeats or sizes.repeats
    with scratch_database("najda_bench_audit", postgis=True) as url:
        app = Dispatch(postgres_env(url, pool_size=4), distance=great_circle_m)
        try:
            log(f"writing about {events:,} events ...")
            start = time.perf_counter()
            history = write_history(app, events, seed=SEED)
            log(f"wrote {history.events:,} events in {time.perf_counter() - start:.0f} s")
            EventLog(app).ensure_stream_index()  # as a server's sealer creates it
            with app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
                conn.execute("VACUUM ANALYZE dispatch_events")
            raw_rates, rebuild_rates = [], []
            for r in range(repeats):
                gc.collect()
                rows, raw_s = raw_read(app)
                total, rebuild_s = asyncio.run(timed_rebuild(app, url))
                if rows != history.events or total != history.events:
                    raise SystemExit(f"read {rows} and rebuilt {total} of {history.events}")
                raw_rates.append(rows / raw_s)
                rebuild_rates.append(total / rebuild_s)
                log(
                    f"run {r + 1}: raw {raw_rates[-1]:,.0f} events/s,"
                    f" rebuild {rebuild_rates[-1]:,.0f} events/s"
                )

            rng = random.Random(SEED)
            sample = [rng.choice(history.incidents) for _ in range(sizes.timelines)]
            event_log = EventLog(app)
            lengths = [len(incident_timeline(event_log, i)) for i in sample[:100]]  # warm up
            timeline_runs, raw_runs = [], []
            for _ in range(repeats):
                gc.collect()
                timeline_runs.append(time_each(lambda i: incident_timeline(event_log, i), sample))
                raw_runs.append(time_each(app.recorder.select_events, sample))
        finally:
            app.close()

    raw_rate, rebuild_rate = median(raw_rates), median(rebuild_rates)
    timeline, stream = Latency.of_runs(timeline_runs), Latency.of_runs(raw_runs)
    banner(f"audit on PostgreSQL ({history.events:,} events, {repeats} runs, medians)")
    print(
        f"rebuild (PostGIS locator + board):  {rebuild_rate:>10,.0f} events/s"
        f"  {spread(rebuild_rates)}"
    )
    print(f"baseline raw read of the same rows: {raw_rate:>10,.0f} events/s  {spread(raw_rates)}")
    print(
        f"ratio rebuild/raw: {ratio(rebuild_rate, raw_rate):.2f}x"
        "  (goal >= 0.30x and >= 50,000 events/s)"
    )
    print(
        f"incident timeline ({sizes.timelines} incidents, ~{median(lengths):.0f} entries):"
        f" {timeline.text()}  (goal p99 < 10 ms)"
    )
    print(f"baseline raw read of the incident's own stream: {stream.text()}")
    print(f"ratio timeline/raw stream p99: {ratio(timeline.p99_ms, stream.p99_ms):.2f}x")


if __name__ == "__main__":
    main()
