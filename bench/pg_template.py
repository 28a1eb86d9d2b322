"""A fresh PostGIS test database: cloned from a template (figure) vs created with its extensions
(baseline, what each PostgreSQL test did before). Interleaved, medians over runs.
Then clones made and dropped several at a time, as the test fixture does on its worker threads
(figure), against one at a time (baseline): seconds per database.

    python -m bench.pg_template [--quick | --full] [--repeats N]
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import psycopg

from bench._pg import ADMIN_URL
from bench._stats import banner, log, median, parse_mode, ratio, spread

EXTENSIONS = ("postgis", "pg_trgm", "unaccent")
PER_RUN = {"quick": 3, "default": 8, "full": 20}
IN_FLIGHT = 6  # tests/pgdatabases.py's Clones: worker threads
RUNS = {"quick": 3, "default": 5, "full": 7}


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _extend(name: str) -> None:
    with psycopg.connect(_url(name), autocommit=True) as conn:
        for extension in EXTENSIONS:
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")


def fresh_with_extensions() -> float:
    """Seconds to create a database, add the extensions and drop it (the old fixture)."""
    name = f"najda_bench_fresh_{uuid.uuid4().hex[:12]}"
    start = time.perf_counter()
    _admin(f'CREATE DATABASE "{name}"')
    _extend(name)
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return time.perf_counter() - start


def cloned(template: str) -> float:
    """Seconds to clone the template and drop the clone (the new fixture)."""
    name = f"najda_bench_clone_{uuid.uuid4().hex[:12]}"
    start = time.perf_counter()
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return time.perf_counter() - start


def clones_per_database(template: str, count: int, in_flight: int) -> float:
    """Seconds per database to clone and drop `count` clones, `in_flight` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        list(pool.map(lambda _: cloned(template), range(count)))
    return (time.perf_counter() - start) / count


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print the figures."""
    args = parse_mode(__doc__ or "", argv)
    runs, per_run = args.repeats or RUNS[args.mode], PER_RUN[args.mode]
    template = f"najda_bench_template_{uuid.uuid4().hex[:12]}"
    start = time.perf_counter()
    _admin(f'CREATE DATABASE "{template}"')
    try:
        _extend(template)
        _admin(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')
        made_s = time.perf_counter() - start
        new: list[float] = []
        old: list[float] = []
        parallel: list[float] = []
        serial: list[float] = []
        for run in range(runs):
            log(f"run {run + 1}/{runs}")
            pairs = [(cloned(template), fresh_with_extensions()) for _ in range(per_run)]
            new.append(median([p[0] for p in pairs]))
            old.append(median([p[1] for p in pairs]))
            parallel.append(clones_per_database(template, 2 * IN_FLIGHT, IN_FLIGHT))
            serial.append(clones_per_database(template, 2 * IN_FLIGHT, 1))
    finally:
        _admin(f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')
        _admin(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
    banner("a fresh PostGIS test database (create + drop)")
    print(f"template made once per session: {made_s * 1000:.0f}ms")
    print(f"clone of the template:    median {median(new) * 1000:.0f}ms {spread(new)}s")
    print(f"baseline, fresh + extensions: median {median(old) * 1000:.0f}ms {spread(old)}s")
    print(
        f"ratio clone/baseline: {ratio(median(new), median(old)):.3f}"
        f" ({ratio(median(old), median(new)):.1f}x faster; {runs} runs x {per_run})"
    )
    banner(f"clone + drop, {IN_FLIGHT} at a time (per database)")
    print(f"{IN_FLIGHT} in flight:   median {median(parallel) * 1000:.0f}ms {spread(parallel)}s")
    print(f"baseline, one at a time: median {median(serial) * 1000:.0f}ms {spread(serial)}s")
    print(
        f"ratio parallel/baseline: {ratio(median(parallel), median(serial)):.3f}"
        f" ({ratio(median(serial), median(parallel)):.1f}x faster; {runs} runs x {2 * IN_FLIGHT})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
