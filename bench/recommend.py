"""Recommendation latency: the truthful recommendation against bare nearest queries.

    python -m bench.recommend [--quick | --full] [--repeats N]

An embedded locator is fed the real event stream of a fleet (units registered through the
Dispatch application on its in-memory store, a third of them dispatched). For incidents at
random points, each with one ALS already committed, the figure is `recommend()` for a D call
(the plan: an ALS, then the nearest other unit): it matches the committed units to the
requirements, queries only the unfilled ones, and looks for a substitute when one cannot be
filled. The baseline is what the old recommendation paid: one bare `nearest()` per
requirement of the plan. Medians of per-call latencies over the runs.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._stats import banner, log, median, parse_mode, ratio, spread, time_each_async
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.dispatch.incident import Incident
from najda.domain.dispatch.response_plan import default_response_plan
from najda.domain.values import Position, Priority, UnitKind
from najda.geo.distance import great_circle_m
from najda.projections.base import NotificationSource, Tracked
from najda.projections.dispatch.in_memory import EmbeddedLocator
from najda.projections.dispatch.locator import Query
from najda.projections.dispatch.recommendations import recommend

SEED = 13
CENTRE = Position(36.75, 3.06)
ACTOR = "bench"
KINDS = (UnitKind.ALS, UnitKind.BLS, UnitKind.BLS, UnitKind.RESPONDER, UnitKind.CRISIS)
SIZES = {"quick": (300, 200, 3), "default": (2_000, 1_000, 5), "full": (5_000, 3_000, 7)}


def _point(rng: random.Random) -> Position:
    return Position(CENTRE.lat + rng.uniform(-0.18, 0.18), CENTRE.lon + rng.uniform(-0.22, 0.22))


def build(units: int, incidents: int, rng: random.Random) -> tuple[list[Tracked], list[Incident]]:
    """The fleet's log, and incidents each with one ALS committed."""
    app = Dispatch(distance=great_circle_m)
    ids = [
        app.register_unit(f"U{i:05d}", KINDS[i % len(KINDS)], ACTOR, home=_point(rng))
        for i in range(units)
    ]
    als = [u for i, u in enumerate(ids) if KINDS[i % len(KINDS)] is UnitKind.ALS]
    made: list[Incident] = []
    for unit_id in als[: min(incidents, len(als) * 2 // 3)]:
        incident_id = app.report_incident(
            location=_point(rng), address="", nature="chest pain", priority=Priority.D, actor=ACTOR
        )
        app.assign_units(incident_id, [UnitChoice(unit_id)], ACTOR)
        made.append(app.get_incident(incident_id))
    source = NotificationSource(app)
    items: list[Tracked] = []
    while batch := source.read(items[-1].position if items else 0, 5_000):
        items.extend(batch)
    app.close()
    return items, made


async def main(argv: Sequence[str] | None = None) -> None:
    """Feed the locator, then time both, alternating runs."""
    args = parse_mode(__doc__ or "", argv)
    units, incidents, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    rng = random.Random(SEED)
    items, made = build(units, incidents, rng)
    locator = EmbeddedLocator()
    for i in range(0, len(items), 5_000):
        await locator.apply(items[i : i + 5_000])
    plan = default_response_plan()
    log(f"{units} units, {len(made)} incidents with one ALS committed")

    async def truthful(incident: Incident) -> object:
        return await recommend(incident, plan, locator)

    async def bare(incident: Incident) -> object:
        taken = frozenset(incident.active_unit_ids)
        for requirement in plan.requirements_for(incident.priority, incident.nature):
            await locator.nearest(
                Query(
                    lat=incident.location.lat,
                    lon=incident.location.lon,
                    kinds=requirement.kinds,
                    capabilities=requirement.capabilities,
                    limit=requirement.count + 4,
                    exclude=taken,
                )
            )
        return None

    figure_runs: list[float] = []
    base_runs: list[float] = []
    for _ in range(repeats):
        base_runs.append(statistics.median(await time_each_async(bare, made)) * 1000)
        figure_runs.append(statistics.median(await time_each_async(truthful, made)) * 1000)
    banner(f"recommendation for a D call with one ALS committed ({units} units)")
    figure, baseline = median(figure_runs), median(base_runs)
    print(f"recommend() (coverage, unfilled only): {figure:.3f} ms median {spread(figure_runs)}")
    print(f"baseline bare nearest() per requirement: {baseline:.3f} ms median {spread(base_runs)}")
    print(f"ratio: {ratio(figure, baseline):.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
