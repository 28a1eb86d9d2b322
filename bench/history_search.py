"""History search benchmark on PostgreSQL: GET /incidents?q=… folds every incident's events.

    python -m bench.history_search [--quick | --full] [--repeats N]

A scratch database gets a valid history (units, incidents worked from call to close) written
straight through the recorder. Figure: one history search as the route runs it on a live
server (`HistoryIndex.refresh`, which reads only the rows after its position, then `search`),
in ms; also the first search of a fresh index (the whole history read, decoded and folded).
Baseline: the raw read of all the incident rows (the same SQL as a fresh index, no decoding,
no fold), which is what a search without the index would at least pay.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._history import write_history
from bench._pg import scratch_database
from bench._stats import banner, log, median, parse_mode, ratio, spread
from najda.domain.application import Dispatch
from najda.geo.distance import great_circle_m
from najda.projections.dispatch.incident_history import TOPICS, HistoryIndex, HistoryQuery, search
from najda.projections.store.environment import postgres_env
from najda.projections.store.event_rows import EventLog

EVENTS = {"quick": 20_000, "default": 200_000, "full": 1_000_000}
REPEATS = {"quick": 3, "default": 5, "full": 7}


def main() -> None:
    """Write the history, then time the search and the raw read, alternating."""
    args = parse_mode(__doc__ or "")
    repeats = args.repeats or REPEATS[args.mode]
    with scratch_database("najda_bench_hist") as url:
        app = Dispatch(env=postgres_env(url), distance=great_circle_m)
        try:
            history = write_history(app, EVENTS[args.mode])
            log(f"wrote {history.events} events, {len(history.incidents)} incidents")
            elog = EventLog(app)
            marks = ", ".join("?" for _ in TOPICS)
            query = HistoryQuery(q="street 7")

            def raw() -> int:
                with elog.transaction() as runner:
                    return len(elog.rows(runner, f"topic IN ({marks})", list(TOPICS)))

            index = HistoryIndex()
            start = time.perf_counter()
            index.refresh(elog)
            cold_ms = (time.perf_counter() - start) * 1000

            def searched() -> int:
                return len(search(index.refresh(elog), query))

            raw_ms: list[float] = []
            search_ms: list[float] = []
            for _ in range(repeats):
                for op, out in ((raw, raw_ms), (searched, search_ms)):
                    start = time.perf_counter()
                    op()
                    out.append((time.perf_counter() - start) * 1000)
            rows = raw()
        finally:
            app.close()
    banner(f"history search over {len(history.incidents)} incidents ({rows} incident rows)")
    figure, baseline = median(search_ms), median(raw_ms)
    print(f"history search (index up to date):  {figure:.1f} ms median {spread(search_ms)}")
    print(f"first search of a fresh index:      {cold_ms:.1f} ms (once per server start)")
    print(f"baseline raw read of all the rows:  {baseline:.1f} ms median {spread(raw_ms)}")
    print(f"ratio search / raw read: {ratio(figure, baseline):.3f}x")


if __name__ == "__main__":
    main()
