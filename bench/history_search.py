"""History search benchmark on PostgreSQL: GET /incidents?q=… folds every incident's events.

    python -m bench.history_search [--quick | --full] [--repeats N]

A scratch database gets a valid history (units, incidents worked from call to close) written
straight through the recorder. Figure: one history search (`incident_history` then `search`,
as the route runs it: read the incident rows of six topics, decode, fold, filter), in ms.
Baseline: the raw read of the same rows (the same SQL, no decoding, no fold). The ratio says
what decoding and folding cost over reading; both grow with the whole history.
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
from domain.application import Dispatch
from projections.eventlog import EventLog
from projections.history import TOPICS, HistoryQuery, incident_history, search
from projections.stores import postgres_env

EVENTS = {"quick": 20_000, "default": 200_000, "full": 1_000_000}
REPEATS = {"quick": 3, "default": 5, "full": 7}


def main() -> None:
    """Write the history, then time the search and the raw read, alternating."""
    args = parse_mode(__doc__ or "")
    repeats = args.repeats or REPEATS[args.mode]
    with scratch_database("najda_bench_hist") as url:
        app = Dispatch(env=postgres_env(url))
        try:
            history = write_history(app, EVENTS[args.mode])
            log(f"wrote {history.events} events, {len(history.incidents)} incidents")
            elog = EventLog(app)
            marks = ", ".join("?" for _ in TOPICS)
            query = HistoryQuery(q="street 7")

            def raw() -> int:
                with elog.transaction() as runner:
                    return len(elog.rows(runner, f"topic IN ({marks})", list(TOPICS)))

            def searched() -> int:
                return len(search(incident_history(elog), query))

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
    print(f"history search (decode, fold, filter): {figure:.1f} ms median {spread(search_ms)}")
    print(f"baseline raw read of the same rows:     {baseline:.1f} ms median {spread(raw_ms)}")
    print(f"ratio search / raw read: {ratio(figure, baseline):.2f}x")


if __name__ == "__main__":
    main()
