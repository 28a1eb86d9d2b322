"""Nearest-available-unit latency: PostGIS and embedded locators, each against a bare baseline.

    python -m bench.nearest [--quick | --full] [--repeats N]

PostGIS locator `nearest()` vs a prepared raw asyncpg KNN query on the same table; embedded
locator `nearest()` vs a bare scipy cKDTree k=5 query on the same points. The read models are
fed the real event stream: units registered and half of them dispatched through the Dispatch
application on its in-memory store, read back through NotificationSource, applied in batches.
"""

from __future__ import annotations

import asyncio
import gc
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from scipy.spatial import cKDTree

from bench._pg import scratch_database
from bench._stats import Latency, banner, log, parse_mode, ratio, time_each, time_each_async
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.values import Position, Priority, UnitKind
from najda.geo.distance import great_circle_m, unit_vectors
from najda.projections.base import NotificationSource, Tracked
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Query
from najda.projections.store.environment import asyncpg_dsn

SEED = 20240611
CENTRE = Position(36.75, 3.06)  # a city of about 40 km x 40 km
LAT_SPAN = 0.36  # about 40 km
LON_SPAN = 0.45  # about 40 km at this latitude
KIND_WEIGHTS = {
    UnitKind.ALS: 0.30,
    UnitKind.BLS: 0.40,
    UnitKind.RESPONDER: 0.15,
    UnitKind.CRISIS: 0.10,
    UnitKind.SUPERVISOR: 0.05,
}
CAPABILITIES = ("cardiac", "paediatric", "bariatric", "neonatal")
QUERY_KINDS = frozenset({UnitKind.ALS})
LIMIT = 5
BATCH = 500
ACTOR = "bench"
RAW_KNN = (
    "SELECT unit_id FROM najda_unit_locator"
    " WHERE status = 'available' AND kind = ANY($1::text[])"
    " ORDER BY geom <-> ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography"
    " LIMIT 5"
)


@dataclass(frozen=True)
class Sizes:
    """How much work one invocation does."""

    units: int
    queries: int
    repeats: int
    warmup: int


SIZES = {
    "quick": Sizes(units=10_000, queries=500, repeats=3, warmup=100),
    "default": Sizes(units=10_000, queries=2_000, repeats=5, warmup=300),
    "full": Sizes(units=10_000, queries=5_000, repeats=9, warmup=500),
}


def _random_point(rng: random.Random) -> Position:
    return Position(
        CENTRE.lat + (rng.random() - 0.5) * LAT_SPAN,
        CENTRE.lon + (rng.random() - 0.5) * LON_SPAN,
    )


