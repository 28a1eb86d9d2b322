"""Live recommendation latency under the coverage policy, against closest-road, on the demo area.

    python -m bench.policy_recommend [--quick | --full] [--repeats N]

The real demo area (Liechtenstein, imported from the bundled OpenStreetMap extract into a
scratch directory) is seeded into an in-memory Dispatch application; its stations, units and
roads feed the read models a server builds. For calls at random addresses of the area, the
figure is a `coverage` recommendation (the policy's choice among the ranked ambulances and
each one's effect on the coverage of every zone); the baseline is `closest-road` (road ETA
ranking only), both through the same `PolicyRecommender`. Medians of per-call latencies.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stats import banner, log, median, parse_mode, ratio, spread, time_each_async
from najda.api.areas import DEMO_BOUNDARY, demo_extract, import_area
from najda.api.demo_area import seed_area_demo
from najda.domain.application import Dispatch
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.dispatch.targets import DEFAULT_TARGETS
from najda.domain.values import Priority
from najda.geo.area import EMERGENCY_MODE
from najda.geo.distance import great_circle_m
from najda.projections.base import NotificationSource, Tracked
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.road_locator import RoadLocator
from najda.projections.dispatch.stations_hospitals import ReferenceDirectory
from najda.projections.policies.live import zones_from_area
from najda.projections.policies.recommender import PolicyRecommender

SEED = 14
SIZES = {"quick": (50, 3), "default": (200, 5), "full": (1_000, 7)}
PRIORITIES = (Priority.E, Priority.D, Priority.C, Priority.A)
Call = tuple[float, float, Priority]


async def main(argv: Sequence[str] | None = None) -> None:
    """Build the floor, then time both policies, alternating runs."""
    args = parse_mode(__doc__ or "", argv)
    calls, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    with tempfile.TemporaryDirectory(prefix="najda-bench-") as scratch:
        area = import_area(demo_extract(), Path(scratch), boundary=DEMO_BOUNDARY).area
    app = Dispatch(distance=great_circle_m)
    seed_area_demo(app, area)
    items: list[Tracked] = []
    source = NotificationSource(app)
    while batch := source.read(items[-1].position if items else 0, 5_000):
        items.extend(batch)
    app.close()
    locator, reference = EmbeddedLocator(), ReferenceDirectory()
    await locator.apply(items)
    await reference.apply(items)
    network = area.roads.network()
    road = RoadLocator(locator, network, EMERGENCY_MODE)
    zones = zones_from_area(area)
    now = datetime.now(UTC)

    def recommender(name: str) -> PolicyRecommender:
        return PolicyRecommender(
            name,
            locator,
            road,
            reference,
            DEFAULT_TARGETS,
            zones=zones,
            network=network,
            mode=EMERGENCY_MODE,
            now=lambda: now,
        )

    coverage, closest = recommender("coverage"), recommender("closest-road")
    rng = random.Random(SEED)
    points = [(a.lat, a.lon, rng.choice(PRIORITIES)) for a in rng.sample(area.addresses, calls)]
    plan = default_response_plan()
    log(
        f"{area.name}: {len(area.addresses)} addresses, {len(zones.names) if zones else 0} "
        f"zones, {len(reference.stations)} stations; {calls} calls"
    )

    def timed(policy: PolicyRecommender) -> Callable[[Call], Awaitable[object]]:
        async def one(point: Call) -> object:
            lat, lon, priority = point
            return await policy.recommend_at(lat, lon, priority, "chest pain", plan, call_at=now)

        return one

    await timed(coverage)(points[0])  # the cover of each station is computed once, then kept
    figure_runs: list[float] = []
    base_runs: list[float] = []
    for _ in range(repeats):
        base_runs.append(statistics.median(await time_each_async(timed(closest), points)) * 1000)
        figure_runs.append(statistics.median(await time_each_async(timed(coverage), points)) * 1000)
    banner(f"recommendation under a policy, {area.name} demo")
    figure, baseline = median(figure_runs), median(base_runs)
    print(
        f"coverage recommendation (choice + impact per ambulance): {figure:.3f} ms median "
        f"{spread(figure_runs)}"
    )
    print(f"baseline closest-road recommendation: {baseline:.3f} ms median {spread(base_runs)}")
    print(f"ratio: {ratio(figure, baseline):.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
