"""`najda simulate`: run policies on a scenario through the real application; print and plot."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from najda.projections.policies.dispatch import POLICIES
from najda.simulations import replicated
from najda.simulations.calls_csv import CallListError, RecordedCalls, read_calls, write_calls
from najda.simulations.jemss import load_jemss
from najda.simulations.parallel import Job, run_all
from najda.simulations.replicated import RunInfo
from najda.simulations.replications import najda_version, rep_seeds
from najda.simulations.report import PolicyReport, comparison, plot, summarise
from najda.simulations.run import BACKENDS, SECONDS_PER_DAY, run_policy
from najda.simulations.scenario import Scenario
from najda.simulations.synthetic import synthetic_city

HELP = """\
SCENARIO is a JEMSS scenario directory (e.g. ../shared/scenarios/jemss-manhattan) or
'synthetic' (a seeded synthetic city, straight-line travel). Give --policy several times,
or --compare, to run several policies on the same calls and print them side by side.
Policies: """ + ", ".join(POLICIES)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the `simulate` sub-command."""
    sim = commands.add_parser(
        "simulate",
        help="simulate days of calls under dispatch policies and compare response times",
        description="Simulate calls through the real dispatch application (in-memory or "
        "SQLite store, simulated clock) and report response times per policy.",
        epilog=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sim.add_argument("scenario", metavar="SCENARIO", help="JEMSS directory or 'synthetic'")
    sim.add_argument(
        "--policy",
        action="append",
        choices=sorted(POLICIES),
        help="dispatch policy (repeat to compare several; default closest-road)",
    )
    sim.add_argument(
        "--compare",
        action="store_true",
        help="run closest-straight, closest-road and coverage side by side",
    )
    sim.add_argument("--days", type=float, default=1.0, help="simulated days of calls (1)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (1)")
    sim.add_argument("--backend", choices=BACKENDS, default="memory",
                     help="event store of the runs: the library's in-memory store (memory, the "
                     "default; the same report as SQLite) or a scratch SQLite file; runs whose "
                     "store --out keeps are on SQLite")
    sim.add_argument("--jobs", type=int, default=1,
                     help="run replications in this many worker processes (1)")
    sim.add_argument("--reps", type=int, default=1,
                     help="independent replications, seeds derived from --seed; every figure "
                     "gets a 95%% confidence interval (1)")
    sim.add_argument("--warm-up-hours", type=float, default=0.0,
                     help="leave calls of the first hours out of the figures (0)")
    sim.add_argument("--calls", type=Path, metavar="CSV",
                     help="replay a recorded call list instead of generating calls")
    sim.add_argument("--from-store", metavar="STORE",
                     help="re-run the calls recorded in this event store (a SQLite file, a "
                     "server's data directory or a postgresql:// URL) as they happened under "
                     "the policies, beside the store's own response times")
    sim.add_argument("--from", dest="start", metavar="T",
                     help="with --from-store: calls received at or after T (ISO 8601, offset)")
    sim.add_argument("--to", dest="end", metavar="T",
                     help="with --from-store: calls received before T (ISO 8601, offset)")
    sim.add_argument("--out", type=Path, metavar="DIR",
                     help="write the table (md, csv), plots (png), calls and event stores here")
    sim.add_argument("--no-progress", action="store_true", help="no progress bar")
    sim.add_argument("--no-plots", action="store_true",
                     help="with --out: write the tables, calls and stores but no plots (a "
                     "script comparing many runs reads the CSV; the plots take about a second)")


def load_scenario(name: str, seed: int) -> Scenario:
    """The scenario named on the command line."""
    if name == "synthetic":
        return synthetic_city(seed)
    path = Path(name)
    if not path.is_dir():
        raise ValueError(f"SCENARIO: {name} is neither 'synthetic' nor a JEMSS directory")
    return load_jemss(path)


def simulate_command(args: argparse.Namespace) -> int:
    """Run the policies, print the table, write the outputs."""
    try:
        scenario = load_scenario(args.scenario, args.seed)
    except (ValueError, OSError) as exc:
        print(f"najda simulate: {exc}", file=sys.stderr)
        return 2
    if args.days <= 0:
        print("najda simulate: --days must be positive", file=sys.stderr)
        return 2
    policies = list(dict.fromkeys(
        (["closest-straight", "closest-road", "coverage"] if args.compare else [])
        + (args.policy or [])
    )) or ["closest-road"]
    if scenario.network is None:
        needing = [p for p in policies if POLICIES[p]().ranking == "road"]
        if needing:
            print(f"najda simulate: {', '.join(needing)} need a road network; "
                  f"{scenario.name} has none", file=sys.stderr)
            return 2
    if args.from_store is not None:
        from najda.simulations.replay_cli import replay_store

        if args.calls is not None:
            print("najda simulate: give --calls or --from-store, not both", file=sys.stderr)
            return 2

        return replay_store(args, scenario, policies)
    if args.start is not None or args.end is not None:
        print("najda simulate: --from and --to go with --from-store", file=sys.stderr)
        return 2
    duration_s = args.days * SECONDS_PER_DAY
    if args.calls is not None:
        try:
            recorded = read_calls(args.calls, list(scenario.priorities), len(scenario.hospitals))
        except (CallListError, OSError) as exc:
            print(f"najda simulate: {exc}", file=sys.stderr)
            return 2
        scenario = _with_calls(scenario, RecordedCalls(tuple(recorded)))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        generated = scenario.calls.calls(duration_s, np.random.default_rng(args.seed))
        write_calls(generated, args.out / "calls.csv")
    if args.reps < 1 or args.jobs < 1:
        print("najda simulate: --reps and --jobs must be at least 1", file=sys.stderr)
        return 2
    seeds = rep_seeds(args.seed, args.reps)
    runs: dict[str, list[PolicyReport]] = {}
    if args.jobs > 1:
        runs = _in_workers(scenario, policies, seeds, args)
    for policy in policies if args.jobs <= 1 else []:
        runs[policy] = []
        for rep, seed in enumerate(seeds):
            store = None
            if args.out is not None and rep == 0:
                store = args.out / f"events-{policy}.sqlite"
                store.unlink(missing_ok=True)
            label = policy if args.reps == 1 else f"{policy} rep {rep + 1}/{args.reps}"
            with _progress(label, duration_s, disabled=args.no_progress) as progress:
                result = run_policy(scenario, policy, days=args.days, seed=seed, store=store,
                                    progress=progress, backend=args.backend)
            runs[policy].append(summarise(scenario, result, args.warm_up_hours * 3600))
    info = RunInfo(scenario.name, tuple(policies), args.seed, tuple(seeds), args.days,
                   args.warm_up_hours, najda_version())
    firsts = [reports[0] for reports in runs.values()]
    print(f"scenario {scenario.name}, {args.days:g} simulated days, seed {args.seed}, "
          f"{args.reps} replication(s), {firsts[0].calls} calls in the first")
    text = replicated.markdown(info, runs)
    print(text.split("\n## ", 1)[0])
    baseline = "closest-road" if "closest-road" in policies else policies[0]
    line = comparison(firsts, baseline, scenario.priority_order()[0]) if args.reps == 1 else None
    paired = replicated.comparisons(runs, baseline, scenario.priority_order())
    if line:
        print(line)
    if args.reps > 1 and len(runs) > 1:
        print(paired)
    if args.out is not None:
        (args.out / "report.md").write_text(
            text + "\n" + (paired if len(runs) > 1 else "") + ("\n" + line + "\n" if line else "")
        )
        replicated.write_csv(runs, args.out / "report.csv")
        if not args.no_plots:
            for path in plot([replicated.pooled(r) for r in runs.values()], scenario, args.out):
                print(f"wrote {path}")
    return 0


def _in_workers(
    scenario: Scenario, policies: list[str], seeds: list[int], args: argparse.Namespace
) -> dict[str, list[PolicyReport]]:
    """Every policy and replication in `args.jobs` worker processes (no progress bars)."""
    jobs = [
        Job(policy, seed, args.days, args.backend, args.warm_up_hours * 3600,
            args.out / f"events-{policy}.sqlite" if args.out is not None and rep == 0 else None)
        for policy in policies for rep, seed in enumerate(seeds)
    ]
    for job in jobs:
        if job.store is not None:
            job.store.unlink(missing_ok=True)
    reports = iter(run_all(scenario, jobs, args.jobs))
    return {policy: [next(reports) for _ in seeds] for policy in policies}


def _with_calls(scenario: Scenario, calls: RecordedCalls) -> Scenario:
    from dataclasses import replace

    return replace(scenario, calls=calls)


class _progress:
    """A tqdm bar over simulated hours (stderr), or nothing."""

    def __init__(self, policy: str, duration_s: float, *, disabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=math.ceil(duration_s / 3600), desc=policy, unit="sim h",
                        disable=disabled, file=sys.stderr, leave=True)

    def __enter__(self) -> Callable[[float], None]:
        def update(t_s: float) -> None:
            hours = int(t_s // 3600)
            if hours > self.bar.n:
                self.bar.update(hours - self.bar.n)

        return update

    def __exit__(self, *exc: object) -> None:
        self.bar.close()
