"""Road-ETA ranking of every unit for one incident on the JEMSS Manhattan network (16,811 nodes).

    python -m bench.road_rank [--quick | --full] [--repeats N]

Figure: RoadLocator.nearest() for a random call location, all 12 ambulances ranked by road
ETA, in two states: units parked at their stations (trees from stations pinned, as the
simulator and a live deployment keep them) and units scattered over random nodes (no tree
held: one reverse Dijkstra from the incident's node). Baseline, in the same run: a single
scipy one-to-all dijkstra() call from a random node on the same graph. Also the cost of
recording the ranked ETA of one unit at assignment (travel_of), with the tree towards the call
held (it was just ranked) and cold, against the straight-line ETA it replaced. Medians over
runs of each run's p50 and p99.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from scipy.sparse.csgraph import dijkstra

from bench._stats import Latency, banner, fmt_ms, log, parse_mode, ratio, time_each, time_each_async
from najda.domain.application import Dispatch
from najda.domain.values import Position
from najda.geo.distance import great_circle_m
from najda.projections.base import NotificationSource
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Query
from najda.projections.dispatch.road_locator import RoadLocator, travel_of
from najda.projections.runner import ProjectionRunner
from najda.projections.store.environment import sqlite_env
from najda.simulations.jemss import load_jemss
from najda.simulations.travel import RoadTravel

SCENARIO = Path(__file__).resolve().parents[2] / "shared" / "scenarios" / "jemss-manhattan"
SIZES = {"quick": (100, 3), "default": (400, 5), "full": (1000, 7)}


async def main() -> int:
    args = parse_mode(__doc__ or "")
    queries_per_run, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    if not SCENARIO.is_dir():
        print(f"skipped: {SCENARIO} is absent")
        return 0
    scenario = load_jemss(SCENARIO)
    network = scenario.network
    if network is None:
        raise SystemExit("the scenario has no road network")
    RoadTravel(scenario, network)  # pins the trees from stations and hospitals, as a run does
    mode = scenario.priorities[scenario.priority_order()[0]].travel_mode
    rng = np.random.default_rng(11)
    calls = scenario.calls.calls(30 * 86_400, rng)[:queries_per_run]
    with tempfile.TemporaryDirectory() as scratch:
        app = Dispatch(sqlite_env(Path(scratch) / "events.sqlite"), distance=great_circle_m)
        try:
            inner = EmbeddedLocator()
            runner = ProjectionRunner(NotificationSource(app), [inner])
            ids = []
            for s in scenario.stations:
                app.register_station(s.code, s.name, Position(s.lat, s.lon), "bench")
            for u in scenario.units:
                site = scenario.stations[u.station]
                ids.append(
                    app.register_unit(
                        u.call_sign, u.kind, "bench", home=Position(site.lat, site.lon)
                    )
                )
            await runner.catch_up()
            locator = RoadLocator(inner, network, mode)
            queries = [Query(c.lat, c.lon, limit=len(ids)) for c in calls]
            sources = rng.integers(0, network.node_count, queries_per_run).tolist()
            graph = network.graphs[mode]

            def one_to_all(node: int) -> object:
                return dijkstra(graph, indices=node)

            parked: list[list[float]] = []
            base: list[list[float]] = []
            for _ in range(repeats):
                gc.collect()
                network.forget_trees()  # cold: no tree towards an incident is reused
                parked.append(await time_each_async(locator.nearest, queries))
                base.append(time_each(one_to_all, sources))
            nodes = rng.integers(0, network.node_count, len(ids))
            for unit_id, n in zip(ids, nodes.tolist(), strict=True):
                app.report_position(
                    unit_id, Position(float(network.lats[n]), float(network.lons[n])), "bench"
                )
            await runner.catch_up()
            scattered: list[list[float]] = []
            for _ in range(repeats):
                gc.collect()
                network.forget_trees()
                scattered.append(await time_each_async(locator.nearest, queries))
            ranked = await locator.nearest(queries[0])
            # The ETA an assignment records is the ranked one (travel_of): after the ranking
            # for the same call (its tree towards the incident held), and cold (no tree).
            row = await inner.get(ids[0])
            assert row is not None

            def recorded(q: Query) -> object:
                return travel_of(locator, q.lat, q.lon, row)

            def straight(q: Query) -> object:
                return travel_of(inner, q.lat, q.lon, row)

            after_rank: list[list[float]] = []
            cold: list[list[float]] = []
            line: list[list[float]] = []
            for _ in range(repeats):
                gc.collect()
                network.forget_trees()
                cold.append(time_each(recorded, queries))
                after_rank.append(time_each(recorded, queries))  # trees now held
                line.append(time_each(straight, queries))
        finally:
            app.close()
    b = Latency.of_runs(base)
    banner("road-ETA ranking of all units, 16,811-node network")
    log(f"{len(ranked)} units ranked per query; {queries_per_run} queries x {repeats} runs")
    for name, runs in (("units at stations", parked), ("units scattered", scattered)):
        f = Latency.of_runs(runs)
        print(
            f"{name:18s} {f.text()}  baseline one scipy dijkstra {b.text()}  "
            f"p99 ratio {ratio(f.p99_ms, b.p99_ms):.2f}  goal p99 < 5 ms: "
            f"{'met' if f.p99_ms < 5 else 'NOT met'} ({fmt_ms(f.p99_ms)})"
        )
    s = Latency.of_runs(line)
    for name, runs in (("recorded ETA warm", after_rank), ("recorded ETA cold", cold)):
        f = Latency.of_runs(runs)
        print(
            f"{name:18s} {f.text()}  baseline straight-line ETA {s.text()}  "
            f"p50 ratio {ratio(f.p50_ms, s.p50_ms):.2f}; one scipy dijkstra {b.text()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