def build_event_log(units: int, rng: random.Random) -> list[Tracked]:
    """Register units and dispatch half of them through Dispatch; return the decoded log."""
    # eventsourcing's in-memory store: the real commands, no I/O cost
    app = Dispatch(distance=great_circle_m)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    unit_ids = [
        app.register_unit(
            f"B{i:05d}",
            rng.choices(kinds, weights)[0],
            ACTOR,
            capabilities=rng.sample(CAPABILITIES, rng.randint(0, 2)),
            home=_random_point(rng),
        )
        for i in range(units)
    ]
    for unit_id in rng.sample(unit_ids, units // 2):
        incident_id = app.report_incident(
            location=_random_point(rng),
            address="bench",
            nature="bench call",
            priority=Priority.C,
            actor=ACTOR,
        )
        app.assign_units(incident_id, [UnitChoice(unit_id)], ACTOR)
    source = NotificationSource(app)
    log_items: list[Tracked] = []
    while batch := source.read(log_items[-1].position if log_items else 0, 5_000):
        log_items.extend(batch)
    app.close()
    return log_items


def batches(items: Sequence[Tracked]) -> list[Sequence[Tracked]]:
    """The log in slices of BATCH, as the projection runner would apply it."""
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def make_queries(count: int, rng: random.Random) -> list[Query]:
    """Random points over the city, ALS only, limit 5."""
    return [
        Query(lat=p.lat, lon=p.lon, kinds=QUERY_KINDS, limit=LIMIT)
        for p in (_random_point(rng) for _ in range(count))
    ]


@dataclass(frozen=True)
class Pair:
    """A figure and its baseline, with extra lines of context."""

    figure: Latency
    baseline: Latency
    notes: tuple[str, ...] = ()


async def bench_embedded(log_items: Sequence[Tracked], queries: list[Query], sizes: Sizes) -> Pair:
    """Embedded locator nearest() vs a bare cKDTree k=5 query over the same available units."""
    locator = EmbeddedLocator()
    start = time.perf_counter()
    for batch in batches(log_items):
        await locator.apply(batch)
    load_s = time.perf_counter() - start
    rows = [r for r in await locator.all_units() if r.available and r.kind in QUERY_KINDS]
    tree = cKDTree(unit_vectors(np.array([r.lat for r in rows]), np.array([r.lon for r in rows])))
    points = unit_vectors(np.array([q.lat for q in queries]), np.array([q.lon for q in queries]))
    point_rows = list(points)

    for q in queries[: sizes.warmup]:
        await locator.nearest(q)
    bare_runs: list[list[float]] = []
    locator_runs: list[list[float]] = []
    for run in range(sizes.repeats):
        gc.collect()
        order = ("bare", "locator") if run % 2 == 0 else ("locator", "bare")
        for which in order:
            if which == "bare":
                bare_runs.append(time_each(lambda p: tree.query(p, k=LIMIT), point_rows))
            else:
                locator_runs.append(await time_each_async(locator.nearest, queries))

    agree = 0
    sample = queries[:200]
    for q, p in zip(sample, point_rows, strict=False):
        got = [c.unit_id for c in await locator.nearest(q)]
        _, idx = tree.query(p, k=LIMIT)
        agree += set(got) == {rows[int(i)].unit_id for i in np.atleast_1d(idx)}
    notes = (
        f"embedded: applied {len(log_items)} events in {load_s:.2f}s; "
        f"{len(rows)} available ALS units in the bare tree",
        f"embedded: top-{LIMIT} sets equal to the bare cKDTree's in {agree}/{len(sample)} queries "
        "(chord vs geodesic order may swap near-ties)",
    )
    return Pair(Latency.of_runs(locator_runs), Latency.of_runs(bare_runs), notes)


async def bench_postgis(
    log_items: Sequence[Tracked], queries: list[Query], sizes: Sizes
) -> Pair | str:
    """PostGIS locator nearest() vs a prepared raw asyncpg KNN on the same table."""
    try:
        from najda.projections.store.postgis_pool import PostgisProjections
    except ImportError as exc:
        return f"skipped: najda.projections.store.postgis_pool not importable ({exc})"
    import asyncpg

    with scratch_database("najda_bench_nearest", postgis=True) as url:
        dsn = asyncpg_dsn(url)
        projs: Any = await PostgisProjections.connect(dsn, speed=None)
        conn: Any = None
        try:
            locator = projs.locator
            start = time.perf_counter()
            for batch in batches(log_items):
                await locator.apply(batch)
            load_s = time.perf_counter() - start
            conn = await asyncpg.connect(dsn)
            await conn.execute("ANALYZE najda_unit_locator")
            counted = await conn.fetchval(
                "SELECT count(*) FROM najda_unit_locator"
                " WHERE status = 'available' AND kind = ANY($1::text[])",
                [k.value for k in QUERY_KINDS],
            )
            stmt = await conn.prepare(RAW_KNN)
            kinds = [k.value for k in QUERY_KINDS]

            async def raw(q: Query) -> object:
                return await stmt.fetch(kinds, q.lon, q.lat)

            for q in queries[: sizes.warmup]:
                await locator.nearest(q)
                await raw(q)
            raw_runs: list[list[float]] = []
            locator_runs: list[list[float]] = []
            for run in range(sizes.repeats):
                gc.collect()
                if run % 2 == 0:
                    raw_runs.append(await time_each_async(raw, queries))
                    locator_runs.append(await time_each_async(locator.nearest, queries))
                else:
                    locator_runs.append(await time_each_async(locator.nearest, queries))
                    raw_runs.append(await time_each_async(raw, queries))

            agree = 0
            sample = queries[:200]
            embedded = EmbeddedLocator()
            for batch in batches(log_items):
                await embedded.apply(batch)
            for q in sample:
                got = [c.unit_id for c in await locator.nearest(q)]
                want = [c.unit_id for c in await embedded.nearest(q)]
                agree += got == want
        finally:
            if conn is not None:
                await conn.close()
            await projs.close()
    notes = (
        f"postgis: applied {len(log_items)} events in {load_s:.2f}s "
        f"({len(log_items) / load_s:.0f} events/s); ANALYZE run after the load; "
        f"{counted} available ALS rows",
        f"postgis: answers identical to the embedded locator's in {agree}/{len(sample)} queries",
    )
    return Pair(Latency.of_runs(locator_runs), Latency.of_runs(raw_runs), notes)


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


async def main(argv: Sequence[str] | None = None) -> None:
    args = parse_mode(__doc__ or "", argv)
    sizes = SIZES[args.mode]
    if args.repeats:
        sizes = Sizes(sizes.units, sizes.queries, args.repeats, sizes.warmup)
    rng = random.Random(SEED)
    log(f"building the event log: {sizes.units} units through Dispatch (in-memory store) ...")
    start = time.perf_counter()
    log_items = build_event_log(sizes.units, rng)
    built_s = time.perf_counter() - start
    queries = make_queries(sizes.queries, rng)
    log("embedded ...")
    embedded = await bench_embedded(log_items, queries, sizes)
    log("postgis ...")
    postgis = await bench_postgis(log_items, queries, sizes)

    banner(
        f"nearest [{args.mode}]: {sizes.units} units (half available), "
        f"{sizes.queries} queries x {sizes.repeats} runs, kinds={{als}}, limit {LIMIT}; "
        "medians of per-run percentiles"
    )
    print(
        f"populated via: the real Dispatch application (register_unit, report_incident, "
        f"assign_units) on the in-memory store -> {len(log_items)} events in {built_s:.1f}s "
        f"-> NotificationSource -> locator.apply in batches of {BATCH}"
    )
    for line in embedded.notes:
        print(line)
    if isinstance(postgis, Pair):
        for line in postgis.notes:
            print(line)
        pg, raw = postgis.figure, postgis.baseline
        r99 = ratio(pg.p99_ms, raw.p99_ms)
        print(
            f"nearest/postgis  {pg.text()} | baseline raw-asyncpg KNN {raw.text()} | "
            f"ratio p50={ratio(pg.p50_ms, raw.p50_ms):.2f}x p99={r99:.2f}x "
            f"(goal <=2x, <1ms: {verdict(r99 <= 2 and pg.p99_ms < 1)})"
        )
    else:
        print(f"nearest/postgis  {postgis}")
    em, bare = embedded.figure, embedded.baseline
    print(
        f"nearest/embedded {em.text()} | baseline scipy-cKDTree k=5 {bare.text()} | "
        f"ratio p50={ratio(em.p50_ms, bare.p50_ms):.2f}x p99={ratio(em.p99_ms, bare.p99_ms):.2f}x "
        f"(goal p99<0.2ms: {verdict(em.p99_ms < 0.2)})"
    )


if __name__ == "__main__":
    asyncio.run(main())
