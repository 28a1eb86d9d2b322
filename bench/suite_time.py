"""The integration suite's wall time (figure) against a before tree's (baseline), alternating.

Runs `pytest tests/integration -q -p no:cacheprovider` (CI=true, so an unavailable PostGIS fails
instead of skipping) in the before tree and in this tree, in turn: before, after, before, after,
... so that the load other processes put on the machine falls on both alike. Each tree runs with
its own virtualenv (`<tree>/.venv`). Per run: wall seconds, CPU seconds of pytest and the
processes it waited for (test servers, CLIs; not the PostgreSQL server's), the 1-minute load
average just before it, and pytest's summary line. Then medians, and the ratio after/before
with the speed-up before/after.

    python -m bench.suite_time --before /work/i16time-before [--rounds 2] [--workers N]

The before tree of issue 16 is commit 57bf749 (`git worktree add --detach <path> 57bf749`, then
`python3 -m venv .venv && .venv/bin/pip install -e ".[dev]"` in it). `--workers N` runs this
tree's suite on N pytest-xdist workers (`--dist loadscope`); the before tree always runs in one
process (it has no worker support).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._stats import banner, log, median, ratio, spread

HERE = Path(__file__).resolve().parent.parent
SUITE = ["tests/integration", "-q", "-p", "no:cacheprovider"]


@dataclass(frozen=True)
class Run:
    """One whole run of the integration suite in one tree."""

    tree: str
    wall_s: float
    cpu_s: float
    load_1m: float
    status: int
    summary: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _summary(output: str) -> str:
    """pytest's last non-empty line (`N passed, M skipped in Xs`)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run_suite(label: str, tree: Path, workers: int, log_dir: Path, index: int) -> Run:
    """Run the integration suite once in `tree`; its output goes to `log_dir`."""
    pytest = tree / ".venv" / "bin" / "pytest"
    args = [str(pytest), *SUITE]
    if workers > 0:
        args += ["-n", str(workers), "--dist", "loadscope"]
    env = {**os.environ, "CI": "true"}
    load = os.getloadavg()[0]
    log(f"{label} run {index}: load {load:.2f}; {' '.join(args)} (in {tree})")
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        args, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    (log_dir / f"{label}-{index}.log").write_text(done.stdout)
    run = Run(label, wall, cpu, load, done.returncode, _summary(done.stdout))
    log(f"  {wall:.1f} s wall, {cpu:.1f} s CPU, exit {done.returncode}: {run.summary}")
    return run


def _line(runs: Sequence[Run], what: str) -> str:
    walls = [r.wall_s for r in runs]
    cpus = [r.cpu_s for r in runs]
    loads = [r.load_1m for r in runs]
    return (
        f"{what}: median {median(walls):.1f} s wall {spread(walls)}, "
        f"{median(cpus):.1f} s CPU {spread(cpus)}; load before runs {spread(loads)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--before", type=Path, required=True, help="the before tree (57bf749)")
    parser.add_argument("--after", type=Path, default=HERE, help="the after tree (this one)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tree, alternating")
    parser.add_argument("--workers", type=int, default=0, help="xdist workers for the after tree")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/najda-suite-time"))
    args = parser.parse_args(argv)
    args.log_dir.mkdir(parents=True, exist_ok=True)
    for tree in (args.before, args.after):
        if not (tree / ".venv" / "bin" / "pytest").exists():
            parser.error(f"{tree} has no .venv with pytest (see this module's docstring)")

    before: list[Run] = []
    after: list[Run] = []
    for index in range(1, args.rounds + 1):
        before.append(run_suite("before", args.before, 0, args.log_dir, index))
        after.append(run_suite("after", args.after, args.workers, args.log_dir, index))

    banner("integration suite wall time (tests/integration, CI=true)")
    for run in [*before, *after]:
        print(
            f"{run.tree:6} load {run.load_1m:5.2f}  {run.wall_s:7.1f} s wall  "
            f"{run.cpu_s:7.1f} s CPU  exit {run.status}  {run.summary}"
        )
    print(_line(before, "before (baseline, 1 process)"))
    workers = f"{args.workers} xdist workers" if args.workers else "1 process"
    print(_line(after, f"after (figure, {workers})"))
    wall_b, wall_a = median([r.wall_s for r in before]), median([r.wall_s for r in after])
    cpu_b, cpu_a = median([r.cpu_s for r in before]), median([r.cpu_s for r in after])
    print(
        f"wall ratio after/before {ratio(wall_a, wall_b):.3f}"
        f" (speed-up {ratio(wall_b, wall_a):.2f}x);"
        f" CPU ratio {ratio(cpu_a, cpu_b):.3f} (speed-up {ratio(cpu_b, cpu_a):.2f}x)"
    )
    print(f"logs: {args.log_dir}")
    failed = [r for r in [*before, *after] if r.status != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
