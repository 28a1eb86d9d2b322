"""Importing the Liechtenstein extract, and geocoding it on both stores.

    python -m bench.geocode [--quick | --full] [--repeats N]

Figures, each beside a baseline measured in the same run:
- import: `najda area import` of the bundled extract (boundary Liechtenstein), against one
  bare pyosmium pass over the same file with node locations (reading it, nothing else);
- geocode p50/p99 per store (SQLite FTS5, PostgreSQL pg_trgm) over realistic queries of
  every kind, against the store's bare trigram query on the same index for the same words
  (goal: p99 < 20 ms and <= 3x the bare query);
- reverse p99 per store at random points of the area (goal: < 5 ms), against a bare
  nearest-address index lookup.
Each geocoder call is timed beside its baseline call (one, then the other, query by query),
so that the load of a shared machine falls on both alike. Medians over runs of each run's p50
and p99. The PostgreSQL plan's scan nodes are printed too (the GIN trigram index, no seq scan).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import osmium

from bench._pg import scratch_database
from bench._stats import Latency, banner, fmt_ms, log, median, parse_mode, ratio, time_each
from najda.api.areas import demo_extract, import_area
from najda.geo.address_text import read_query
from najda.geo.area import Area
from najda.projections.addresses.geocoder import CANDIDATES, Geocoder
from najda.projections.addresses.index import AddressIndex
from najda.projections.addresses.sqlite_index import SqliteAddressIndex

if TYPE_CHECKING:
    from najda.projections.addresses.postgres_index import PostgresAddressIndex

QUERIES = [
    "Zollstrasse 56, 9490 Vaduz", "zollstr. 56", "56 Zollstrasse Vaduz", "Städtle 14",
    "Stadtle 14", "Heiligkreuz 25", "Egertastrasse 14, Vaduz", "Gapetschstrasse 15 Schaan",
    "Im Pardiel 61a", "Habrüti 7 Ruggell", "Dröschistrasse 15, Triesen", "Simsgasse 10",
    "Fürst-Franz-Josef-Strasse 84", "Sückastrasse 19 9497", "Zweistäpfle 6 Balzers",
    "Geißzipfelstr. 22", "Zolstrasse 56", "Aeulestrasse 51", "Landstrasse 100 Triesen",
    "Spaniagasse", "Toniäulestrasse", "Wingertgasse, Vaduz", "Dohlenweg 9999",
    "Zollstrasse / Auweg", "Landstrasse & Austrasse", "Bahnhofstrasse and Landstrasse",
    "Felbaweg und Zollstr.", "Malbun", "Masescha", "Gamprin", "Bendern", "Lawena",
    "Landesspital", "Rotes Kreuz", "Feuerwehr Vaduz", "Landesbibliothek", "Walsermuseum",
    "Post Schaan", "Schloss Apotheke", "Triesenberg",
]  # fmt: skip
A = TypeVar("A")
B = TypeVar("B")
SIZES = {"quick": (1, 200, 1), "default": (3, 1_000, 3), "full": (5, 3_000, 5)}


def bare_read(path: Path) -> None:
    """One pass over the file with node locations, doing nothing with the objects."""
    for _ in osmium.FileProcessor(str(path)).with_locations():
        pass


def interleaved(
    figure: Callable[[A], object], baseline: Callable[[B], object], pairs: Sequence[tuple[A, B]]
) -> tuple[list[float], list[float]]:
    """Time `figure(a)` then `baseline(b)` for each pair in turn, so that the noise of a
    shared machine falls on both alike; durations in seconds, one list each."""
    figures: list[float] = []
    baselines: list[float] = []
    clock = time.perf_counter
    for a, b in pairs:
        start = clock()
        figure(a)
        middle = clock()
        baseline(b)
        figures.append(middle - start)
        baselines.append(clock() - middle)
    return figures, baselines


def bench_import(runs: int) -> None:
    extract = demo_extract()
    figures, bases = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            import_area(extract, Path(scratch), boundary="Liechtenstein")
            figures.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare_read(extract)
        bases.append(time.perf_counter() - start)
    f, b = median(figures), median(bases)
    print(f"import {extract.name}: {f:.2f}s  baseline bare pyosmium pass {b:.2f}s"
          f"  ratio {ratio(f, b):.1f}x  ({runs} runs, medians)")  # fmt: skip


def bench_store(name: str, index: AddressIndex, area: Area, runs: int, reverses: int) -> None:
    geocoder = Geocoder(index, area.municipalities)
    postcodes = frozenset(geocoder.postcodes())
    words = [read_query(q, postcodes).words for q in QUERIES]
    rng = np.random.default_rng(5)
    west, south, east, north = area.bounds
    points = list(
        zip(rng.uniform(south, north, reverses), rng.uniform(west, east, reverses), strict=True)
    )
    near = [(a.lat, a.lon) for a in area.addresses[:: max(1, len(area.addresses) // reverses)]]
    search, bare, rev, rev_bare = [], [], [], []
    for _ in range(runs):
        s_run, b_run = interleaved(
            lambda q: geocoder.search(q, 5),
            lambda w: index.bare_trigram_query(w, CANDIDATES),
            list(zip(QUERIES, words, strict=True)) * 5,
        )
        search.append(s_run)
        bare.append(b_run)
        r_run, rb_run = interleaved(
            lambda p: geocoder.reverse(*p),
            lambda p: index.nearest_address(p[0], p[1], 50.0),
            [(p, p) for p in near],
        )
        rev.append(r_run + time_each(lambda p: geocoder.reverse(*p), points))
        rev_bare.append(rb_run)
    s, b = Latency.of_runs(search), Latency.of_runs(bare)
    r, rb = Latency.of_runs(rev), Latency.of_runs(rev_bare)
    print(f"{name} geocode: {s.text()}  baseline bare trigram query {b.text()}"
          f"  p99 ratio {ratio(s.p99_ms, b.p99_ms):.2f}x  (goal p99 < 20ms, <= 3x)")  # fmt: skip
    print(f"{name} reverse: {r.text()}  baseline bare nearest-address lookup {rb.text()}"
          f"  p99 ratio {ratio(r.p99_ms, rb.p99_ms):.2f}x  (goal p99 < 5ms)")  # fmt: skip
    log(f"{name}: {len(QUERIES) * 5} queries, {len(points) + len(near)} reverse points per run")


def trigram_plan(pg: PostgresAddressIndex) -> str:
    """The scan nodes of the PostgreSQL trigram search's plan, e.g. `Bitmap Index Scan on
    najda_geo_name_trgm` (a `Seq Scan` there would mean the GIN index is not used)."""
    from najda.projections.addresses.postgres_index import NAMES_SQL

    with pg.pool.connection() as conn:
        lines = [r[0] for r in conn.execute(f"EXPLAIN {NAMES_SQL}", ("zollstrasse",) * 2 + (30,))]
    return "; ".join(line.strip(" ->").split("  (")[0] for line in lines if "Scan" in line)


def main() -> int:
    args = parse_mode(__doc__ or "")
    imports, reverses, runs = SIZES[args.mode]
    runs = args.repeats or runs
    banner("geocode")
    bench_import(imports)
    with tempfile.TemporaryDirectory() as scratch:
        area = import_area(demo_extract(), Path(scratch), boundary="Liechtenstein").area
        sqlite = SqliteAddressIndex(Path(scratch) / "geocode.sqlite")
        sqlite.replace(area)
        bench_store("sqlite", sqlite, area, runs, reverses)
        sqlite.close()
    try:
        from najda.projections.addresses.postgres_index import PostgresAddressIndex

        with scratch_database("najda_bench_geo", postgis=True) as url:
            pg = PostgresAddressIndex(url)
            try:
                pg.replace(area)
                print(f"postgresql plan of the trigram search: {trigram_plan(pg)}")
                bench_store("postgresql", pg, area, runs, reverses)
            finally:
                pg.close()
    except Exception as exc:  # no PostgreSQL here: say so, the SQLite figures stand
        print(f"postgresql: skipped ({exc})")
    print(f"(times: {fmt_ms(0.0)} resolution; medians over {runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
