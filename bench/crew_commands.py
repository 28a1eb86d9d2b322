"""What a client command id costs: a crew status press with `command_id` vs the same press
without one, and a replay answered from its record, on SQLite and PostgreSQL.

    python -m bench.crew_commands [--quick | --full] [--repeats N] [--no-postgres]

Each run registers units, assigns each to its own incident (untimed), then times, per unit, one
`dispatched → en_route` press: half the units without an id (the baseline, same run, same
store), half with one; then a replay of every id. Figures are the median over runs of each
run's p50 latency, and their ratios.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

if __package__ in (None, ""):  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._pg import scratch_database
from bench._stats import banner, median, parse_mode, percentile, ratio, time_each
from najda.domain.application import Dispatch, UnitChoice
from najda.domain.dispatch.crew_commands import status_once
from najda.domain.values import Position, Priority, UnitKind, UnitStatus
from najda.geo.distance import great_circle_m
from najda.projections.store.environment import postgres_env, sqlite_env

HOME = Position(47.14, 9.52)
SIZES = {"quick": (40, 3), "default": (150, 5), "full": (400, 7)}


def _units_on_jobs(app: Dispatch, count: int, run: int) -> list[tuple[UUID, UUID]]:
    pairs = []
    for i in range(count):
        unit = app.register_unit(f"B{run}-{i}", UnitKind.ALS, "bench", home=HOME)
        incident = app.report_incident(
            location=HOME, address="Städtle 1", nature="fall", priority=Priority.C, actor="bench"
        )
        app.assign_units(incident, [UnitChoice(unit)], "bench")
        pairs.append((unit, incident))
    return pairs


def one_run(app: Dispatch, count: int, run: int) -> tuple[float, float, float]:
    """p50 seconds of: a press without an id, with an id, a replay of an id."""
    pairs = _units_on_jobs(app, count, run)
    plain, keyed = pairs[::2], pairs[1::2]

    def press(pair: tuple[UUID, UUID]) -> object:
        return app.update_unit_status(pair[0], UnitStatus.EN_ROUTE, "crew")

    def press_once(pair: tuple[UUID, UUID]) -> object:
        once = status_once(pair[0], f"r{run}-{pair[0]}", UnitStatus.EN_ROUTE, "", pair[1])
        return app.update_unit_status(
            pair[0], UnitStatus.EN_ROUTE, "crew", once=once, for_incident=pair[1]
        )

    without = time_each(press, plain)
    with_id = time_each(press_once, keyed)
    replay = time_each(press_once, keyed)
    return percentile(without, 50), percentile(with_id, 50), percentile(replay, 50)


def measure(store: str, env_for: Callable[[], dict[str, str]], count: int, repeats: int) -> None:
    runs = []
    for run in range(repeats):
        app = Dispatch(env=env_for(), distance=great_circle_m)
        try:
            runs.append(one_run(app, count, run))
        finally:
            app.close()
    base, keyed, replay = (median([r[i] * 1000 for r in runs]) for i in range(3))
    print(
        f"{store}: press with command_id p50 {keyed:.2f} ms vs without (baseline) {base:.2f} ms:"
        f" ratio {ratio(keyed, base):.2f}; replay answered p50 {replay:.2f} ms"
        f" (ratio {ratio(replay, base):.2f}); median of {repeats} runs x {count // 2} presses"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_mode(__doc__ or "", [a for a in (argv or sys.argv[1:]) if a != "--no-postgres"])
    count, repeats = SIZES[args.mode]
    repeats = args.repeats or repeats
    banner("crew commands: the cost of a client command id")
    with tempfile.TemporaryDirectory() as tmp:
        serial = iter(range(10**6))
        measure("sqlite", lambda: sqlite_env(Path(tmp) / f"e{next(serial)}.sqlite"), count, repeats)
    if "--no-postgres" in (argv or sys.argv[1:]):
        return
    with scratch_database("najda_bench_i13b") as url:
        # one database: each run's units have their own call signs
        measure("postgresql", lambda: postgres_env(url), count, repeats)


if __name__ == "__main__":
    main()
